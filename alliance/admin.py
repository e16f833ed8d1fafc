from django.contrib import admin

from .models import AllianceSettings, Instrument


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    """Definitions are imported (manage.py import_instrument), never edited: responses point at them."""

    list_display = ["name", "key", "version", "kind", "active"]
    list_filter = ["kind", "active"]
    fields = ["name", "key", "version", "kind", "licence_note", "active", "definition"]
    readonly_fields = ["name", "key", "version", "kind", "licence_note", "definition"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AllianceSettings)
class AllianceSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "show_alliance_scores_to_patients"]

    def has_add_permission(self, request):
        return not AllianceSettings.objects.exists()
