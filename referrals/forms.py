"""Forms of the referral pages: the referral itself, a reason, the consent. Validation only (the
directory search form is providers.forms.DirectorySearchForm)."""

from datetime import datetime, time

from django import forms
from django.utils import timezone

from cases.models import Consent
from crt.validators import validate_consent_expiry
from referrals.models import Referral


class NewReferralForm(forms.Form):
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


class ReferralConsentForm(forms.Form):
    """The person's consent to share this referral with the chosen partner, given now."""

    method = forms.ChoiceField(label="How consent was given", choices=Consent.RECORDABLE_METHODS)
    witness_name = forms.CharField(label="Witness (for verbal consent)", required=False, max_length=200)
    covers_part2 = forms.BooleanField(label="Covers substance-use (42 CFR Part 2) records", required=False)
    expires_on = forms.DateField(
        label="Expires on (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_consent_expiry],
    )

    def clean(self):
        data = super().clean()
        if data.get("method") == Consent.Method.VERBAL and not (data.get("witness_name") or "").strip():
            self.add_error("witness_name", "A verbal consent needs a witness.")
        expires_on = data.get("expires_on")
        if expires_on is not None and expires_on <= timezone.localdate():
            self.add_error("expires_on", "The expiry must be after today.")
        return data

    def expires_at(self):
        expires_on = self.cleaned_data.get("expires_on")
        if expires_on is None:
            return None
        return timezone.make_aware(datetime.combine(expires_on, time.max.replace(microsecond=0)))
