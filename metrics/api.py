"""The measures for the city's data team: GET /api/v1/metrics/ and /api/v1/metrics/<measure>/.

Session authentication and the supervisor permission: the same people and the same program as
the dashboard. Figures only, never personal data; breakdowns by person are suppressed as on the
dashboard (a suppressed figure is null and its key is listed under "suppressed").
"""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import may_view_metrics
from crt.api import error_responses
from metrics.access import selection_for
from metrics.compute import compute
from metrics.forms import SelectionForm
from metrics.measures import MEASURES, Measure
from metrics.sources import GROUPINGS


class IsProgramSupervisor(BasePermission):
    message = "Program metrics are for supervisors and staff admins."

    def has_permission(self, request, view):
        return may_view_metrics(request.user)


def describe(measure: Measure, request=None) -> dict:
    return {
        "key": measure.key,
        "version": measure.version,
        "title": measure.title,
        "summary": measure.summary,
        "definition": measure.definition,
        "source": measure.source.key,
        "figures": [{"key": o.key, "label": o.label, "unit": o.kind} for o in measure.outputs],
        "groupings": list(measure.groupings),
        "url": request.build_absolute_uri(f"{measure.key}/") if request is not None else None,
    }


PARAMETERS = [
    OpenApiParameter("period", str, description="last-month (default), this-month, last-quarter, "
                     "this-quarter, last-12-months, this-year, a month 2025-03, a quarter 2025-Q1 or a year 2025."),
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day of a custom period (with end)."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (inclusive) of a custom period (with start)."),
    OpenApiParameter("team", str, description="Only calls answered by this team."),
    OpenApiParameter("area", str, description="Only calls in this area."),
    OpenApiParameter("grouping", str, many=True, description="Groupings to return (repeat the parameter); "
                     "default: every grouping of the measure. 'all' (the totals) is always returned."),
]  # fmt: skip


class MetricsView(APIView):
    """The API's usual authentication (a session or a staff token of a supervisor or staff admin: the
    same people as the dashboard); no credentials is a 401, anyone else a 403, both problem documents."""

    permission_classes = [IsProgramSupervisor]


class MeasureList(MetricsView):
    @extend_schema(
        operation_id="metrics_list",
        summary="Every program measure with its definition and version",
        responses={200: OpenApiTypes.OBJECT, **error_responses(401, 403, 429)},
    )
    def get(self, request):
        return Response({"measures": [describe(m, request) for m in MEASURES.values()]})


class MeasureDetail(MetricsView):
    @extend_schema(
        operation_id="metrics_retrieve",
        summary="One measure for a period: totals, breakdowns by person and the measure's own splits",
        parameters=[
            OpenApiParameter("measure", str, OpenApiParameter.PATH, description="A measure key."),
            *PARAMETERS,
        ],
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, 401, 403, 404, 429)},
    )
    def get(self, request, measure: str):
        if measure not in MEASURES:
            raise Http404("No such measure.")
        found = MEASURES[measure]
        form = SelectionForm(request.query_params)
        if not form.is_valid():
            # The API's one error shape (crt.api's exception handler), field by field.
            raise ValidationError(
                {
                    "non_field_errors" if field == "__all__" else field: [
                        ErrorDetail(e["message"], code=e["code"] or "invalid") for e in errors
                    ]
                    for field, errors in form.errors.get_json_data().items()
                }
            )
        asked = request.query_params.getlist("grouping")
        unknown = [g for g in asked if g not in found.groupings]
        if unknown:
            raise ValidationError({"grouping": [f"Unknown grouping {g!r} for this measure." for g in unknown]})
        data = form.cleaned_data
        selection = selection_for(request.user, data["period_value"], team=data["team"], area=data["area"])
        results = compute(selection, measures=[found], groupings=asked or None)
        return Response(
            {
                **describe(found, None),
                "period": {
                    "first_day": selection.period.first_day,
                    "last_day": selection.period.last_day,
                    "label": selection.period.label,
                },
                "as_of": selection.as_of,
                "filters": {"team": selection.team, "area": selection.area},
                "min_cell_size": results.min_cell_size,
                "breakdowns": {
                    table.grouping.key: {
                        "title": GROUPINGS[table.grouping.key].title,
                        "suppressible": table.is_suppressible,
                        "rows": [
                            {
                                "key": row.key,
                                "label": row.label,
                                "values": row.values,
                                "suppressed": sorted(row.suppressed),
                            }
                            for row in table.rows
                        ],
                    }
                    for table in results.tables_of(found.key)
                },
            }
        )
