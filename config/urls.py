from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import access
from core import views as core_views
from core.api.permissions import IsVerifiedUser
from core.views import health

# The schema and its viewer describe the API; they carry no patient data, but a map of every
# operation helps nobody outside the clinic: signed-in users only (session or API token). An
# anonymous browser is sent to sign in; an anonymous API client gets the API's refusal.
schema_view = access.declare("no patient data: API description, signed-in users")(
    SpectacularAPIView.as_view(permission_classes=[IsVerifiedUser])
)
docs_view = access.declare("no patient data: API description, signed-in users")(
    login_required(
        SpectacularSwaggerSplitView.as_view(
            url_name="api_schema", permission_classes=[IsVerifiedUser]
        )
    )
)

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    # Before allauth's own: one address per account, changed only once verified (core.views).
    path("accounts/email/", core_views.account_email, name="account_email"),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", schema_view, name="api_schema"),
    path("api/docs/", docs_view, name="api_docs"),
    path("api/v1/", include("core.api.urls")),
    path("", include("core.urls")),
    path("", include("stories.urls")),
    path("", include("prescribing.urls")),
    path("", include("alliance.urls")),
    path("", include("referrals.urls")),
    path("", include("messaging.urls")),
    path("", include("appointments.urls")),
    path("api/v1/", include("stories.api.urls")),
    path("api/v1/", include("prescribing.api.urls")),
    path("api/v1/", include("alliance.api.urls")),
    path("api/v1/", include("referrals.api.urls")),
    path("api/v1/", include("messaging.api.urls")),
    path("api/v1/", include("appointments.api.urls")),
    path("api/v1/", include("clinic.api.urls")),
    path("", include("clinic.urls")),
]

handler404 = "core.views.not_found"
