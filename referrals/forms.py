"""Forms of the referral pages: directory search and the referral itself. Validation only."""

from django import forms

from providers.models import NeedDomain
from referrals.models import Referral


class DirectorySearchForm(forms.Form):
    need = forms.ChoiceField(label="Need", required=False, choices=[("", "Any need"), *NeedDomain.choices])
    language = forms.CharField(label="Language (code, e.g. es)", required=False, max_length=10)
    age = forms.IntegerField(label="Age", required=False, min_value=0, max_value=130)
    eligibility = forms.CharField(label="Eligibility words", required=False, max_length=100)
    with_capacity = forms.BooleanField(label="Only with free capacity", required=False)
    within_km = forms.IntegerField(label="Within km of the encounter", required=False, min_value=1, max_value=500)


class ReferralForm(forms.Form):
    reason = forms.CharField(
        label="Why this referral (for the partner; no clinical detail)",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    urgency = forms.ChoiceField(choices=Referral.Urgency.choices, initial=Referral.Urgency.ROUTINE)
    shares_contact_details = forms.BooleanField(label="Share contact details", required=False, initial=True)
    includes_part2 = forms.BooleanField(label="Includes substance-use (42 CFR Part 2) information", required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
