from django.urls import path

from . import console, views

urlpatterns = [
    path("", views.home, name="home"),
    path("clinic/admin/", console.console_home, name="console_home"),
    path("clinic/admin/invite/", console.console_invite, name="console_invite"),
    path("clinic/admin/supply/", console.console_supply, name="console_supply"),
    path("clinic/admin/supply/edit/", console.console_supply_edit, name="console_supply_edit"),
    path("clinic/admin/alliance/", console.console_alliance, name="console_alliance"),
    path("clinic/admin/terms/", console.console_terms, name="console_terms"),
    path("clinic/admin/terms/remove/", console.console_term_remove, name="console_term_remove"),
    path(
        "clinic/admin/invitations/<uuid:invitation_uuid>/withdraw/",
        console.console_invitation_withdraw,
        name="console_invitation_withdraw",
    ),
    path("clinic/admin/people/<uuid:person_uuid>/", console.console_person, name="console_person"),
    path(
        "clinic/admin/people/<uuid:person_uuid>/active/",
        console.console_person_active,
        name="console_person_active",
    ),
    path(
        "clinic/admin/people/<uuid:person_uuid>/two-factor/",
        console.console_person_mfa_reset,
        name="console_person_mfa_reset",
    ),
    path(
        "clinic/admin/people/<uuid:person_uuid>/lead/",
        console.console_person_lead,
        name="console_person_lead",
    ),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/<uuid:patient_uuid>/", views.patient_detail, name="patient_detail"),
    path("me/", views.patient_home, name="patient_home"),
    path("patients/<uuid:patient_uuid>/thread/", views.thread, name="thread"),
    path("patients/<uuid:patient_uuid>/visit/", views.visit, name="visit"),
    path("patients/<uuid:patient_uuid>/visit/record/", views.visit_action, name="visit_action"),
    path("patients/<uuid:patient_uuid>/visit/pdf/", views.visit_pdf, name="visit_pdf"),
    path("patients/<uuid:patient_uuid>/shared/", views.shared, name="shared"),
    path("today/", views.today, name="today"),
    path("equity/", views.equity_view, name="equity"),
    path("caseload/", views.caseload, name="caseload"),
    path("patients/<uuid:patient_uuid>/fhir/", views.fhir_export, name="fhir_export"),
    path("messages/<uuid:conversation_uuid>/", views.conversation, name="conversation"),
    path(
        "messages/<uuid:conversation_uuid>/record/",
        views.conversation_record,
        name="conversation_record",
    ),
]
