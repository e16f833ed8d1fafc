from django.contrib import admin

from .models import FormularyEntry, InteractionRule, SupplyPolicy


@admin.register(SupplyPolicy)
class SupplyPolicyAdmin(admin.ModelAdmin):
    """Lead times and state limits: clinic policy, no patient information."""

    list_display = [
        "state",
        "schedule",
        "lead_days",
        "lead_in_business_days",
        "max_refills",
        "validity_months",
        "note",
    ]
    list_filter = ["schedule"]
    search_fields = ["state", "note"]


@admin.register(FormularyEntry)
class FormularyEntryAdmin(admin.ModelAdmin):
    """The clinic's formulary: schedules and classes that new medicines take. No patient data."""

    list_display = ["name", "rxnorm_code", "schedule", "drug_class", "form", "active"]
    list_filter = ["schedule", "drug_class", "active"]
    search_fields = ["name", "rxnorm_code"]


@admin.register(InteractionRule)
class InteractionRuleAdmin(admin.ModelAdmin):
    """Duplicate and combination rules checked before a medicine starts."""

    list_display = ["code", "kind", "class_a", "class_b", "active"]
    list_filter = ["kind", "active"]
