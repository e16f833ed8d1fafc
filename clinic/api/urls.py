from django.urls import path

from . import views

urlpatterns = [
    path("caseload/", views.CaseloadView.as_view(), name="api_caseload"),
    path(
        "patients/<uuid:patient_uuid>/fhir/", views.FhirExportView.as_view(), name="api_fhir_export"
    ),
]
