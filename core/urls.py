from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("audit/", views.audit_search, name="audit_search"),
    path("me/record-views/", views.record_views, name="record_views"),
    path("patients/<uuid:patient_uuid>/invite/", views.patient_invite, name="patient_invite"),
    path(
        "patients/<uuid:patient_uuid>/email/",
        views.patient_email_change,
        name="patient_email_change",
    ),
    path("email-change/<str:token>/", views.patient_email_confirm, name="patient_email_confirm"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
