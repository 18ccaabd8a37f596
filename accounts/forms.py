"""Forms of the sign-in steps. The password step authenticates through the lockout backend."""

from django import forms
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError

from accounts import lockout

INVALID_LOGIN = "That username and password were not accepted."
LOCKED = (
    "Too many failed attempts: this account is locked for up to an hour. "
    "Try again later, or ask a staff admin to unlock it."
)


class PasswordForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned_data = super().clean()
        username, password = cleaned_data.get("username"), cleaned_data.get("password")
        if username and password:
            self.user = authenticate(self.request, username=username, password=password)
            if self.user is None:
                # Unknown accounts lock exactly like real ones, so this tells an attacker nothing.
                if lockout.is_locked(username):
                    raise ValidationError(LOCKED, code="locked")
                raise ValidationError(INVALID_LOGIN, code="invalid_login")
        return cleaned_data


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class RecoveryCodeForm(forms.Form):
    code = forms.CharField(
        label="One of your recovery codes",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
