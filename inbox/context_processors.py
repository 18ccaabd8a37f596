from django.utils.functional import SimpleLazyObject


def inbox(request):
    """`inbox_count` for the navigation, read only when a page shows it (one indexed query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "program_id", None) is None:
        return {}

    def count():
        from inbox.services import count_for

        return count_for(user)

    return {"inbox_count": SimpleLazyObject(count)}
