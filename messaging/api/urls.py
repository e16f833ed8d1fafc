from django.urls import path

from . import views

urlpatterns = [
    path("messages/", views.InboxView.as_view(), name="api_messages"),
    path(
        "messages/<uuid:conversation_uuid>/",
        views.ConversationView.as_view(),
        name="api_conversation",
    ),
    path(
        "patients/<uuid:patient_uuid>/messages/",
        views.PatientConversationsView.as_view(),
        name="api_patient_messages",
    ),
]
