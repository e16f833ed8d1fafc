from django.urls import path

from . import views

urlpatterns = [
    path("referrals/", views.ReferralInboxView.as_view(), name="api_referral_inbox"),
    path(
        "referrals/<uuid:referral_uuid>/",
        views.ReferralDetailView.as_view(),
        name="api_referral",
    ),
    path(
        "patients/<uuid:patient_uuid>/referrals/",
        views.ReferralListView.as_view(),
        name="api_referrals",
    ),
    path(
        "referrals/<uuid:referral_uuid>/move/",
        views.ReferralMoveView.as_view(),
        name="api_referral_move",
    ),
    path(
        "patients/<uuid:patient_uuid>/releases/",
        views.ReleaseListView.as_view(),
        name="api_releases",
    ),
    path("releases/<uuid:release_uuid>/", views.ReleaseDetailView.as_view(), name="api_release"),
    path(
        "releases/<uuid:release_uuid>/revoke/",
        views.ReleaseRevokeView.as_view(),
        name="api_release_revoke",
    ),
    path("patients/<uuid:patient_uuid>/thread/", views.ThreadView.as_view(), name="api_thread"),
    path(
        "patients/<uuid:patient_uuid>/thread/readers/",
        views.ThreadReadersView.as_view(),
        name="api_thread_readers",
    ),
]
