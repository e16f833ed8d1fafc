from django.urls import path

from . import views

urlpatterns = [
    path("referrals/", views.referral_inbox, name="referral_inbox"),
    path("referrals/<uuid:referral_uuid>/", views.referral, name="referral"),
    path("referrals/<uuid:referral_uuid>/move/", views.referral_move, name="referral_move"),
    path(
        "patients/<uuid:patient_uuid>/referrals/", views.patient_referrals, name="patient_referrals"
    ),
    path("patients/<uuid:patient_uuid>/releases/", views.releases, name="releases"),
    path("patients/<uuid:patient_uuid>/releases/new/", views.release_new, name="release_new"),
    path("releases/<uuid:release_uuid>/", views.release, name="release"),
    path("releases/<uuid:release_uuid>/revoke/", views.release_revoke, name="release_revoke"),
    path("releases/<uuid:release_uuid>/pdf/", views.release_pdf, name="release_pdf"),
]
