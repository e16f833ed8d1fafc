"""The Django admin: superusers only, and only what running the clinic's software needs.

An administrator never reads patient information here (patients' accounts are not listed,
reminders show no recipient), never sets or sees a password (a reset e-mail goes to the
person), never mints a token for anyone (tokens are made by their owner on the account page)
and never sees an authenticator's secret. Every change to an account asks why, and is
audited with who and why (core.credentials).
"""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from axes.models import AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from . import credentials
from .models import Nudge, Practice, Role, User

REASON_HELP = (
    "Why you are making this change (kept in the audit trail). "
    "No clinical information, please: say 'lost phone', not why they were seen."
)


def _superuser_only(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_superuser)


def _login(request, extra_context=None):
    """Admins sign in through the one sign-in page (lockout, MFA), never the admin's own form."""
    if not request.user.is_authenticated:
        return redirect(
            f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}"
        )
    if _superuser_only(request):
        return redirect("admin:index")
    raise PermissionDenied


admin.site.has_permission = _superuser_only
admin.site.login = _login
admin.site.site_header = "Concord administration"
admin.site.site_title = "Concord"

# Roles are the User's own field; addresses change through the person's own account pages.
# axes keeps its lockouts (AccessAttempt: an admin may lift one) but not its history of every
# sign-in, which would tell an admin when each patient uses Concord.
for model in (Group, EmailAddress, Authenticator, AccessLog, AccessFailureLog):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class AdminUserCreationForm(forms.ModelForm):
    reason = forms.CharField(max_length=300, help_text=REASON_HELP)

    class Meta:
        model = User
        fields = ("email", "full_name", "role", "practice")

    def clean_role(self):
        role = self.cleaned_data["role"]
        if role == Role.PATIENT:
            raise ValidationError("Patients get their account by invitation from their clinician.")
        return role


class AdminUserChangeForm(forms.ModelForm):
    send_password_reset = forms.BooleanField(
        required=False,
        label="Send a password reset e-mail",
        help_text="To the address above. You never see or set the password.",
    )
    reset_mfa = forms.BooleanField(
        required=False,
        label="Reset two-factor authentication",
        help_text="Removes their authenticator (say, a lost phone) and ends their API tokens; "
        "they set it up again at their next sign-in.",
    )
    reason = forms.CharField(max_length=300, help_text=REASON_HELP)

    class Meta:
        model = User
        fields = ("email", "full_name", "role", "practice", "is_active", "is_staff", "is_superuser")


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminUserCreationForm
    change_password_form = None
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "practice", "is_active"]
    list_filter = ["role", "practice", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email"]}),
        ("Person", {"fields": ["full_name", "role", "practice"]}),
        (
            "Status",
            {"fields": ["is_active", "is_staff", "is_superuser", "last_login", "date_joined"]},
        ),
        ("Sign-in help", {"fields": ["send_password_reset", "reset_mfa"]}),
        ("Why", {"fields": ["reason"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "full_name", "role", "practice", "reason"],
                "description": "The person gets an e-mail to choose their own password.",
            },
        ),
    ]
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = []

    def get_queryset(self, request):
        # Patients' accounts are theirs and their clinicians' business, not the admin's.
        return super().get_queryset(request).exclude(role=Role.PATIENT)

    def get_urls(self):
        # No set-password form: BaseUserAdmin's <id>/password/ is left out.
        return [url for url in super().get_urls() if "password" not in str(url.pattern)]

    def user_change_password(self, request, id, form_url=""):
        raise PermissionDenied

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead: an account's audit rows must keep pointing at someone.
        return False

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data["reason"]
        if not change:
            obj.set_unusable_password()
            obj.save()
            credentials.account_create_record(actor=request.user, user=obj, reason=reason)
            credentials.password_reset_send(
                actor=request.user,
                user=obj,
                reason="new account: choose a password",
                request=request,
            )
            return
        obj.save()
        changed = [
            name
            for name in form.changed_data
            if name not in {"reason", "send_password_reset", "reset_mfa"}
        ]
        if changed:
            credentials.account_change_record(
                actor=request.user, user=obj, changed=changed, reason=reason
            )
        if form.cleaned_data.get("reset_mfa"):
            credentials.mfa_reset(actor=request.user, user=obj, reason=reason)
            self.message_user(request, "Two-factor authentication was reset.", messages.SUCCESS)
        if form.cleaned_data.get("send_password_reset"):
            credentials.password_reset_send(
                actor=request.user, user=obj, reason=reason, request=request
            )
            self.message_user(
                request, f"A password reset e-mail was sent to {obj.email}.", messages.SUCCESS
            )


@admin.register(Nudge)
class NudgeAdmin(admin.ModelAdmin):
    """Reminders sent, pending and failed: delivery status only, never who they went to."""

    list_display = [
        "kind",
        "recipient_role",
        "due_on",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "kind", "essential"]
    fields = [
        "kind",
        "recipient_role",
        "due_on",
        "essential",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    readonly_fields = fields
    actions = ["retry"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recipient")

    @admin.display(description="recipient")
    def recipient_role(self, obj):
        return obj.recipient.get_role_display()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Try the selected failed reminders again")
    def retry(self, request, queryset):
        from django.utils import timezone

        count = queryset.filter(status=Nudge.Status.FAILED).update(
            status=Nudge.Status.PENDING, attempts=0, deliver_after=timezone.now()
        )
        self.message_user(request, f"{count} reminder(s) will be tried again.")
