from . import selectors


def unread(request):
    """The header's count of messages the person has not opened."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_messages": selectors.unread_count(user=user)}
