"""Two-factor secrets at rest: allauth's TOTP secrets and recovery seeds, encrypted.

allauth stores them in `Authenticator.data` through its adapter's `encrypt`/`decrypt` hook.
The key comes from the environment (CONCORD_MFA_KEY, Fernet keys, comma-separated: the first
encrypts, every one decrypts, so a key can be rotated). A database dump alone then gives an
attacker no second factor.
"""

from functools import cache

from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MARK = "fernet:"


@cache
def _fernet(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])
    except ValueError as error:
        raise ImproperlyConfigured(
            "CONCORD_MFA_KEY must be Fernet keys (32 url-safe base64 bytes), comma-separated."
        ) from error


def encrypt(text: str) -> str:
    return MARK + _fernet(settings.CONCORD_MFA_KEY).encrypt(text.encode()).decode()


def decrypt(value: str) -> str:
    """Raises ValueError for a value not encrypted with one of the configured keys."""
    if not value.startswith(MARK):
        raise ValueError("An authenticator secret is stored unencrypted.")
    try:
        return _fernet(settings.CONCORD_MFA_KEY).decrypt(value[len(MARK) :].encode()).decode()
    except InvalidToken as error:
        raise ValueError("An authenticator secret does not open with CONCORD_MFA_KEY.") from error


class ConcordMFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt(encrypted_text)
