from django.urls import path

from . import views

urlpatterns = [
    path("patients/<uuid:patient_uuid>/medications/", views.medications, name="medications"),
    path(
        "patients/<uuid:patient_uuid>/medications/new/", views.medication_new, name="medication_new"
    ),
    path(
        "patients/<uuid:patient_uuid>/medications/pdf/",
        views.medications_pdf,
        name="medications_pdf",
    ),
    path("medications/<uuid:medication_uuid>/", views.medication_detail, name="medication_detail"),
    path(
        "medications/<uuid:medication_uuid>/decide/",
        views.medication_decide,
        name="medication_decide",
    ),
    path(
        "medications/<uuid:medication_uuid>/review/",
        views.medication_review,
        name="medication_review",
    ),
    path(
        "medications/<uuid:medication_uuid>/switch/",
        views.medication_switch,
        name="medication_switch",
    ),
    path(
        "medications/<uuid:medication_uuid>/purpose/",
        views.medication_purpose,
        name="medication_purpose",
    ),
    path(
        "medications/<uuid:medication_uuid>/observations/",
        views.observation_create,
        name="observation_create",
    ),
    path(
        "medications/<uuid:medication_uuid>/prescriptions/",
        views.prescription_create,
        name="prescription_create",
    ),
    path("medications/<uuid:medication_uuid>/fills/", views.fill_create, name="fill_create"),
    path("medications/<uuid:medication_uuid>/refill/", views.refill_request, name="refill_request"),
    path("refills/", views.refill_queue, name="refill_queue"),
    path(
        "account/prescribing-pattern/",
        views.my_prescribing_pattern,
        name="my_prescribing_pattern",
    ),
    path("refills/<uuid:request_uuid>/decide/", views.refill_decide, name="refill_decide"),
    path("refills/<uuid:request_uuid>/renew/", views.refill_renew, name="refill_renew"),
]
