from django.urls import path

from . import views

urlpatterns = [
    path("practices/", views.practice_list, name="practice_list"),
    path("practices/<uuid:practice_uuid>/", views.practice_settings, name="practice_settings"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("notifications/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
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
    path("account/", views.account_page, name="account_page"),
    path("account/notifications/", views.notification_settings, name="notification_settings"),
    path("account/about-you/", views.self_description, name="self_description"),
    path("account/tokens/", views.api_token_create, name="api_token_create"),
    path(
        "account/tokens/<uuid:token_uuid>/revoke/",
        views.api_token_revoke,
        name="api_token_revoke",
    ),
]
