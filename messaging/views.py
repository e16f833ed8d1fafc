"""Pages of secure messages: the inbox, a patient's conversations, and writing a new one.
The conversation itself is a clinic page (it offers to record a message on a medicine)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core import access, pages
from core.access import Action, Category

from . import selectors, services
from .forms import TEAM, ComposeForm


@access.declare("list: messaging.selectors.conversation_list filters by access.visible and audits")
@login_required
@require_GET
def inbox(request):
    """Every conversation the person may read, newest first, unread ones marked."""
    context = {
        "conversations": selectors.conversation_list(actor=request.user),
        "nav": "messages",
    }
    return render(request, "messaging/inbox.html", context)


@login_required
@require_GET
@access.patient_view(Category.MESSAGES, Action.LIST)
def patient_messages(request, patient):
    """One patient's conversations, for their care team (the patient's own are the inbox)."""
    if access.is_self(request.user, patient):
        return redirect("messages_inbox")
    context = {
        "patient": patient,
        "conversations": selectors.conversation_list(actor=request.user, patient=patient),
        "nav": "patients",
        "section": "messages",
    }
    return render(request, "messaging/patient_messages.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@access.patient_view(Category.MESSAGES, Action.CREATE)
def compose(request, patient):
    """The patient writes to their care team, or to one clinician of it."""
    if request.method == "GET" and not access.is_self(request.user, patient):
        # The patient starts a conversation; their care team answers in it (a post is
        # refused, audited, by the service).
        return redirect("patient_messages", patient_uuid=patient.uuid)
    team = selectors.addressees(patient=patient)
    form = ComposeForm(request.POST if request.method == "POST" else None, team=team)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            to = None
            if data["to"] != TEAM:
                to = next(m.clinician for m in team if str(m.clinician.uuid) == data["to"])
            with pages.attempt(request, form, quiet=True) as result:
                conversation = services.conversation_start(
                    actor=request.user,
                    patient=patient,
                    clinician=to,
                    subject=data["subject"],
                    text=data["text"],
                )
            if result.ok:
                messages.success(request, "Sent. Your care team has been told there is a message.")
                return redirect("conversation", conversation_uuid=conversation.uuid)
            status = result.status
    context = {
        "patient": patient,
        "form": form,
        "reply_times": selectors.reply_times(patient=patient),
        "nav": "messages",
    }
    return render(request, "messaging/compose.html", context, status=status)
