"""Forms of the directory's pages: the directory search of the new-referral page (providers.directory).
Validation only."""

from django import forms

from providers.models import NeedDomain


class DirectorySearchForm(forms.Form):
    need = forms.ChoiceField(label="Need", required=False, choices=[("", "Any need"), *NeedDomain.choices])
    language = forms.CharField(label="Language (code, e.g. es)", required=False, max_length=10)
    age = forms.IntegerField(label="Age", required=False, min_value=0, max_value=130)
    eligibility = forms.CharField(label="Eligibility words", required=False, max_length=100)
    with_capacity = forms.BooleanField(label="Only with free capacity", required=False)
    within_km = forms.IntegerField(label="Within km of the encounter", required=False, min_value=1, max_value=500)
