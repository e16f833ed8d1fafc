from django.urls import path

from . import views

# One conversation (`api_conversation`) is routed from clinic's API, which says who reads it.

urlpatterns = [
    path("messages/", views.InboxView.as_view(), name="api_messages"),
    path(
        "patients/<uuid:patient_uuid>/messages/",
        views.PatientConversationsView.as_view(),
        name="api_patient_messages",
    ),
]
