from django.urls import path

from . import views

urlpatterns = [
    path("patients/<uuid:patient_uuid>/check-ins/", views.check_ins, name="check_ins"),
    path(
        "patients/<uuid:patient_uuid>/check-ins/start/", views.check_in_start, name="check_in_start"
    ),
    path("patients/<uuid:patient_uuid>/check-ins/new/", views.check_in_new, name="check_in_new"),
    path("check-ins/<uuid:check_in_uuid>/", views.check_in, name="check_in"),
    path("patients/<uuid:patient_uuid>/alliance/", views.alliance, name="alliance"),
    path(
        "patients/<uuid:patient_uuid>/alliance/consultations/",
        views.consultation_create,
        name="consultation_create",
    ),
    path("flags/<uuid:flag_uuid>/acknowledge/", views.flag_acknowledge, name="flag_acknowledge"),
]
