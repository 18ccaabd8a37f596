"""One FilterSet per referral list."""

import django_filters

from crt.api_filters import IdFilter, InstantFilter
from crt.inputs import INSTANT_HELP
from providers.models import NeedDomain
from referrals.models import Referral, Status


class ReferralFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, help_text="Repeat to match several.")
    updated_since = InstantFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text=f"Only referrals changed at or after this time. {INSTANT_HELP}",
    )
    need_domain = django_filters.ChoiceFilter(choices=NeedDomain.choices)

    class Meta:
        model = Referral
        fields = ["status", "updated_since", "need_domain"]


class StaffReferralFilter(ReferralFilter):
    individual = IdFilter(field_name="individual_id")
    case = IdFilter(field_name="case_id")

    class Meta:
        model = Referral
        fields = ["status", "updated_since", "need_domain", "individual", "case"]
