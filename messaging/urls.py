from django.urls import path

from . import views

urlpatterns = [
    path("messages/", views.inbox, name="messages_inbox"),
    path(
        "patients/<uuid:patient_uuid>/messages/",
        views.patient_messages,
        name="patient_messages",
    ),
    path("patients/<uuid:patient_uuid>/messages/new/", views.compose, name="message_compose"),
]
