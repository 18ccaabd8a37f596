"""One FilterSet per staff list of people and case work."""

import django_filters
from django.db.models import Q

from cases.models import Case, Consent, Contact, FollowUp, Individual
from crt.api_filters import IdFilter, InstantFilter, StrictBooleanFilter
from crt.inputs import INSTANT_HELP


class IndividualFilter(django_filters.FilterSet):
    """Only filters that carry no personal data: names and dates of birth never go in a URL (they
    would land in proxy and access logs). Searching by them is POST /api/v1/individuals/search/."""

    updated_since = InstantFilter(field_name="updated_at", lookup_expr="gte", help_text=INSTANT_HELP)

    class Meta:
        model = Individual
        fields = ["updated_since"]


class CaseFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Case.Status.choices)
    individual = IdFilter(field_name="individual_id")
    mine = StrictBooleanFilter(method="filter_mine", help_text="true: cases where I am navigator or peer.")

    class Meta:
        model = Case
        fields = ["status", "individual", "mine"]

    def filter_mine(self, queryset, name, value):
        user = self.request.user
        mine = Q(navigator=user) | Q(peer=user)
        return queryset.filter(mine) if value else queryset.exclude(mine)


class ContactFilter(django_filters.FilterSet):
    case = IdFilter(field_name="case_id")

    class Meta:
        model = Contact
        fields = ["case"]


class FollowUpFilter(django_filters.FilterSet):
    case = IdFilter(field_name="case_id")
    is_open = StrictBooleanFilter(method="filter_open", help_text="true: not done and not missed.")
    due_before = InstantFilter(field_name="due_at", lookup_expr="lt", help_text=INSTANT_HELP)

    class Meta:
        model = FollowUp
        fields = ["case", "is_open", "due_before"]

    def filter_open(self, queryset, name, value):
        open_ = Q(done_at__isnull=True, is_missed=False)
        return queryset.filter(open_) if value else queryset.exclude(open_)


class ConsentFilter(django_filters.FilterSet):
    individual = IdFilter(field_name="individual_id")

    class Meta:
        model = Consent
        fields = ["individual"]
