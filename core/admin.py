from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm

from .models import Nudge, Practice, User


class AdminUserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role", "practice")


class AdminUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role", "practice", "is_active", "is_staff", "is_superuser")


# Admins sign in through the one sign-in page (lockout, MFA), never the admin's own form.
admin.site.login = login_required(admin.site.login)
admin.site.site_header = "Concord administration"
admin.site.site_title = "Concord"


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminUserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "practice", "is_active"]
    list_filter = ["role", "practice", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "role", "practice"]}),
        (
            "Status",
            {"fields": ["is_active", "is_staff", "is_superuser", "last_login", "date_joined"]},
        ),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "full_name", "role", "practice", "password1", "password2"],
            },
        ),
    ]
    readonly_fields = ["last_login", "date_joined"]


@admin.register(Nudge)
class NudgeAdmin(admin.ModelAdmin):
    """Reminders sent, pending and failed. Titles carry no clinical content by design."""

    list_display = ["kind", "recipient", "due_on", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "kind", "essential"]
    search_fields = ["recipient__email", "subject"]
    readonly_fields = [f.name for f in Nudge._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Try the selected failed reminders again")
    def retry(self, request, queryset):
        from django.utils import timezone

        count = queryset.filter(status=Nudge.Status.FAILED).update(
            status=Nudge.Status.PENDING, attempts=0, deliver_after=timezone.now()
        )
        self.message_user(request, f"{count} reminder(s) will be tried again.")
