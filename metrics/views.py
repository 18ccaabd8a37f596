"""The supervisor dashboard and the CSV export. Both are for supervisors and staff admins only."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.roles import may_view_metrics
from metrics.access import selection_for
from metrics.compute import compute
from metrics.exports import record_export, write_csv
from metrics.forms import NO_BREAKDOWN, SelectionForm, team_and_area_options
from metrics.measures import MEASURES
from metrics.periods import PRESETS
from metrics.present import sections
from metrics.sources import DIMENSIONS, SPLITS

KEPT = ("period", "start", "end", "team", "area")


def _require_metrics_role(request) -> None:
    if not may_view_metrics(request.user):
        raise PermissionDenied("Program metrics are for supervisors and staff admins.")


@login_required
def dashboard(request):
    _require_metrics_role(request)
    form = SelectionForm(request.GET)
    teams, areas = team_and_area_options(request.user.program_id)
    context = {
        "form": form,
        "presets": PRESETS,
        "teams": teams,
        "areas": areas,
        "dimensions": DIMENSIONS,
        "sections": [],
    }
    if not form.is_valid():
        return render(request, "metrics/dashboard.html", context, status=400)
    data = form.cleaned_data
    selection = selection_for(request.user, data["period_value"], team=data["team"], area=data["area"])
    breakdown = data["breakdown"]
    groupings = [*SPLITS] if breakdown == NO_BREAKDOWN else [breakdown, *SPLITS]
    results = compute(selection, groupings=groupings)
    query = urlencode({key: request.GET[key] for key in KEPT if request.GET.get(key)})
    context |= {
        "selection": selection,
        "results": results,
        "breakdown": DIMENSIONS.get(breakdown),
        "sections": sections(results, groupings),
        "query": query,
        "csv_all": reverse("metrics:csv", args=["all"]) + (f"?{query}" if query else ""),
    }
    return render(request, "metrics/dashboard.html", context)


@login_required
def measure_csv(request, measure: str):
    _require_metrics_role(request)
    if measure != "all" and measure not in MEASURES:
        raise Http404("No such measure.")
    form = SelectionForm(request.GET)
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
    data = form.cleaned_data
    selection = selection_for(request.user, data["period_value"], team=data["team"], area=data["area"])
    results = compute(selection, measures=None if measure == "all" else [measure])
    record_export(request, measure, selection.period)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="crt-metrics-{measure}-{selection.period.slug}.csv"'
    write_csv(results, response)
    return response
