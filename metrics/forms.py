"""The period, team, area and breakdown pickers, shared by the dashboard, the CSV export and the API."""

from django import forms
from django.core.cache import cache
from django.utils import timezone

from cases.models import Encounter
from metrics import periods
from metrics.sources import DIMENSIONS

NO_BREAKDOWN = "none"  # the dashboard's default: the measures' own splits only
OPTIONS_SECONDS = 600  # teams and areas change rarely; reading them is a scan of every encounter


def team_and_area_options(program_id: int) -> tuple[list[str], list[str]]:
    """The teams and call areas seen in the program's encounters (cached for ten minutes)."""

    def read():
        encounters = Encounter.objects.system("the metrics filter's teams and areas")
        pairs = encounters.filter(program_id=program_id).values_list("team", "area").distinct().order_by()
        teams, areas = set(), set()
        for team, area in pairs:
            teams.add(team)
            areas.add(area)
        return sorted(teams - {""}), sorted(areas - {""})

    return cache.get_or_set(f"metrics:options:{program_id}", read, OPTIONS_SECONDS)


class SelectionForm(forms.Form):
    period = forms.CharField(
        required=False,
        max_length=20,
        help_text="A preset, a month (2025-03), a quarter (2025-Q1) or a year (2025).",
    )
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.CharField(required=False, max_length=50)
    area = forms.CharField(required=False, max_length=100)
    breakdown = forms.ChoiceField(
        required=False,
        choices=[(NO_BREAKDOWN, "None"), *((key, g.title) for key, g in DIMENSIONS.items())],
        label="Break down by",
    )

    DEFAULT_PERIOD = "last-month"

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        today = timezone.localdate()
        try:
            if start or end:
                if not (start and end):
                    raise ValueError("Give both dates of a custom period, or neither.")
                period = periods.custom(start, end)
            else:
                period = periods.parse(data.get("period") or self.DEFAULT_PERIOD, today)
            periods.check_years(period, today)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        data["period_value"] = period
        # By default no breakdown by person: on a small program nearly every such group is under the
        # suppression threshold, so the page would open on tables of "suppressed" (docs/metrics.md).
        data["breakdown"] = data.get("breakdown") or NO_BREAKDOWN
        return data
