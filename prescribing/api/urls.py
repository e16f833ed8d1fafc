from django.urls import path

from . import views

urlpatterns = [
    path(
        "patients/<uuid:patient_uuid>/medications/",
        views.MedicationListView.as_view(),
        name="api_medication_list",
    ),
    path(
        "patients/<uuid:patient_uuid>/observations/",
        views.PatientObservationListView.as_view(),
        name="api_patient_observations",
    ),
    path(
        "medications/<uuid:medication_uuid>/",
        views.MedicationDetailView.as_view(),
        name="api_medication_detail",
    ),
    path(
        "medications/<uuid:medication_uuid>/decisions/",
        views.DecisionView.as_view(),
        name="api_medication_decisions",
    ),
    path(
        "medications/<uuid:medication_uuid>/review/",
        views.ReviewView.as_view(),
        name="api_medication_review",
    ),
    path(
        "medications/<uuid:medication_uuid>/prescriptions/",
        views.PrescriptionListView.as_view(),
        name="api_prescriptions",
    ),
    path(
        "medications/<uuid:medication_uuid>/fills/",
        views.FillListView.as_view(),
        name="api_fills",
    ),
    path(
        "medications/<uuid:medication_uuid>/observations/",
        views.ObservationView.as_view(),
        name="api_observations",
    ),
    path(
        "medications/<uuid:medication_uuid>/refill-requests/",
        views.RefillRequestView.as_view(),
        name="api_refill_requests",
    ),
    path("refill-requests/", views.RefillQueueView.as_view(), name="api_refill_queue"),
    path(
        "refill-requests/<uuid:request_uuid>/decide/",
        views.RefillDecideView.as_view(),
        name="api_refill_decide",
    ),
    path("formulary/", views.FormularyView.as_view(), name="api_formulary"),
]
