from django.urls import path

from . import views

urlpatterns = [
    path(
        "patients/<uuid:patient_uuid>/visits/",
        views.PatientVisitsView.as_view(),
        name="api_patient_visits",
    ),
    path("visits/<uuid:visit_uuid>/", views.VisitView.as_view(), name="api_visit"),
    path(
        "visits/<uuid:visit_uuid>/status/", views.VisitStatusView.as_view(), name="api_visit_status"
    ),
    path(
        "visits/<uuid:visit_uuid>/change/", views.VisitChangeView.as_view(), name="api_visit_change"
    ),
    path(
        "visits/<uuid:visit_uuid>/confirm/",
        views.VisitConfirmView.as_view(),
        name="api_visit_confirm",
    ),
]
