"""Concord settings: one module, driven by environment variables.

Three profiles:
- embedded (nothing set): SQLite under .data/, Celery eager, e-mail to the console, DEBUG on.
- production (DATABASE_URL set, or CONCORD_PROFILE=production): every secret from the
  environment, HTTPS, MFA for clinicians, Redis broker.
- test (under pytest): whatever DATABASE_URL says, fast hashing, no HTTPS redirect.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

_under_pytest = "pytest" in sys.modules or os.path.basename(sys.argv[0]).startswith("pytest")
PROFILE = env(
    "CONCORD_PROFILE",
    default="test"
    if _under_pytest
    else ("production" if "DATABASE_URL" in os.environ else "embedded"),
)
EMBEDDED = PROFILE == "embedded"
PRODUCTION = PROFILE == "production"
TESTING = PROFILE == "test"

DEBUG = env.bool("DEBUG", default=EMBEDDED)

if PRODUCTION:
    SECRET_KEY = env("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    SECRET_KEY = env("SECRET_KEY", default="concord-embedded-not-secret-" + "x" * 40)
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "testserver", "[::1]"]
    )

DATA_DIR = BASE_DIR / ".data"
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'concord.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

REDIS_URL = env("REDIS_URL", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "csp",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "core",
    "stories",
    "alliance",
    "referrals",
    "messaging",
    "appointments",
    "prescribing",
    "clinic",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # NUL and lone surrogates in any query or form value: a 400, before any view reads them.
    "core.middleware.RefuseUnstorableInputMiddleware",
    "core.middleware.HtmxRedirectMiddleware",
    "core.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "core.middleware.RequireMFAMiddleware",
    "core.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.concord",
                "messaging.context_processors.unread",
            ],
        },
    },
]

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # allauth's, matching the sign-in address only (never an address not yet verified).
    "core.auth.SignInAddressBackend",
]
PASSWORD_HASHERS = [
    # Argon2id at OWASP's minimum, reasons in core/hashers.py. Django's default Argon2 stays
    # after it: hashes made with its parameters verify and are re-hashed at the next sign-in.
    "core.hashers.ConcordArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests sign in hundreds of times.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
# One address per account, unique across accounts. A new one is only "pending" (it opens no
# sign-in, reset or notice) until confirmed from its own mailbox; then it replaces the old,
# which is told (core.auth.ClinicAccountAdapter.confirm_email).
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_FORMS = {
    "add_email": "core.forms.AddEmailForm",
    "reset_password": "core.forms.ResetPasswordForm",
}
ACCOUNT_ADAPTER = "core.auth.ClinicAccountAdapter"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# allauth's per-account failure limit (5 in 5 minutes, whatever the address) would let anyone
# keep a clinician out by mistyping their address on purpose: failures are limited per address
# here (and per account and address by axes below); per account, sign-ins are slowed instead
# (CONCORD_SIGNIN_SLOWDOWN_*, core.auth).
CONCORD_ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip"}
ACCOUNT_RATE_LIMITS = False if TESTING else CONCORD_ACCOUNT_RATE_LIMITS
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Concord"
MFA_ADAPTER = "core.mfa.ConcordMFAAdapter"
# TOTP secrets and recovery seeds are encrypted with this (Fernet keys, comma-separated; the
# first encrypts). Production must set it; the other profiles use a fixed key for development.
if PRODUCTION:
    CONCORD_MFA_KEY = env("CONCORD_MFA_KEY")
    from cryptography.fernet import Fernet

    try:
        [Fernet(key.strip()) for key in CONCORD_MFA_KEY.split(",")]
    except ValueError as error:
        raise environ.ImproperlyConfigured(
            "CONCORD_MFA_KEY must be Fernet keys: "
            "python3 -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from error
else:
    import base64
    import hashlib

    CONCORD_MFA_KEY = env(
        "CONCORD_MFA_KEY",
        default=base64.urlsafe_b64encode(hashlib.sha256(b"concord-embedded").digest()).decode(),
    )

# Clinicians and admins must set up TOTP before they see any patient.
CONCORD_REQUIRE_MFA = env.bool("CONCORD_REQUIRE_MFA", default=PRODUCTION)

# Lockout: after 5 failures for one account from one address, wait 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "core.auth.axes_username"
AXES_LOCKOUT_TEMPLATE = "account/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)
# The client's address as the audit sees it (X-Forwarded-For behind PROXY_COUNT proxies):
# without it axes counts the proxy's address, and one attacker locks the account everywhere.
AXES_CLIENT_IP_CALLABLE = "core.middleware.client_ip"
# Per account, from any address: after this many failures within the window, each further
# attempt must wait CONCORD_SIGNIN_SLOWDOWN_SECONDS after the last failure. It slows a
# distributed guesser to a few tries a minute and never keeps the real person out for longer
# than that wait. Off under tests unless a test turns it on.
CONCORD_SIGNIN_SLOWDOWN_AFTER = env.int(
    "CONCORD_SIGNIN_SLOWDOWN_AFTER", default=0 if TESTING else 20
)
CONCORD_SIGNIN_SLOWDOWN_WINDOW = timedelta(minutes=15)
CONCORD_SIGNIN_SLOWDOWN_SECONDS = env.int("CONCORD_SIGNIN_SLOWDOWN_SECONDS", default=10)
# allauth's own sign-in limits (30 a minute and 10 failures a minute per address) must see
# the client's address too: behind a proxy they would otherwise count the whole clinic as one
# address, and the 31st sign-in of a busy minute, or anyone's tenth wrong password, would keep
# everyone out for the rest of that minute.
ALLAUTH_TRUSTED_PROXY_COUNT = AXES_IPWARE_PROXY_COUNT

# Sessions: idle timeout and an absolute limit, enforced by core.middleware.
CONCORD_IDLE_TIMEOUT = timedelta(minutes=env.int("CONCORD_IDLE_MINUTES", default=15))
CONCORD_ABSOLUTE_TIMEOUT = timedelta(hours=12)
SESSION_COOKIE_AGE = int(CONCORD_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# A request saves the session only when it changes; the idle clock's last-seen stamp changes
# at most once a minute (core.middleware.SEEN_RESOLUTION). The cookie ends with the browser and
# the row's expiry (last save + the absolute limit) never comes before the absolute limit.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
# Flash messages may name a medicine or a patient: keep them server-side, not in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_SAMESITE = "Lax"

# Invitations: single use, valid for 72 hours.
CONCORD_INVITATION_VALID = timedelta(hours=72)

# Where links in e-mails and notifications point. Embedded (`make run`), they follow the
# address served: `make run` passes its HOST and PORT as CONCORD_HOST and CONCORD_PORT.
_SERVED = f"http://{env('CONCORD_HOST', default='127.0.0.1')}:{env('CONCORD_PORT', default='8000')}"
CONCORD_SITE_URL = env("CONCORD_SITE_URL", default=_SERVED if EMBEDDED else "http://127.0.0.1:8000")

# Access policy: grant providers, asked in order (see core/access.py).
CONCORD_GRANT_PROVIDERS = [
    "core.access.SelfGrants",
    "core.access.CareTeamGrants",
    "referrals.access.ReleaseGrants",
    "referrals.access.ReferralGrants",
]

# The audit trail's chain is an HMAC with this key, and its checkpoints are signed with it
# (core/audit.py). The database never holds it: whoever can write the tables but not read
# this cannot rewrite the trail so that it verifies. Production must set it (32+ characters);
# the other profiles use a fixed development key unless it is set.
if PRODUCTION:
    CONCORD_AUDIT_KEY = env("CONCORD_AUDIT_KEY")
    if len(CONCORD_AUDIT_KEY) < 32:
        raise environ.ImproperlyConfigured(
            "CONCORD_AUDIT_KEY must be at least 32 characters: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
else:
    CONCORD_AUDIT_KEY = env("CONCORD_AUDIT_KEY", default="concord-development-audit-key-not-secret")
# Signed checkpoints of every chain head, one JSON line each, appended every 5 minutes
# (core.tasks.audit_checkpoint). In production make the file append-only for the app's user
# (chattr +a) or point it at a mounted object-lock bucket; see docs/security/threat-model.md.
CONCORD_AUDIT_CHECKPOINT_PATH = env(
    "CONCORD_AUDIT_CHECKPOINT_PATH", default=str(DATA_DIR / "audit-checkpoints.jsonl")
)

HTTPS = env.bool("CONCORD_HTTPS", default=PRODUCTION)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^health/$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
if TESTING and "EMAIL_URL" not in os.environ:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Concord <no-reply@concord.example.org>")

# Celery: Redis in production; embedded runs tasks eagerly with no broker to install.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=TESTING or not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "core.api.authentication.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.IsVerifiedUser"],
    # JSON only: a form or multipart body that fails to parse must not read as an empty one.
    # Nesting deeper than core.api.parsers.MAX_DEPTH, NUL and lone surrogates: a 400.
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Concord API",
    "DESCRIPTION": "Collaborative prescribing: the same services and access policy as the pages.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status` field with its own choices; named here, each gets a
    # stable enum name instead of a hash suffix (which `check --deploy` reports as W001).
    "ENUM_NAME_OVERRIDES": {
        "GoalStatusEnum": "stories.models.Goal.Status",
        "NoteStatusEnum": "stories.models.NarrativeNote.Status",
        "NoteKindEnum": "stories.models.NarrativeNote.Kind",
        "NoteAudienceEnum": "stories.models.NarrativeNote.Audience",
        "ConsultationAudienceEnum": "alliance.models.Consultation.Audience",
        "MedicationStatusEnum": "prescribing.models.Medication.Status",
        "DecisionKindEnum": "prescribing.models.DecisionRecord.Kind",
        "DecisionNeedEnum": "prescribing.models.DecisionRecord.Need",
        # What a decision may be given: every need but "not recorded" (only old decisions).
        "DecisionNeedInputEnum": "prescribing.models.NEEDS_ASKED",
        "VisitKindEnum": "appointments.models.Visit.Kind",
        "DecisionInputKindEnum": ["dose_change", "active", "paused", "stopped"],
        "ObservationKindEnum": "prescribing.models.Observation.Kind",
        "RefillStatusEnum": "prescribing.models.RefillRequest.Status",
        "RefillDecisionStatusEnum": ["approved", "declined", "needs_visit", "sent"],
        "ReferralStatusEnum": "referrals.models.Referral.Status",
        "ThreadPostKindEnum": "referrals.models.ThreadPost.Kind",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
    "loggers": {
        "axes": {"level": "ERROR"},
        # At DEBUG these two write patient information into the log: SQL with its parameters,
        # and template contexts in variable-lookup tracebacks. They stay at INFO whatever
        # LOG_LEVEL says.
        "django.db.backends": {"level": "INFO"},
        "django.template": {"level": "INFO"},
    },
}
