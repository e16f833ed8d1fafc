from django.urls import path

from . import views

urlpatterns = [
    path(
        "patients/<uuid:patient_uuid>/fhir/", views.FhirExportView.as_view(), name="api_fhir_export"
    ),
    path(
        "messages/<uuid:conversation_uuid>/",
        views.ConversationView.as_view(),
        name="api_conversation",
    ),
]
