"""Supervisors' pages: who has looked at a person's record, and the accounting of disclosures.

Reading either is itself recorded (view, export) against the person, before anything is returned.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render

from audit import reports
from audit.access import audited, record_access
from audit.models import Action


@login_required
@audited
def access_history(request, individual_id: int):
    individual = reports.reviewable_individual(request.user, individual_id)
    if individual is None:
        raise Http404("Not found.")
    record_access(request, action=Action.VIEW, objects=[individual], detail="access history")
    page = Paginator(reports.access_history(request.user, individual), 100).get_page(request.GET.get("page"))
    return render(request, "audit/access_history.html", {"individual": individual, "page": page})


@login_required
@audited
def disclosures_csv(request, individual_id: int):
    individual = reports.reviewable_individual(request.user, individual_id)
    if individual is None:
        raise Http404("Not found.")
    body = reports.disclosures_csv(reports.disclosures(request.user, individual))
    record_access(request, action=Action.EXPORT, objects=[individual], detail="accounting of disclosures")
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    # ids only in the file name: names never go into URLs, headers or file names
    response["Content-Disposition"] = f'attachment; filename="disclosures-individual-{individual.pk}.csv"'
    return response
