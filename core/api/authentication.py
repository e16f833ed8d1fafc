"""API token authentication: `Authorization: Token <key>`, against core.ApiToken."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from core import credentials


class ApiTokenAuthentication(BaseAuthentication):
    """A live token of an active owner whose password has not changed since it was made.

    A clinician whose account must have TOTP (CONCORD_REQUIRE_MFA) and has none is refused,
    whatever the token.
    """

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Give one token after the word Token.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed("This token is not valid.") from error
        token = credentials.api_token_authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed(
                "This token is not valid: it is unknown, expired or revoked, or its owner's "
                "password has changed since it was made."
            )
        if credentials.mfa_required(token.user):
            from allauth.mfa.utils import is_mfa_enabled

            if not is_mfa_enabled(token.user):
                raise exceptions.AuthenticationFailed("Set up two-factor authentication first.")
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


try:
    from drf_spectacular.extensions import OpenApiAuthenticationExtension
except ImportError:  # pragma: no cover - the schema is optional
    pass
else:

    class ApiTokenScheme(OpenApiAuthenticationExtension):
        target_class = "core.api.authentication.ApiTokenAuthentication"
        name = "tokenAuth"

        def get_security_definition(self, auto_schema):
            return {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Token <key>`: a personal token made on the account page.",
            }
