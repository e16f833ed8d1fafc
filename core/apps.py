from django.apps import AppConfig


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
