from django.urls import path

from . import views

urlpatterns = [
    path("instruments/", views.InstrumentListView.as_view(), name="api_instruments"),
    path(
        "patients/<uuid:patient_uuid>/check-ins/",
        views.CheckInListView.as_view(),
        name="api_check_ins",
    ),
    path(
        "patients/<uuid:patient_uuid>/check-ins/send/",
        views.CheckInSendView.as_view(),
        name="api_check_in_send",
    ),
    path("check-ins/<uuid:check_in_uuid>/", views.CheckInDetailView.as_view(), name="api_check_in"),
    path(
        "check-ins/<uuid:check_in_uuid>/submit/",
        views.CheckInSubmitView.as_view(),
        name="api_check_in_submit",
    ),
    path(
        "patients/<uuid:patient_uuid>/alliance/",
        views.AllianceHistoryView.as_view(),
        name="api_alliance",
    ),
    path("patients/<uuid:patient_uuid>/flags/", views.FlagListView.as_view(), name="api_flags"),
    path(
        "flags/<uuid:flag_uuid>/acknowledge/",
        views.FlagAcknowledgeView.as_view(),
        name="api_flag_acknowledge",
    ),
    path(
        "patients/<uuid:patient_uuid>/consultations/",
        views.ConsultationListView.as_view(),
        name="api_consultations",
    ),
]
