"""One FilterSet per staff list of people and case work."""

import django_filters
from django.db.models import Q

from cases.models import Case, Consent, Contact, FollowUp, Individual


class IndividualFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_name", help_text="Part of a legal or preferred name.")
    date_of_birth = django_filters.DateFilter()
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Individual
        fields = ["q", "date_of_birth", "updated_since"]

    def filter_name(self, queryset, name, value):
        return queryset.filter(
            Q(legal_first_name__icontains=value)
            | Q(legal_last_name__icontains=value)
            | Q(preferred_name__icontains=value)
        )


class CaseFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Case.Status.choices)
    individual = django_filters.NumberFilter(field_name="individual_id")
    mine = django_filters.BooleanFilter(method="filter_mine", help_text="true: cases where I am navigator or peer.")

    class Meta:
        model = Case
        fields = ["status", "individual", "mine"]

    def filter_mine(self, queryset, name, value):
        user = self.request.user
        mine = Q(navigator=user) | Q(peer=user)
        return queryset.filter(mine) if value else queryset.exclude(mine)


class ContactFilter(django_filters.FilterSet):
    case = django_filters.NumberFilter(field_name="case_id")

    class Meta:
        model = Contact
        fields = ["case"]


class FollowUpFilter(django_filters.FilterSet):
    case = django_filters.NumberFilter(field_name="case_id")
    is_open = django_filters.BooleanFilter(method="filter_open", help_text="true: not done and not missed.")
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")

    class Meta:
        model = FollowUp
        fields = ["case", "is_open", "due_before"]

    def filter_open(self, queryset, name, value):
        open_ = Q(done_at__isnull=True, is_missed=False)
        return queryset.filter(open_) if value else queryset.exclude(open_)


class ConsentFilter(django_filters.FilterSet):
    individual = django_filters.NumberFilter(field_name="individual_id")

    class Meta:
        model = Consent
        fields = ["individual"]
