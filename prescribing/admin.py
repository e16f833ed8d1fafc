from django.contrib import admin

from .models import SupplyPolicy


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
