from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/<uuid:patient_uuid>/", views.patient_detail, name="patient_detail"),
    path("me/", views.patient_home, name="patient_home"),
    path("patients/<uuid:patient_uuid>/thread/", views.thread, name="thread"),
    path("patients/<uuid:patient_uuid>/visit/", views.visit, name="visit"),
    path("patients/<uuid:patient_uuid>/visit/record/", views.visit_action, name="visit_action"),
    path("patients/<uuid:patient_uuid>/visit/pdf/", views.visit_pdf, name="visit_pdf"),
    path("patients/<uuid:patient_uuid>/shared/", views.shared, name="shared"),
    path("today/", views.today, name="today"),
    path("caseload/", views.caseload, name="caseload"),
    path("patients/<uuid:patient_uuid>/fhir/", views.fhir_export, name="fhir_export"),
    path("messages/<uuid:conversation_uuid>/", views.conversation, name="conversation"),
    path(
        "messages/<uuid:conversation_uuid>/record/",
        views.conversation_record,
        name="conversation_record",
    ),
]
