from django.urls import path

from . import views

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api_me"),
    path("me/self-description/", views.SelfDescriptionView.as_view(), name="api_self_description"),
    path("me/record-views/", views.RecordViewsView.as_view(), name="api_record_views"),
    path("me/notifications/", views.NotificationListView.as_view(), name="api_notifications"),
    path(
        "me/notifications/read/",
        views.NotificationsReadView.as_view(),
        name="api_notifications_read",
    ),
    path("patients/", views.PatientListView.as_view(), name="api_patient_list"),
    path(
        "patients/<uuid:patient_uuid>/",
        views.PatientDetailView.as_view(),
        name="api_patient_detail",
    ),
]
