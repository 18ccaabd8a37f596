"""The program a figure is computed for (who may see metrics at all: accounts.roles.may_view_metrics).

Every page, export and API view gets its Selection from `selection_for`, so the program a figure
is computed for always comes from the signed-in user, never from the request.
"""

from django.core.exceptions import PermissionDenied

from accounts.roles import may_view_metrics
from metrics.periods import Period, Selection


def selection_for(user, period: Period, *, team: str = "", area: str = "", as_of=None) -> Selection:
    if not may_view_metrics(user):
        raise PermissionDenied("Program metrics are for supervisors and staff admins.")
    extra = {} if as_of is None else {"as_of": as_of}
    return Selection(program_id=user.program_id, period=period, team=team, area=area, **extra)
