from django.urls import path

from . import views

urlpatterns = [
    path("help/", views.crisis_help, name="crisis_help"),
    path("patients/<uuid:patient_uuid>/goals/", views.goals, name="goals"),
    path("patients/<uuid:patient_uuid>/goals/new/", views.goal_create, name="goal_create"),
    path("goals/<uuid:goal_uuid>/", views.goal_edit, name="goal_edit"),
    path("goals/<uuid:goal_uuid>/rate/", views.goal_rate, name="goal_rate"),
    path("goals/<uuid:goal_uuid>/status/", views.goal_status, name="goal_status"),
    path("patients/<uuid:patient_uuid>/notes/", views.notes, name="notes"),
    path("patients/<uuid:patient_uuid>/notes/new/", views.note_create, name="note_create"),
    path("notes/<uuid:note_uuid>/", views.note_edit, name="note_edit"),
    path(
        "notes/<uuid:note_uuid>/entered-in-error/",
        views.note_entered_in_error,
        name="note_entered_in_error",
    ),
    path("patients/<uuid:patient_uuid>/summary/", views.summary_edit, name="summary_edit"),
    path("patients/<uuid:patient_uuid>/safety-plan/", views.safety_plan, name="safety_plan"),
    path(
        "patients/<uuid:patient_uuid>/safety-plan/pdf/",
        views.safety_plan_pdf,
        name="safety_plan_pdf",
    ),
    path(
        "patients/<uuid:patient_uuid>/summary/respond/",
        views.summary_respond,
        name="summary_respond",
    ),
]
