"""Who may see program metrics: supervisors and staff admins, for their own program only.

Every page, export and API view gets its Selection from `selection_for`, so the program a figure
is computed for always comes from the signed-in user, never from the request.
"""

from django.core.exceptions import PermissionDenied

from accounts.roles import Role, roles_of
from metrics.periods import Period, Selection

METRICS_ROLES = frozenset({Role.SUPERVISOR, Role.STAFF_ADMIN})


def may_view_metrics(user) -> bool:
    if getattr(user, "program_id", None) is None:
        return False  # partner users and staff without a program
    return bool(roles_of(user) & METRICS_ROLES)  # empty for anonymous and inactive users


def selection_for(user, period: Period, *, team: str = "", area: str = "", as_of=None) -> Selection:
    if not may_view_metrics(user):
        raise PermissionDenied("Program metrics are for supervisors and staff admins.")
    extra = {} if as_of is None else {"as_of": as_of}
    return Selection(program_id=user.program_id, period=period, team=team, area=area, **extra)
