from . import access
from .selectors import patient_for_user, unread_notification_count


def concord(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Which header a person gets ("patient", "clinician", "admin"): layout only. What a page
    # offers is the policy's to say, through {% can %}.
    kind = access.kind_of(user)
    context = {
        "unread_notifications": unread_notification_count(user=user),
        "viewer_kind": kind,
        # The clinic's equity view (aggregates only): clinic admins and clinic leads.
        "reads_equity": access.reads_equity(user),
    }
    if kind == "patient":
        # The header links to the patient's own pages.
        context["my_patient"] = patient_for_user(user=user)
    return context
