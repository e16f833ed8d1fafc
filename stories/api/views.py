"""The stories API: the same selectors, services and access policy as the pages."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access
from core.access import Action, Category
from core.api.validation import keep_unsent, valid
from stories import selectors, services

from . import serializers as s

RECORD = "record: stories.selectors.*_get → access.require_record"


def _patient(request, patient_uuid, category, action):
    patient, _ = access.patient_get(request.user, patient_uuid, category, action)
    return patient


class GoalListView(APIView):
    concord_access = f"patient:{Category.GOALS}:{Action.LIST}"

    @extend_schema(responses=s.GoalSerializer(many=True), summary="A patient's goals")
    def get(self, request, patient_uuid):
        patient = _patient(request, patient_uuid, Category.GOALS, Action.LIST)
        return Response(
            s.GoalSerializer(
                selectors.goal_list(actor=request.user, patient=patient), many=True
            ).data
        )

    @extend_schema(
        request=s.GoalInputSerializer,
        responses={201: s.GoalSerializer},
        summary="Add (patient) or propose (clinician) a goal",
    )
    def post(self, request, patient_uuid):
        patient = _patient(request, patient_uuid, Category.GOALS, Action.CREATE)
        data = valid(s.GoalInputSerializer, request.data)
        levels = {k: data.pop(k) for k in list(data) if k.startswith("level_")}
        goal = services.goal_create(actor=request.user, patient=patient, levels=levels, **data)
        return Response(
            s.GoalSerializer(selectors.goal_card(actor=request.user, goal=goal)).data,
            status=status.HTTP_201_CREATED,
        )


class GoalDetailView(APIView):
    concord_access = RECORD

    @extend_schema(responses=s.GoalSerializer, summary="One goal")
    def get(self, request, goal_uuid):
        goal = selectors.goal_get(actor=request.user, goal_uuid=goal_uuid)
        return Response(s.GoalSerializer(selectors.goal_card(actor=request.user, goal=goal)).data)

    @extend_schema(
        request=s.GoalUpdateSerializer,
        responses=s.GoalSerializer,
        summary="Rewrite a goal (409 if stale)",
    )
    def patch(self, request, goal_uuid):
        goal = selectors.goal_get(actor=request.user, goal_uuid=goal_uuid, action=Action.UPDATE)
        data = keep_unsent(
            dict(valid(s.GoalUpdateSerializer, request.data)),
            request.data,
            goal,
            ["why", "target_date", *(f for f in s.GoalUpdateSerializer().fields if "level_" in f)],
        )
        levels = {k: data.pop(k) for k in list(data) if k.startswith("level_")}
        goal = services.goal_update(actor=request.user, goal=goal, levels=levels, **data)
        return Response(s.GoalSerializer(selectors.goal_card(actor=request.user, goal=goal)).data)


class GoalStatusView(APIView):
    concord_access = RECORD

    @extend_schema(
        request=s.GoalStatusSerializer, responses=s.GoalSerializer, summary="Change a goal's status"
    )
    def post(self, request, goal_uuid):
        goal = selectors.goal_get(actor=request.user, goal_uuid=goal_uuid, action=Action.UPDATE)
        data = valid(s.GoalStatusSerializer, request.data)
        goal = services.goal_transition(actor=request.user, goal=goal, **data)
        return Response(s.GoalSerializer(selectors.goal_card(actor=request.user, goal=goal)).data)


class GoalRatingView(APIView):
    concord_access = RECORD

    @extend_schema(responses=s.GoalRatingSerializer(many=True), summary="A goal's progress ratings")
    def get(self, request, goal_uuid):
        goal = selectors.goal_get(actor=request.user, goal_uuid=goal_uuid)
        return Response(
            s.GoalRatingSerializer(
                selectors.goal_card(actor=request.user, goal=goal).ratings.all(), many=True
            ).data
        )

    @extend_schema(
        request=s.GoalRatingInputSerializer,
        responses={201: s.GoalRatingSerializer},
        summary="Rate progress (−2 … +2)",
    )
    def post(self, request, goal_uuid):
        goal = selectors.goal_get(actor=request.user, goal_uuid=goal_uuid, action=Action.CREATE)
        data = valid(s.GoalRatingInputSerializer, request.data)
        rating = services.goal_rate(actor=request.user, goal=goal, **data)
        return Response(s.GoalRatingSerializer(rating).data, status=status.HTTP_201_CREATED)


class NoteListView(APIView):
    concord_access = f"patient:{Category.NARRATIVE_NOTES}:{Action.LIST}"

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str),
            OpenApiParameter("author", str, description="author uuid"),
        ],
        responses=s.NoteSerializer(many=True),
        summary="A patient's notes you may read",
    )
    def get(self, request, patient_uuid):
        patient = _patient(request, patient_uuid, Category.NARRATIVE_NOTES, Action.LIST)
        notes = selectors.note_list(
            actor=request.user,
            patient=patient,
            kind=request.query_params.get("kind", ""),
            author_uuid=request.query_params.get("author", ""),
        )
        return Response(s.NoteSerializer(notes, many=True).data)

    @extend_schema(
        request=s.NoteInputSerializer, responses={201: s.NoteSerializer}, summary="Write a note"
    )
    def post(self, request, patient_uuid):
        # Access first, so that a stranger learns nothing from validation messages.
        patient = _patient(request, patient_uuid, Category.NARRATIVE_NOTES, Action.CREATE)
        data = valid(s.NoteInputSerializer, request.data)
        note = services.note_create(actor=request.user, patient=patient, **data)
        return Response(s.NoteSerializer(note).data, status=status.HTTP_201_CREATED)


class NoteDetailView(APIView):
    concord_access = RECORD

    @extend_schema(responses=s.NoteSerializer, summary="One note")
    def get(self, request, note_uuid):
        return Response(
            s.NoteSerializer(selectors.note_get(actor=request.user, note_uuid=note_uuid)).data
        )

    @extend_schema(
        request=s.NoteUpdateSerializer,
        responses=s.NoteSerializer,
        summary="Edit your own note (409 if stale)",
    )
    def patch(self, request, note_uuid):
        note = selectors.note_get(actor=request.user, note_uuid=note_uuid, action=Action.UPDATE)
        data = keep_unsent(
            dict(valid(s.NoteUpdateSerializer, request.data)), request.data, note, ["title"]
        )
        note = services.note_update(actor=request.user, note=note, **data)
        return Response(s.NoteSerializer(note).data)


class NoteErrorView(APIView):
    concord_access = RECORD

    @extend_schema(
        request=s.VersionSerializer,
        responses=s.NoteSerializer,
        summary="Mark your note entered in error",
    )
    def post(self, request, note_uuid):
        note = selectors.note_get(actor=request.user, note_uuid=note_uuid, action=Action.UPDATE)
        data = valid(s.VersionSerializer, request.data)
        note = services.note_mark_entered_in_error(actor=request.user, note=note, **data)
        return Response(s.NoteSerializer(note).data)


class SummaryView(APIView):
    concord_access = f"patient:{Category.SUMMARY}:{Action.READ}"

    @extend_schema(
        responses=s.SummarySerializer, summary="The plain-language summary of the person"
    )
    def get(self, request, patient_uuid):
        patient = _patient(request, patient_uuid, Category.SUMMARY, Action.READ)
        summary = selectors.summary_get(actor=request.user, patient=patient)
        if summary is None:
            raise Http404("No summary yet.")
        return Response(s.SummarySerializer(summary).data)

    @extend_schema(
        request=s.SummaryInputSerializer,
        responses={200: s.SummarySerializer, 400: s.SummaryRefusedSerializer},
        summary=(
            "Write the summary (care team; 409 if stale; 400 with the clinical terms found "
            "unless confirm_terms is true)"
        ),
    )
    def put(self, request, patient_uuid):
        patient = _patient(request, patient_uuid, Category.SUMMARY, Action.UPDATE)
        data = valid(s.SummaryInputSerializer, request.data)
        try:
            summary = services.summary_save(actor=request.user, patient=patient, **data)
        except services.ClinicalTerms as warning:
            return Response(
                {
                    "text": [warning.message],
                    "terms_found": [
                        {
                            "term": hit.term.text,
                            "as_written": hit.as_written,
                            "instead": hit.term.instead,
                        }
                        for hit in warning.found
                    ],
                    "confirm_with": {"confirm_terms": True},
                },
                status=400,
            )
        return Response(s.SummarySerializer(summary).data)


class SummaryResponseView(APIView):
    concord_access = f"patient:{Category.SUMMARY_RESPONSE}:{Action.UPDATE}"

    @extend_schema(
        request=s.SummaryResponseSerializer,
        responses=s.SummarySerializer,
        summary="The patient's response",
    )
    def post(self, request, patient_uuid):
        patient = _patient(request, patient_uuid, Category.SUMMARY_RESPONSE, Action.UPDATE)
        data = valid(s.SummaryResponseSerializer, request.data)
        summary = services.summary_respond(actor=request.user, patient=patient, **data)
        return Response(s.SummarySerializer(summary).data)
