"""What every app's staff pages share: the `staff_page` decorator (signed-in program staff only), `page`
(render with the staff navigation), `nav` (the navigation's one rule, also used by crt.layout for
the shared pages), `form_errors` (a service's refusal shown on the form), and the landing page `home`
that sends each role to its start page.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from accounts.roles import Role, may_write_encounters, roles_of


def staff_page(view):
    """Signed-in staff only; a partner user gets a 404, as for anything they may not see."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_partner_user or request.user.program_id is None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def nav(user) -> dict:
    roles = roles_of(user)
    return {
        "can_caseload": bool(roles & {Role.NAVIGATOR, Role.PEER}),
        "can_team": Role.SUPERVISOR in roles,
        "can_metrics": bool(roles & {Role.SUPERVISOR, Role.STAFF_ADMIN}),
        "can_write_encounters": may_write_encounters(user),
        "can_review_break_glass": bool(roles & {Role.SUPERVISOR, Role.STAFF_ADMIN}),
    }


def page(request, template: str, context: dict, status: int = 200):
    return render(request, template, {**context, "nav": nav(request.user)}, status=status)


def form_errors(form, error: ValidationError) -> None:
    """A service's refusal shown as a form error (nothing was saved: the service is atomic)."""
    for message in error.messages:
        form.add_error(None, message)


@login_required
def home(request):
    """Send each role to its start page; the page itself lists what this user can open."""
    user = request.user
    if user.is_partner_user:
        return redirect("providers:partner_home")
    roles = roles_of(user)
    if roles & {Role.NAVIGATOR, Role.PEER}:
        return redirect("cases:caseload")
    if Role.SUPERVISOR in roles:
        return redirect("cases:team")
    if roles & {Role.PARAMEDIC, Role.CLINICIAN}:
        return redirect("cases:people")
    return render(request, "home.html", {"nav": nav(user)})
