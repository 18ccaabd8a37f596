"""Forms of the partner page. Validation only; the views call referrals.services."""

from django import forms


class PartnerActionForm(forms.Form):
    """One form for every move; each move takes the fields it names (referrals.moves)."""

    reason = forms.CharField(label="Reason", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    note = forms.CharField(label="Note", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    outcome_note = forms.CharField(
        label="Outcome", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CapacityForm(forms.Form):
    available = forms.IntegerField(label="Available now", min_value=0, max_value=1_000_000)
