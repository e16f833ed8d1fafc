from .selectors import patient_for_user, unread_notification_count


def concord(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context = {"unread_notifications": unread_notification_count(user=user)}
    if user.is_patient:
        # The header links to the patient's own pages.
        context["my_patient"] = patient_for_user(user=user)
    return context
