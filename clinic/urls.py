from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/<uuid:patient_uuid>/", views.patient_detail, name="patient_detail"),
    path("me/", views.patient_home, name="patient_home"),
    path("patients/<uuid:patient_uuid>/thread/", views.thread, name="thread"),
]
