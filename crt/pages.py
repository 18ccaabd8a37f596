"""What every app's staff pages share: the `staff_page` decorator (signed-in program staff only), `page`
(render with the staff navigation), `nav` (the navigation's one rule, also used by crt.layout for
the shared pages), `staff_form_page` (a staff page with a form), `form_errors`, `raise_for_access` and
`refused` (a service's refusal on a page), and the landing page `home`
that sends each role to its start page.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.roles import (
    holds_caseload,
    may_review_access,
    may_supervise_team,
    may_view_metrics,
    may_write_encounters,
    start_page,
)
from audit.access import audited


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
    return {
        "can_caseload": holds_caseload(user),
        "can_team": may_supervise_team(user),
        "can_metrics": may_view_metrics(user),
        "can_write_encounters": may_write_encounters(user),
        "can_review_break_glass": may_review_access(user),
    }


def page(request, template: str, context: dict, status: int = 200):
    return render(request, template, {**context, "nav": nav(request.user)}, status=status)


def staff_form_page(view):
    """A staff page with a form (GET shows it, POST submits it) that serves a person's record:
    staff_page, audit.access.audited, GET and POST only."""
    return staff_page(audited(require_http_methods(["GET", "POST"])(view)))


def form_errors(form, error: ValidationError) -> None:
    """A service's refusal shown on the form, on the field it names when it names one (params["field"],
    cases.encounters) (nothing was saved: the service is atomic)."""
    field = (getattr(error, "params", None) or {}).get("field")
    for message in error.messages:
        form.add_error(field if field in form.fields else None, message)


def raise_for_access(error: ValidationError) -> None:
    """A service's refusal about access answers as the API does: "not_found" a 404 (someone else's
    record looks like none), "forbidden" a 403. Any other refusal is the page's to show."""
    code = getattr(error, "code", None)
    if code == "not_found":
        raise Http404 from None
    if code == "forbidden":
        raise PermissionDenied from None


def refused(form, error: ValidationError) -> None:
    """A service's refusal on a form page: raise_for_access, else the errors on the form."""
    raise_for_access(error)
    form_errors(form, error)


@login_required
def home(request):
    """Send each role to its start page; the page itself lists what this user can open."""
    user = request.user
    if user.is_partner_user:
        return redirect("providers:partner_home")
    landing = start_page(user)
    if landing is not None:
        return redirect(landing)
    return render(request, "home.html", {"nav": nav(user)})
