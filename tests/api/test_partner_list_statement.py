"""The partner list's prepared statement (referrals.partner_list.PartnerPage) returns exactly the rows of
the queryset it is compiled from, whatever consent, Part 2, status or organisation says, and the API
pages through them as through the queryset."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from providers.models import NeedDomain, Organization
from referrals.models import Referral, Status
from referrals.partner_list import LIST_COLUMNS, PartnerPage, partner_queryset
from tests import factories as f
from tests.api.conftest import credential_for

pytestmark = pytest.mark.django_db
ORDERING = ("-updated_at", "-id")


@pytest.fixture
def referrals(program, navigator, partner_org, other_partner_org):
    """Referrals to the partner under every consent that may or may not cover them, and some that are
    not the partner's to see at all."""
    now = timezone.now()
    service = f.ServiceFactory(organization=partner_org, need_domain=NeedDomain.HOUSING)
    other_service = f.ServiceFactory(organization=other_partner_org)
    made = []

    def person_with(**consent):
        person = f.IndividualFactory(program=program)
        if consent is not None:
            fields = {"recipient_organization": partner_org, **consent}
            f.ConsentFactory(individual=person, recorded_by=navigator, **fields)
        return person

    consents = [
        {},  # names the partner
        {"recipient_organization": None, "recipient_category": NeedDomain.HOUSING},  # the referral's domain
        {"recipient_organization": None, "recipient_category": NeedDomain.FOOD},  # another domain
        {"revoked_at": now - timedelta(hours=1)},
        {"expires_at": now - timedelta(hours=1)},
        {"given_at": now + timedelta(hours=1)},  # not given yet
        {"covers_part2": True},
        {"recipient_organization": other_partner_org},
        {"purpose": "treatment"},
    ]
    for consent in consents:
        for part2 in (False, True):
            made.append(
                f.ReferralFactory(
                    program=program,
                    individual=person_with(**consent),
                    service=service,
                    created_by=navigator,
                    includes_part2=part2,
                )
            )
    # Not the partner's to see: another organisation's, a draft, a draft cancelled before it was sent.
    f.ReferralFactory(program=program, service=other_service, created_by=navigator)
    f.ReferralFactory(program=program, service=service, created_by=navigator, status=Status.DRAFT, requested_at=None)
    f.ReferralFactory(
        program=program,
        service=service,
        created_by=navigator,
        status=Status.CANCELLED,
        status_reason="Entered for the wrong person.",
        requested_at=None,
    )
    # Several with the same updated_at, so that the cursor needs its offset.
    Referral.objects.filter(pk__in=[r.pk for r in made[:5]]).update(updated_at=now - timedelta(minutes=5))
    return made


def test_the_statement_returns_the_querysets_rows_first_page_and_after_a_position(referrals, partner_org):
    credential = credential_for(partner_org)
    at = timezone.now()
    queryset = partner_queryset(credential, at=at).values(*LIST_COLUMNS).order_by(*ORDERING)
    expected = list(queryset[0:101])
    assert len(expected) == len(referrals)
    assert {row["disclosure_allowed_now"] for row in expected} == {True, False}

    assert list(PartnerPage(credential, at=at).order_by(*ORDERING)[0:101]) == expected
    position = str(expected[6]["updated_at"])
    for lookup in ("updated_at__lt", "updated_at__gt"):
        page = PartnerPage(credential, at=at).order_by(*ORDERING).filter(**{lookup: position})[1:4]
        assert list(page) == list(queryset.filter(**{lookup: position})[1:4])


def test_the_part2_rule_follows_the_organisation(referrals, partner_org):
    Organization.objects.filter(pk=partner_org.pk).update(may_receive_part2=True)
    credential = credential_for(Organization.objects.get(pk=partner_org.pk))
    at = timezone.now()
    expected = list(partner_queryset(credential, at=at).values(*LIST_COLUMNS).order_by(*ORDERING)[0:101])
    assert list(PartnerPage(credential, at=at).order_by(*ORDERING)[0:101]) == expected


def test_a_revoked_credential_reads_nothing(referrals, partner_org):
    credential = credential_for(partner_org)
    credential.revoked_at = timezone.now()
    assert list(PartnerPage(credential, at=timezone.now()).order_by(*ORDERING)[0:101]) == []


def test_the_api_pages_through_the_same_referrals_with_and_without_a_filter(api_client, referrals, partner_org):
    client = api_client(credential_for(partner_org))
    every_status = [status for status, _ in Status.choices]

    def walk(params):
        seen, url = [], "/api/v1/partner/referrals/"
        while url:
            body = client.get(url, params).json()
            seen += body["results"]
            url, params = body["next"], None
        return seen

    fast = walk({"page_size": 2})
    filtered = walk({"page_size": 2, "status": every_status})  # a filter takes the queryset's path
    assert [row["id"] for row in fast] == [row["id"] for row in filtered]
    assert fast == filtered
    assert len(fast) == len(referrals)


def test_the_list_sends_its_three_statements(api_client, referrals, partner_org):
    client = api_client(credential_for(partner_org))
    client.get("/api/v1/partner/referrals/")
    with CaptureQueriesContext(connection) as captured:
        client.get("/api/v1/partner/referrals/", {"page_size": 5})
    sql = [query["sql"] for query in captured]
    assert len(sql) == 3  # the credential, the page (consent checked), the audit rows
    assert "providers_partnercredential" in sql[0]
    assert "cases_consent" in sql[1]
    assert 'INSERT INTO "audit_accesslog"' in sql[2]  # on SQLite an executemany


def test_the_credential_lookup_finds_what_the_queryset_finds(partner_org):
    from django.forms.models import model_to_dict

    from providers.models import PartnerCredential

    credential = credential_for(partner_org)
    found = PartnerCredential.objects.by_prefix(credential.prefix)
    expected = PartnerCredential.objects.select_related("organization").filter(prefix=credential.prefix).first()

    assert model_to_dict(found) == model_to_dict(expected)
    assert (found.created_at, found.last_used_at, found.revoked_at) == (
        expected.created_at,
        expected.last_used_at,
        expected.revoked_at,
    )
    assert model_to_dict(found.organization) == model_to_dict(expected.organization)
    assert PartnerCredential.objects.by_prefix("0" * 8 if credential.prefix != "0" * 8 else "1" * 8) is None


def test_an_unscoped_person_data_queryset_is_refused_before_it_is_compiled(referrals, scoped):
    from crt.scoping import ScopeError
    from crt.statements import Statement

    unscoped = Referral.objects.values("id", "status")
    with pytest.raises(ScopeError):
        Statement(unscoped, {})
    assert Statement(unscoped.system("a test's own read"), {}).sql  # a marked read compiles
