from django.apps import AppConfig
from django.db.models.signals import post_migrate

# The sweeps each domain app once had its own beat entry for: the registry's sweep replaces them.
_RETIRED_SWEEPS = (
    "prescribing.tasks.sweep_refill_nudges",
    "alliance.tasks.sweep_check_in_nudges",
    "referrals.tasks.sweep_referral_and_release_nudges",
)


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "People and access"

    def ready(self):
        from allauth.account import signals as account_signals
        from allauth.mfa import signals as mfa_signals

        from . import checks  # noqa: F401  registers the system checks

        # allauth's own flows tell us of these; a password changed by any other path (the
        # shell, set_password) ends tokens all the same: see credentials.api_token_authenticate.
        for signal in (
            account_signals.password_changed,
            account_signals.password_reset,
            account_signals.password_set,
        ):
            signal.connect(_end_tokens_on_password, dispatch_uid=f"concord-tokens-{id(signal)}")
        mfa_signals.authenticator_removed.connect(
            _end_tokens_on_mfa_removed, dispatch_uid="concord-tokens-mfa-removed"
        )

        from . import signins

        signins.connect()  # sign-ins and failed sign-ins go into the audit trail

        post_migrate.connect(_reminder_beat, sender=self, dispatch_uid="concord-reminder-beat")


def _reminder_beat(sender, using="default", **kwargs):
    """One beat entry per sweep interval the registered reminder kinds ask for (after every
    migrate, so a new kind's interval needs no migration). An entry the admin has edited keeps
    its edit; the per-app sweeps it replaces are removed."""
    import json

    from django.db import connections
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from . import nudges

    tables = set(connections[using].introspection.table_names())
    if not {PeriodicTask._meta.db_table, IntervalSchedule._meta.db_table} <= tables:
        return
    for minutes in nudges.sweep_intervals():
        interval, _ = IntervalSchedule.objects.using(using).get_or_create(
            every=minutes, period=IntervalSchedule.MINUTES
        )
        PeriodicTask.objects.using(using).get_or_create(
            name=f"Reminders swept every {minutes} minutes",
            defaults={
                "task": "core.tasks.sweep_nudges",
                "interval": interval,
                "kwargs": json.dumps({"every": minutes}),
            },
        )
    for task in PeriodicTask.objects.using(using).filter(task__in=_RETIRED_SWEEPS):
        task.delete()


def _end_tokens_on_password(sender, request=None, user=None, **kwargs):
    from .credentials import api_tokens_revoke_all
    from .models import ApiToken

    if user is not None:
        api_tokens_revoke_all(user=user, because=ApiToken.EndedBecause.PASSWORD, actor=user)


def _end_tokens_on_mfa_removed(sender, request=None, user=None, authenticator=None, **kwargs):
    from .credentials import api_tokens_revoke_all
    from .models import ApiToken

    if user is not None:
        api_tokens_revoke_all(user=user, because=ApiToken.EndedBecause.MFA_RESET, actor=user)
