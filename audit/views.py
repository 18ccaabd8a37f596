"""Supervisors' pages: who has looked at a person's record, the accounting of disclosures, and every
use of break-glass to review (with "end now").

Reading either is itself recorded (view, export) against the person, before anything is returned.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.breakglass import end_break_glass
from accounts.models import BreakGlassGrant
from accounts.roles import may_review_access
from audit import reports
from audit.access import audited, record_access
from audit.models import AccessLog, Action


def _reviewable(request, individual_id: int):
    """The person whose trail the user may review (reports.reviewable_individual), else a 404."""
    individual = reports.reviewable_individual(request.user, individual_id)
    if individual is None:
        raise Http404("Not found.")
    return individual


@login_required
@audited
def access_history(request, individual_id: int):
    individual = _reviewable(request, individual_id)
    record_access(request, action=Action.VIEW, objects=[individual], detail="access history")
    page = Paginator(reports.access_history(request.user, individual), 100).get_page(request.GET.get("page"))
    return render(request, "audit/access_history.html", {"individual": individual, "page": page})


@login_required
@audited
def disclosures_csv(request, individual_id: int):
    individual = _reviewable(request, individual_id)
    body = reports.disclosures_csv(reports.disclosures(request.user, individual))
    record_access(request, action=Action.EXPORT, objects=[individual], detail="accounting of disclosures")
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    # ids only in the file name: names never go into URLs, headers or file names
    response["Content-Disposition"] = f'attachment; filename="disclosures-individual-{individual.pk}.csv"'
    return response


@login_required
@audited
def break_glass_review(request):
    """Every break-glass grant of the supervisor's program, newest first: who, whose record, why, how
    long, how many accesses were made under it, and a link to that person's access history."""
    if not may_review_access(request.user) or request.user.program_id is None:
        raise PermissionDenied
    accesses = (
        AccessLog.objects.filter(break_glass=OuterRef("pk"))
        .order_by()
        .values("break_glass")
        .annotate(n=Count("id"))
        .values("n")
    )
    grants = (
        BreakGlassGrant.objects.visible_to(request.user)
        .select_related("user", "individual", "ended_by")
        .annotate(accesses=Coalesce(Subquery(accesses), 0))
        .order_by("-started_at", "-id")
    )
    page = Paginator(grants, 50).get_page(request.GET.get("page"))
    record_access(request, action=Action.LIST, objects=[grant.individual for grant in page])
    from crt.pages import nav

    context = {"page": page, "now": timezone.now(), "nav": nav(request.user)}
    return render(request, "audit/break_glass_review.html", context)


@login_required
@require_POST
def break_glass_end(request, pk: int):
    """End a grant now: the user who holds it (from the banner), or a supervisor of the program."""
    grant = get_object_or_404(BreakGlassGrant.objects.visible_to(request.user), pk=pk)
    if end_break_glass(grant, by=request.user):
        messages.success(request, "Emergency access ended.")
    if grant.user_id == request.user.pk and not may_review_access(request.user):
        return redirect("cases:people")
    return redirect("audit:break_glass_review")
