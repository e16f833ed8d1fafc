from django.urls import path

from . import views

urlpatterns = [
    path("patients/<uuid:patient_uuid>/goals/", views.GoalListView.as_view(), name="api_goal_list"),
    path("goals/<uuid:goal_uuid>/", views.GoalDetailView.as_view(), name="api_goal_detail"),
    path("goals/<uuid:goal_uuid>/status/", views.GoalStatusView.as_view(), name="api_goal_status"),
    path(
        "goals/<uuid:goal_uuid>/ratings/", views.GoalRatingView.as_view(), name="api_goal_ratings"
    ),
    path("patients/<uuid:patient_uuid>/notes/", views.NoteListView.as_view(), name="api_note_list"),
    path("notes/<uuid:note_uuid>/", views.NoteDetailView.as_view(), name="api_note_detail"),
    path(
        "notes/<uuid:note_uuid>/entered-in-error/",
        views.NoteErrorView.as_view(),
        name="api_note_error",
    ),
    path("patients/<uuid:patient_uuid>/summary/", views.SummaryView.as_view(), name="api_summary"),
    path(
        "patients/<uuid:patient_uuid>/summary/response/",
        views.SummaryResponseView.as_view(),
        name="api_summary_response",
    ),
    path(
        "patients/<uuid:patient_uuid>/safety-plan/",
        views.SafetyPlanView.as_view(),
        name="api_safety_plan",
    ),
]
