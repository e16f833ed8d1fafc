from django.urls import path

from . import views

urlpatterns = [
    path("caseload/", views.CaseloadView.as_view(), name="api_caseload"),
    path(
        "patients/<uuid:patient_uuid>/fhir/", views.FhirExportView.as_view(), name="api_fhir_export"
    ),
    path("equity/", views.EquityView.as_view(), name="api_equity"),
    path("equity/fhir/", views.EquityMeasureReportView.as_view(), name="api_equity_fhir"),
    path(
        "messages/<uuid:conversation_uuid>/",
        views.ConversationView.as_view(),
        name="api_conversation",
    ),
]
