"""cases reaches referrals only through cases.hooks, which referrals fills in when the app starts."""

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from cases import hooks
from referrals import caseload as referral_caseload
from referrals import services as referral_services


def test_referrals_registers_the_referral_side_of_each_case_action():
    registered = hooks.referrals()
    assert registered == hooks.Referrals(
        to_decide=referral_services.referrals_to_decide,
        cancel=referral_services.cancel_referral,
        move_to_person=referral_services.move_referrals_to_person,
        consent_revoked=referral_services.consent_revoked,
        waiting_on_partner=referral_caseload.waiting_on_partner,
    )


def test_the_registration_is_referrals_apps_own(monkeypatch):
    monkeypatch.setattr(hooks, "_registered", None)
    apps.get_app_config("referrals").ready()
    assert hooks.referrals().cancel is referral_services.cancel_referral


def test_a_case_action_refuses_to_run_without_the_referral_side(monkeypatch):
    monkeypatch.setattr(hooks, "_registered", None)
    with pytest.raises(ImproperlyConfigured):
        hooks.referrals()
