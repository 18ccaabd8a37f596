"""A navigator's case with a referral sent to a partner, for the inbox tests."""

from datetime import timedelta

import pytest
from django.utils import timezone

from providers.models import Organization
from referrals.models import Referral
from tests import factories as f


@pytest.fixture
def person(program):
    return f.IndividualFactory(
        program=program, legal_first_name="Canary", legal_last_name="Quixotic", date_of_birth="1961-07-19"
    )


@pytest.fixture
def case(program, person, navigator):
    return f.CaseFactory(program=program, individual=person, navigator=navigator)


@pytest.fixture
def partner(db):
    return f.OrganizationFactory(channel=Organization.Channel.PULL)


@pytest.fixture
def consent(person, partner, navigator):
    return f.ConsentFactory(individual=person, recipient_organization=partner, recorded_by=navigator)


@pytest.fixture
def referral(program, case, partner, consent):
    now = timezone.now()
    return f.ReferralFactory(
        program=program,
        individual=case.individual,
        case=case,
        service=f.ServiceFactory(organization=partner),
        consent=consent,
        status="requested",
        requested_at=now,
        created_by=case.navigator,
        next_action_owner=Referral.NextActionOwner.PARTNER,
        next_action_due_at=now + timedelta(days=1),
    )


@pytest.fixture
def partner_member(partner):
    return f.PartnerUserFactory(partner_organization=partner)
