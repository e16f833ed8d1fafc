"""The stories API: the same selectors, services and access policy as the pages.

Access is decided by the bases (core/api/bases.py) before a handler runs: a read of the
patient or of the goal or note named in the URL. A write is guarded again, and audited once,
by its service; refusals, conflicts and bad input become 403, 409 and 400 in the exception
handler (core/api/errors.py). Every list pages the same way (`?limit=&offset=`)."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.access import Action, Category
from core.api.bases import PaginatedList, PatientAPIView, RecordAPIView
from core.api.errors import answers
from core.api.serializers import errors
from core.api.validation import keep_unsent, valid
from stories import selectors, services

from . import serializers as s


class _Stories(PaginatedList):
    def goal_response(self, goal):
        """A goal as the API shows it: fresh, with the ratings the caller may see."""
        return Response(
            s.GoalSerializer(selectors.goal_card(actor=self.request.user, goal=goal)).data
        )


class _GoalView(_Stories, RecordAPIView):
    access_category = Category.GOALS
    access_uuid = "goal_uuid"
    # Writes read the goal here; the service guards the change and audits it once.
    access_actions = {"PATCH": Action.READ, "POST": Action.READ}

    def access_queryset(self):
        return selectors.GOALS.all()


class _NoteView(_Stories, RecordAPIView):
    access_category = Category.NARRATIVE_NOTES
    access_uuid = "note_uuid"
    access_actions = {"PATCH": Action.READ, "POST": Action.READ}

    def access_queryset(self):
        return selectors.NOTES.all()

    def access_category_of(self, note) -> Category:
        return selectors.note_category(note.kind)


class GoalListView(_Stories, PatientAPIView):
    access_category = Category.GOALS
    access_actions = {"GET": Action.LIST, "POST": Action.CREATE}

    @extend_schema(
        responses={200: s.GoalSerializer(many=True), **errors(404)}, summary="A patient's goals"
    )
    def get(self, request, patient_uuid):
        goals = selectors.goal_list(actor=request.user, patient=self.patient)
        return self.listed(goals, s.GoalSerializer)

    @extend_schema(
        request=s.GoalInputSerializer,
        responses={201: s.GoalSerializer, **errors(400, 404)},
        summary="Add (patient) or propose (clinician) a goal",
    )
    def post(self, request, patient_uuid):
        data = valid(s.GoalInputSerializer, request.data)
        levels = {k: data.pop(k) for k in list(data) if k.startswith("level_")}
        goal = services.goal_create(actor=request.user, patient=self.patient, levels=levels, **data)
        response = self.goal_response(goal)
        response.status_code = status.HTTP_201_CREATED
        return response


class GoalDetailView(_GoalView):
    @extend_schema(responses={200: s.GoalSerializer, **errors(404)}, summary="One goal")
    def get(self, request, goal_uuid):
        return self.goal_response(self.record)

    @extend_schema(
        request=s.GoalUpdateSerializer,
        responses={200: s.GoalSerializer, **errors(400, 403, 404, 409)},
        summary="Rewrite a goal (409 if stale)",
    )
    def patch(self, request, goal_uuid):
        data = keep_unsent(
            dict(valid(s.GoalUpdateSerializer, request.data)),
            request.data,
            self.record,
            ["why", "target_date", *(f for f in s.GoalUpdateSerializer().fields if "level_" in f)],
        )
        levels = {k: data.pop(k) for k in list(data) if k.startswith("level_")}
        return self.goal_response(
            services.goal_update(actor=request.user, goal=self.record, levels=levels, **data)
        )


class GoalStatusView(_GoalView):
    @extend_schema(
        request=s.GoalStatusSerializer,
        responses={200: s.GoalSerializer, **errors(400, 403, 404, 409)},
        summary="Change a goal's status (accepting a proposal is the patient's)",
    )
    def post(self, request, goal_uuid):
        data = valid(s.GoalStatusSerializer, request.data)
        return self.goal_response(
            services.goal_transition(actor=request.user, goal=self.record, **data)
        )


class GoalRatingView(_GoalView):
    @extend_schema(
        responses={200: s.GoalRatingSerializer(many=True), **errors(404)},
        summary="A goal's progress ratings",
    )
    def get(self, request, goal_uuid):
        card = selectors.goal_card(actor=request.user, goal=self.record)
        return self.listed(card.ratings.all(), s.GoalRatingSerializer)

    @extend_schema(
        request=s.GoalRatingInputSerializer,
        responses={201: s.GoalRatingSerializer, **errors(400, 403, 404)},
        summary="Rate progress (−2 … +2)",
    )
    def post(self, request, goal_uuid):
        data = valid(s.GoalRatingInputSerializer, request.data)
        rating = services.goal_rate(actor=request.user, goal=self.record, **data)
        return Response(s.GoalRatingSerializer(rating).data, status=status.HTTP_201_CREATED)


class NoteListView(_Stories, PatientAPIView):
    access_category = Category.NARRATIVE_NOTES
    access_actions = {"GET": Action.LIST, "POST": Action.CREATE}

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str),
            OpenApiParameter("author", str, description="author uuid"),
        ],
        responses={200: s.NoteSerializer(many=True), **errors(404)},
        summary="A patient's notes you may read",
    )
    def get(self, request, patient_uuid):
        notes = selectors.note_list(
            actor=request.user,
            patient=self.patient,
            kind=request.query_params.get("kind", ""),
            author_uuid=request.query_params.get("author", ""),
        )
        return self.listed(notes, s.NoteSerializer)

    @extend_schema(
        request=s.NoteInputSerializer,
        responses={201: s.NoteSerializer, **errors(400, 404)},
        summary="Write a note",
    )
    def post(self, request, patient_uuid):
        data = valid(s.NoteInputSerializer, request.data)
        note = services.note_create(actor=request.user, patient=self.patient, **data)
        return Response(s.NoteSerializer(note).data, status=status.HTTP_201_CREATED)


class NoteDetailView(_NoteView):
    @extend_schema(responses={200: s.NoteSerializer, **errors(404)}, summary="One note")
    def get(self, request, note_uuid):
        return Response(s.NoteSerializer(self.record).data)

    @extend_schema(
        request=s.NoteUpdateSerializer,
        responses={200: s.NoteSerializer, **errors(400, 403, 404, 409)},
        summary="Edit your own note (409 if stale)",
    )
    def patch(self, request, note_uuid):
        data = keep_unsent(
            dict(valid(s.NoteUpdateSerializer, request.data)), request.data, self.record, ["title"]
        )
        note = services.note_update(actor=request.user, note=self.record, **data)
        return Response(s.NoteSerializer(note).data)


class NoteErrorView(_NoteView):
    @extend_schema(
        request=s.VersionSerializer,
        responses={200: s.NoteSerializer, **errors(400, 403, 404, 409)},
        summary="Mark your note entered in error",
    )
    def post(self, request, note_uuid):
        data = valid(s.VersionSerializer, request.data)
        note = services.note_mark_entered_in_error(actor=request.user, note=self.record, **data)
        return Response(s.NoteSerializer(note).data)


@answers(services.ClinicalTerms)
def _clinical_terms(exc):
    """The summary's clinical terms: a 400 that names them and how to save anyway."""
    found = [
        {"term": hit.term.text, "as_written": hit.as_written, "instead": hit.term.instead}
        for hit in exc.found
    ]
    body = {"text": [exc.message], "terms_found": found}
    body["confirm_with"] = {"confirm_terms": True}
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


class SummaryView(PatientAPIView):
    access_category = Category.SUMMARY
    # The service guards the write (the care team's) and audits it once.
    access_actions = {"PUT": Action.READ}

    @extend_schema(
        responses={200: s.SummarySerializer, **errors(404)},
        summary="The plain-language summary of the person",
    )
    def get(self, request, patient_uuid):
        summary = selectors.summary_get(actor=request.user, patient=self.patient)
        if summary is None:
            raise Http404("No summary yet.")
        return Response(s.SummarySerializer(summary).data)

    @extend_schema(
        request=s.SummaryInputSerializer,
        responses={
            200: s.SummarySerializer,
            400: s.SummaryRefusedSerializer,
            **errors(403, 404, 409),
        },
        summary=(
            "Write the summary (care team; 409 if stale; 400 with the clinical terms found "
            "unless confirm_terms is true)"
        ),
    )
    def put(self, request, patient_uuid):
        data = valid(s.SummaryInputSerializer, request.data)
        summary = services.summary_save(actor=request.user, patient=self.patient, **data)
        return Response(s.SummarySerializer(summary).data)


class SummaryResponseView(PatientAPIView):
    access_category = Category.SUMMARY_RESPONSE
    access_actions = {"POST": Action.READ}

    @extend_schema(
        request=s.SummaryResponseSerializer,
        responses={200: s.SummarySerializer, **errors(400, 403, 404, 409)},
        summary="The patient's response",
    )
    def post(self, request, patient_uuid):
        data = valid(s.SummaryResponseSerializer, request.data)
        summary = services.summary_respond(actor=request.user, patient=self.patient, **data)
        return Response(s.SummarySerializer(summary).data)


class SafetyPlanView(_Stories, PatientAPIView):
    access_category = Category.SAFETY_PLAN
    access_actions = {"GET": Action.LIST, "POST": Action.CREATE}

    @extend_schema(
        responses={200: s.SafetyPlanSerializer(many=True), **errors(404)},
        summary="The patient's safety plan: every version, newest first",
    )
    def get(self, request, patient_uuid):
        versions = selectors.safety_plan_versions(actor=request.user, patient=self.patient)
        return self.listed(versions, s.SafetyPlanSerializer)

    @extend_schema(
        request=s.SafetyPlanInputSerializer,
        responses={
            201: s.SafetyPlanSerializer,
            200: OpenApiResponse(s.SafetyPlanSerializer, description="The same as the newest."),
            **errors(400, 404, 409),
        },
        summary="Write the next version (409 if someone saved one since `version`)",
    )
    def post(self, request, patient_uuid):
        data = valid(s.SafetyPlanInputSerializer, request.data)
        based_on = data.pop("version")
        plan = services.safety_plan_save(
            actor=request.user, patient=self.patient, based_on=based_on, sections=data
        )
        made = status.HTTP_201_CREATED if plan.version > based_on else status.HTTP_200_OK
        return Response(s.SafetyPlanSerializer(plan).data, status=made)
