from django.urls import path

from . import views

urlpatterns = [
    path("patients/<uuid:patient_uuid>/visits/", views.patient_visits, name="patient_visits"),
    path("patients/<uuid:patient_uuid>/visits/book/", views.visit_book, name="visit_book"),
    path("patients/<uuid:patient_uuid>/visits/cadence/", views.cadence_set, name="visit_cadence"),
    path("visits/<uuid:visit_uuid>/", views.visit_detail, name="visit_detail"),
    path("visits/<uuid:visit_uuid>/calendar.ics", views.visit_calendar, name="visit_calendar"),
    path("visits/<uuid:visit_uuid>/record/", views.visit_record, name="visit_record"),
    path("visits/<uuid:visit_uuid>/change/", views.visit_change_ask, name="visit_change_ask"),
    path(
        "visits/<uuid:visit_uuid>/confirm/", views.visit_change_confirm, name="visit_change_confirm"
    ),
]
