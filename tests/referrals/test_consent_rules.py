"""Consent at the moment of sharing: which consent covers a referral to a partner, the gate on
sending, the re-check before every delivery attempt, and the 42 CFR Part 2 rules. A property test
compares find_consent with a small oracle written here over thousands of generated situations."""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.models import Consent
from providers.models import NeedDomain, Service
from referrals import services
from referrals.consent import PART2_REDISCLOSURE_NOTICE, disclosure_allowed, find_consent
from tests import factories as f

AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def person(program):
    return f.IndividualFactory(program=program)


@pytest.fixture
def housing_org(partner_org):
    f.ServiceFactory(organization=partner_org, need_domain=NeedDomain.HOUSING)
    return partner_org


@pytest.fixture
def recovery_org(other_partner_org):
    f.ServiceFactory(organization=other_partner_org, need_domain=NeedDomain.RECOVERY)
    other_partner_org.may_receive_part2 = True
    other_partner_org.save(update_fields=["may_receive_part2"])
    return other_partner_org


@pytest.fixture
def consent_of(person, navigator):
    def make(**fields) -> Consent:
        fields.setdefault("given_at", AT - DAY)
        fields.setdefault("expires_at", AT + 30 * DAY)
        return f.ConsentFactory(individual=person, recorded_by=navigator, **fields)

    return make


def covering(person, org, *, need_domain=NeedDomain.HOUSING, part2=False, at=AT, **kw):
    return find_consent(person, org, need_domain=need_domain, includes_part2=part2, at=at, **kw)


# --- the rules one by one -----------------------------------------------------------------------


def test_no_consent_covers_nothing(person, housing_org):
    assert covering(person, housing_org) is None


def test_a_consent_naming_the_partner_covers_it(person, housing_org, consent_of):
    consent = consent_of(recipient_organization=housing_org)
    assert covering(person, housing_org) == consent


def test_an_expired_consent_covers_nothing_from_the_moment_it_expires(person, housing_org, consent_of):
    consent_of(recipient_organization=housing_org, given_at=AT - 10 * DAY, expires_at=AT)
    assert covering(person, housing_org) is None
    assert covering(person, housing_org, at=AT - timedelta(seconds=1)) is not None


def test_a_consent_given_later_does_not_cover_now(person, housing_org, consent_of):
    consent_of(recipient_organization=housing_org, given_at=AT + timedelta(minutes=1))
    assert covering(person, housing_org) is None


def test_a_revoked_consent_covers_nothing(person, housing_org, consent_of):
    consent_of(recipient_organization=housing_org, revoked_at=AT - timedelta(hours=1))
    assert covering(person, housing_org) is None


def test_another_persons_consent_covers_nothing(person, housing_org, program, navigator):
    f.ConsentFactory(individual=f.IndividualFactory(program=program), recipient_organization=housing_org)
    assert covering(person, housing_org) is None


def test_a_treatment_consent_does_not_cover_a_referral(person, housing_org, consent_of):
    consent = consent_of(recipient_organization=housing_org, purpose=Consent.Purpose.TREATMENT)
    assert covering(person, housing_org) is None
    assert covering(person, housing_org, purpose=Consent.Purpose.TREATMENT) == consent


def test_a_category_consent_covers_a_partner_offering_that_need(person, housing_org, recovery_org, consent_of):
    consent = consent_of(recipient_organization=None, recipient_category=NeedDomain.HOUSING)
    assert covering(person, housing_org, need_domain=NeedDomain.HOUSING) == consent
    assert covering(person, housing_org, need_domain=None) == consent  # any need the partner offers
    assert covering(person, recovery_org, need_domain=NeedDomain.RECOVERY) is None  # not a housing partner
    assert covering(person, recovery_org, need_domain=None) is None


def test_a_category_consent_covers_only_referrals_in_its_need(person, housing_org, consent_of):
    f.ServiceFactory(organization=housing_org, need_domain=NeedDomain.FOOD)
    consent_of(recipient_organization=None, recipient_category=NeedDomain.HOUSING)
    assert covering(person, housing_org, need_domain=NeedDomain.FOOD) is None


def test_a_category_consent_counts_a_closed_service_of_that_need(person, housing_org, consent_of):
    Service.objects.filter(organization=housing_org).update(status=Service.Status.TEMPORARILY_CLOSED)
    consent = consent_of(recipient_organization=None, recipient_category=NeedDomain.HOUSING)
    assert covering(person, housing_org) == consent


def test_a_consent_naming_the_partner_wins_over_a_newer_category_one(person, housing_org, consent_of):
    named = consent_of(recipient_organization=housing_org, given_at=AT - 5 * DAY)
    consent_of(recipient_organization=None, recipient_category=NeedDomain.HOUSING, given_at=AT - DAY)
    assert covering(person, housing_org) == named


def test_among_equals_the_most_recently_given_consent_wins(person, housing_org, consent_of):
    consent_of(recipient_organization=housing_org, given_at=AT - 5 * DAY)
    newest = consent_of(recipient_organization=housing_org, given_at=AT - DAY)
    consent_of(recipient_organization=housing_org, given_at=AT - 3 * DAY)
    assert covering(person, housing_org) == newest


def test_part2_information_needs_a_consent_that_covers_it(person, recovery_org, consent_of):
    plain = consent_of(recipient_organization=recovery_org)
    assert covering(person, recovery_org, need_domain=NeedDomain.RECOVERY, part2=True) is None
    assert covering(person, recovery_org, need_domain=NeedDomain.RECOVERY) == plain
    part2 = consent_of(recipient_organization=recovery_org, covers_part2=True, given_at=AT - 2 * DAY)
    assert covering(person, recovery_org, need_domain=NeedDomain.RECOVERY, part2=True) == part2


def test_part2_information_never_goes_to_a_partner_not_allowed_to_receive_it(person, housing_org, consent_of):
    consent_of(recipient_organization=housing_org, covers_part2=True)
    assert not housing_org.may_receive_part2
    assert covering(person, housing_org, part2=True) is None
    assert covering(person, housing_org) is not None  # without Part 2 information it may go


def test_a_naive_time_is_refused(person, housing_org):
    with pytest.raises(ValidationError) as error:
        covering(person, housing_org, at=datetime(2026, 3, 2, 15, 0))
    assert error.value.code == "invalid"


def test_the_part2_notice_carries_what_the_regulation_asks_for():
    notice = PART2_REDISCLOSURE_NOTICE.lower()
    assert "42 cfr part 2" in notice
    assert "written consent" in notice  # no further disclosure without it
    assert "general authorisation" in notice  # a general release is not enough
    assert "criminal" in notice and "proceeding" in notice  # not to be used against the person


# --- the gate on sending and the re-check before every delivery ---------------------------------


@pytest.fixture
def draft_to(person, navigator):
    def make(org, *, part2=False):
        service = Service.objects.filter(organization=org).first()
        return services.create_referral(
            individual=person, service=service, by=navigator, reason="Needs support.", includes_part2=part2
        )

    return make


def test_sending_records_the_consent_it_relied_on(draft_to, housing_org, consent_of, navigator, time_machine):
    time_machine.move_to(AT, tick=False)
    consent = consent_of(recipient_organization=housing_org)
    referral = services.send_referral(draft_to(housing_org), by=navigator)
    assert referral.consent == consent


@pytest.mark.parametrize("situation", ["none", "expired", "revoked", "part2 not covered", "part2 not allowed"])
def test_sending_without_a_covering_consent_is_refused(
    draft_to, housing_org, recovery_org, consent_of, navigator, time_machine, situation
):
    time_machine.move_to(AT, tick=False)
    org = recovery_org if situation == "part2 not covered" else housing_org
    if situation == "expired":
        consent_of(recipient_organization=org, given_at=AT - 60 * DAY, expires_at=AT - DAY)
    if situation == "revoked":
        consent_of(recipient_organization=org, revoked_at=AT - DAY)
    if situation == "part2 not covered":
        consent_of(recipient_organization=org, covers_part2=False)
    if situation == "part2 not allowed":
        consent_of(recipient_organization=org, covers_part2=True)
    draft = draft_to(org, part2=situation.startswith("part2"))
    with pytest.raises(ValidationError) as error:
        services.send_referral(draft, by=navigator)
    assert error.value.code == "no_consent"
    draft.refresh_from_db()
    assert (draft.status, draft.consent_id) == ("draft", None)


def test_revoking_consent_stops_disclosure_before_the_next_attempt(
    draft_to, housing_org, consent_of, navigator, time_machine
):
    time_machine.move_to(AT, tick=False)
    consent = consent_of(recipient_organization=housing_org)
    referral = services.send_referral(draft_to(housing_org), by=navigator)
    assert disclosure_allowed(referral, at=AT + timedelta(minutes=5))
    consent.revoked_at = AT + timedelta(minutes=10)
    consent.save(update_fields=["revoked_at"])
    assert not disclosure_allowed(referral, at=AT + timedelta(minutes=15))


def test_disclosure_stops_when_the_consent_expires(draft_to, housing_org, consent_of, navigator, time_machine):
    time_machine.move_to(AT, tick=False)
    consent_of(recipient_organization=housing_org, expires_at=AT + DAY)
    referral = services.send_referral(draft_to(housing_org), by=navigator)
    assert disclosure_allowed(referral, at=AT + DAY - timedelta(seconds=1))
    assert not disclosure_allowed(referral, at=AT + DAY)


def test_disclosure_goes_on_under_another_consent_when_the_recorded_one_ends(
    draft_to, housing_org, consent_of, navigator, time_machine
):
    time_machine.move_to(AT, tick=False)
    first = consent_of(recipient_organization=housing_org)
    referral = services.send_referral(draft_to(housing_org), by=navigator)
    consent_of(recipient_organization=None, recipient_category=NeedDomain.HOUSING, given_at=AT)
    first.revoked_at = AT + timedelta(minutes=1)
    first.save(update_fields=["revoked_at"])
    assert disclosure_allowed(referral, at=AT + timedelta(minutes=2))


def test_disclosure_of_part2_stops_when_the_partner_loses_its_part2_standing(
    draft_to, recovery_org, consent_of, navigator, time_machine
):
    time_machine.move_to(AT, tick=False)
    consent_of(recipient_organization=recovery_org, covers_part2=True)
    referral = services.send_referral(draft_to(recovery_org, part2=True), by=navigator)
    assert disclosure_allowed(referral, at=AT)
    recovery_org.may_receive_part2 = False
    recovery_org.save(update_fields=["may_receive_part2"])
    referral.organization.refresh_from_db()
    assert not disclosure_allowed(referral, at=AT)


# --- the property: find_consent agrees with a simple oracle -------------------------------------

DOMAINS = [NeedDomain.HOUSING, NeedDomain.RECOVERY, NeedDomain.MENTAL_HEALTH]
PURPOSES = list(Consent.Purpose.values)
OUTCOMES: Counter[str] = Counter()


@dataclass(frozen=True)
class Partner:
    org: object
    domains: frozenset
    part2: bool


@dataclass(frozen=True)
class Spec:
    """A consent, in hours relative to AT."""

    mine: bool
    partner: int | None  # index into the partners, or None for a category consent
    category: str
    purpose: str
    covers_part2: bool
    given: int
    lasts: int | None
    revoked_after: int | None


def oracle(specs: list[Spec], pks: list[int], partners, *, target: int, need, purpose, part2) -> int | None:
    """The rules, read straight off DESIGN.md §3 and the consent module's table, in plain Python."""
    partner = partners[target]
    if part2 and not partner.part2:
        return None
    candidates = []
    for spec, pk in zip(specs, pks, strict=True):
        if not spec.mine or spec.purpose != purpose:
            continue
        if spec.given > 0 or spec.revoked_after is not None:
            continue
        if spec.lasts is not None and spec.given + spec.lasts <= 0:
            continue
        if part2 and not spec.covers_part2:
            continue
        if spec.partner == target:
            candidates.append((1, spec.given, pk))
        elif spec.partner is None and spec.category in partner.domains and need in (None, spec.category):
            candidates.append((0, spec.given, pk))
    return max(candidates)[2] if candidates else None


# Consents are drawn relative to the question, so that about as many situations are covered as
# are not: "the target" partner, "the need" asked about, "the purpose" asked for. The strategies are
# built once here (building them inside each draw costs more than the database does).
ROLES = ["the target", "the target", "a category", "a category", "any partner"]
CATEGORIES = ["the need", "the need", *DOMAINS, NeedDomain.FOOD]
PURPOSE_PICKS = ["the purpose", "the purpose", "the purpose", *PURPOSES]
raw_consent = st.tuples(
    st.sampled_from([True, True, True, False]),  # the person asked about, or someone else
    st.sampled_from(ROLES),
    st.integers(0, 15),  # which partner, for "any partner"
    st.sampled_from(CATEGORIES),
    st.sampled_from(PURPOSE_PICKS),
    st.sampled_from([True, True, False]),  # covers Part 2
    st.integers(-6, 1),  # given, in hours from the question
    st.none() | st.integers(1, 8),  # lasts
    st.sampled_from([None, None, None]) | st.integers(0, 4),  # revoked, hours after given
)
situations = st.tuples(
    st.integers(0, 15),  # the target partner
    st.sampled_from([*DOMAINS, NeedDomain.FOOD, None]),  # the need (None: "any the partner offers")
    st.sampled_from(PURPOSES),
    st.sampled_from([False, False, True]),  # includes Part 2
    st.lists(raw_consent, min_size=1, max_size=6),
)


def resolve(raw, *, target: int, need, purpose) -> Spec:
    mine, role, other, category, purpose_pick, covers_part2, given, lasts, revoked_after = raw
    return Spec(
        mine=mine,
        partner={"the target": target, "a category": None, "any partner": other}[role],
        category=(need or NeedDomain.HOUSING) if category == "the need" else category,
        purpose=purpose if purpose_pick == "the purpose" else purpose_pick,
        covers_part2=covers_part2,
        given=given,
        lasts=lasts,
        revoked_after=revoked_after,
    )


def test_find_consent_agrees_with_the_oracle(program, navigator):
    me = f.IndividualFactory(program=program)
    someone_else = f.IndividualFactory(program=program)
    partners = []
    for index, (part2, *offers) in enumerate(product([False, True], *[[False, True]] * len(DOMAINS))):
        org = f.OrganizationFactory(may_receive_part2=part2)
        domains = frozenset(domain for domain, offered in zip(DOMAINS, offers, strict=True) if offered)
        for domain in domains:  # the category rule counts services in any status
            status = Service.Status.ACTIVE if index % 2 else Service.Status.INACTIVE
            f.ServiceFactory(organization=org, need_domain=domain, status=status)
        partners.append(Partner(org, domains, part2))
    hour = timedelta(hours=1)

    @settings(max_examples=2000, deadline=None)
    @given(situations)
    def check(situation):
        target, need, purpose, part2, raws = situation
        specs = [resolve(raw, target=target, need=need, purpose=purpose) for raw in raws]
        with transaction.atomic():
            consents = Consent.objects.bulk_create(
                Consent(
                    individual=me if spec.mine else someone_else,
                    recipient_organization=None if spec.partner is None else partners[spec.partner].org,
                    recipient_category=spec.category if spec.partner is None else "",
                    purpose=spec.purpose,
                    covers_part2=spec.covers_part2,
                    method=Consent.Method.WRITTEN,
                    given_at=AT + spec.given * hour,
                    expires_at=None if spec.lasts is None else AT + (spec.given + spec.lasts) * hour,
                    revoked_at=None if spec.revoked_after is None else AT + (spec.given + spec.revoked_after) * hour,
                    recorded_by=navigator,
                )
                for spec in specs
            )
            pks = [consent.pk for consent in consents]  # in insertion order, as the tie-break needs
            found = find_consent(
                me, partners[target].org, need_domain=need, purpose=purpose, includes_part2=part2, at=AT
            )
            expected = oracle(specs, pks, partners, target=target, need=need, purpose=purpose, part2=part2)
            assert (found.pk if found else None) == expected
            OUTCOMES["covered" if expected else "not covered"] += 1
            transaction.set_rollback(True)  # the next example starts with no consents

    OUTCOMES.clear()
    check()
    assert min(OUTCOMES["covered"], OUTCOMES["not covered"]) > 200, OUTCOMES  # both answers were tried often
