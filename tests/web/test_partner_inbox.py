"""The partner page as an inbox, as a partner user sees it: new referrals first, then reminders, then
the rest; capacity one tap from the top, with a nudge when it is stale; each referral's moves on its
own page, and the moves that close a referral asking for a note and a confirmation first."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from referrals.models import Referral
from tests import factories as f
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def make(case, service):
    def make(status="requested", **fields):
        consent = f.ConsentFactory(individual=case.individual, recipient_organization=service.organization)
        referral = f.ReferralFactory(
            program=case.program, individual=case.individual, case=case, service=service, consent=consent
        )
        Referral.objects.filter(pk=referral.pk).update(status=status, **fields)
        return Referral.objects.get(pk=referral.pk)

    return make


def _order(body: str, referrals) -> list[int]:
    """The referrals in the order the page lists them."""
    return [r.pk for r in sorted(referrals, key=lambda r: body.index(f'id="referral-{r.pk}"'))]


def _section(body: str, key: str) -> str:
    start = body.index(f'id="{key}-heading"')
    return body[start : body.index("</section>", start)]


def test_new_referrals_come_first_then_reminders_then_the_rest(client, partner_user, make):
    now = timezone.now()
    working = make("in-progress")
    closed = make("completed", outcome_note="Housed.")
    chased = make("accepted", chase_level=1, requested_at=now - timedelta(days=3))
    appointment_passed = make(
        "accepted",
        appointment_at=now - timedelta(hours=2),
        business_status="appointment_scheduled",
        requested_at=now - timedelta(days=2),
    )
    new_routine = make("requested", requested_at=now - timedelta(hours=5))
    new_urgent = make("requested", urgency="urgent", requested_at=now - timedelta(hours=1))

    body = signed_in(client, partner_user).get(reverse("providers:partner_home")).content.decode()

    everything = [working, closed, chased, appointment_passed, new_routine, new_urgent]
    assert _order(body, everything) == [
        new_urgent.pk,
        new_routine.pk,
        chased.pk,
        appointment_passed.pk,
        working.pk,
        closed.pk,
    ]  # in each group: the most urgent, then the longest waiting
    assert f'id="referral-{new_urgent.pk}"' in _section(body, "new")
    reminders = _section(body, "reminders")
    assert f'id="referral-{chased.pk}"' in reminders and "waiting for your answer" in reminders
    assert f'id="referral-{appointment_passed.pk}"' in reminders and "appointment has passed" in reminders
    assert f'id="referral-{working.pk}"' in _section(body, "open")
    assert f'id="referral-{closed.pk}"' in _section(body, "closed")


def test_cards_carry_no_forms_each_referral_has_its_own_page(client, partner_user, make):
    make("requested")
    make("in-progress")
    body = signed_in(client, partner_user).get(reverse("providers:partner_home")).content.decode()
    assert "<textarea" not in body
    assert 'action="/partner/referrals/' not in body


def test_capacity_is_one_tap_from_the_top_and_nudged_when_stale(client, partner_user, service, program, make):
    make("requested")
    fresh = service.capacities.get()  # beds, updated now
    c = signed_in(client, partner_user)
    body = c.get(reverse("providers:partner_home")).content.decode()
    link = f'href="{reverse("providers:partner_capacities")}"'
    assert body.index(link) < body.index('id="new-heading"')  # above the referrals
    assert "Please update your capacity" not in body

    program.stale_capacity_after = timedelta(days=2)
    program.save()
    f.ServiceCapacityFactory(service=service, unit="intake slots", updated_at=timezone.now() - timedelta(days=3))
    body = c.get(reverse("providers:partner_home")).content.decode()
    assert "Please update your capacity: 1 number not updated for over 2 days." in body
    assert body.index("Please update your capacity") < body.index('id="new-heading"')

    page = c.get(reverse("providers:partner_capacities")).content.decode()
    assert page.index("intake slots") < page.index(f'id="capacity-{fresh.pk}"')  # the stale one first
    assert "Please update: last updated 3" in page


def test_capacity_one_tap_comes_back_to_the_capacity_page(client, partner_user, service):
    capacity = f.ServiceCapacityFactory(service=service, unit="places", available=3, maximum=5)
    response = signed_in(client, partner_user).post(
        reverse("providers:partner_capacity", args=[capacity.pk]), {"available": 2}
    )
    assert response["Location"] == reverse("providers:partner_capacities")
    capacity.refresh_from_db()
    assert capacity.available == 2


def test_the_referral_page_offers_one_tap_moves_and_links_to_the_ones_that_ask_first(client, partner_user, make):
    accepted = make("accepted")
    body = signed_in(client, partner_user).get(reverse("providers:partner_referral", args=[accepted.pk])).content
    body = body.decode()
    start = reverse("providers:partner_move", args=[accepted.pk, "start"])
    assert f'action="{start}"' in body  # one tap
    for verb in ("complete", "fail", "hold"):
        url = reverse("providers:partner_move", args=[accepted.pk, verb])
        assert f'href="{url}"' in body and f'action="{url}"' not in body
    assert "<textarea" not in body


@pytest.mark.parametrize(
    ("status", "verb", "question", "body", "after"),
    [
        ("accepted", "complete", "What was the outcome?", {"outcome_note": "Moved in on Friday."}, "completed"),
        ("in-progress", "fail", "Why could you not help?", {"reason": "Moved away.", "outcome_note": ""}, "failed"),
        ("requested", "reject", "Why are you declining", {"reason": "No beds for families."}, "rejected"),
    ],
)
def test_a_move_that_closes_the_referral_asks_for_the_note_and_a_confirmation(
    client, partner_user, make, status, verb, question, body, after
):
    referral = make(status)
    c = signed_in(client, partner_user)
    url = reverse("providers:partner_move", args=[referral.pk, verb])

    page = c.get(url).content.decode()
    assert question in page and "cannot be reopened" in page and "Yes, " in page
    assert Referral.objects.get(pk=referral.pk).status == status  # asking changes nothing

    empty = c.post(url, dict.fromkeys(body, ""))
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == status

    assert c.post(url, body).status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == after


def test_a_move_the_referral_cannot_make_now_says_so_and_changes_nothing(client, partner_user, make):
    referral = make("requested")
    c = signed_in(client, partner_user)
    response = c.get(reverse("providers:partner_move", args=[referral.pk, "complete"]))
    assert response["Location"] == reverse("providers:partner_referral", args=[referral.pk])
    response = c.post(reverse("providers:partner_move", args=[referral.pk, "complete"]), {"outcome_note": "Done."})
    assert response.status_code == 400 and "cannot become completed" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == "requested"


def test_an_unknown_or_api_only_move_is_not_found(client, partner_user, make):
    referral = make("accepted")
    c = signed_in(client, partner_user)
    for verb in ("resume", "cancel", "nope"):
        assert c.get(reverse("providers:partner_move", args=[referral.pk, verb])).status_code == 404


def test_another_organisations_referral_is_not_found_on_every_partner_page(
    client, other_partner_user, partner_user, make
):
    referral = make("accepted")
    c = signed_in(client, other_partner_user)
    assert f'id="referral-{referral.pk}"' not in c.get(reverse("providers:partner_home")).content.decode()
    assert c.get(reverse("providers:partner_referral", args=[referral.pk])).status_code == 404
    for verb in ("complete", "start"):
        url = reverse("providers:partner_move", args=[referral.pk, verb])
        assert c.get(url).status_code == 404
        assert c.post(url, {"outcome_note": "x"}).status_code == 404
    assert Referral.objects.get(pk=referral.pk).status == "accepted"


def test_the_partner_page_costs_the_same_queries_for_few_or_many_referrals(client, partner_user, make):
    for status in ("requested", "accepted", "completed"):
        make(status)
    c = signed_in(client, partner_user)
    c.get(reverse("providers:partner_home"))  # warm the session
    with CaptureQueriesContext(connection) as few:
        c.get(reverse("providers:partner_home"))
    for status in ("requested", "accepted", "in-progress", "on-hold", "completed", "failed") * 3:
        make(status, chase_level=1, status_reason="A reason.")
    with CaptureQueriesContext(connection) as many:
        c.get(reverse("providers:partner_home"))
    assert len(many) == len(few)


def test_a_reminder_about_a_passed_appointment_is_answered_with_progress(client, partner_user, make):
    now = timezone.now()
    referral = make("accepted", appointment_at=now - timedelta(hours=3), business_status="appointment_scheduled")
    c = signed_in(client, partner_user)
    assert f'id="referral-{referral.pk}"' in _section(
        c.get(reverse("providers:partner_home")).content.decode(), "reminders"
    )

    url = reverse("providers:partner_move", args=[referral.pk, "business-status"])
    page = c.get(url).content.decode()
    assert "No-show" in page and "Awaiting partner" not in page
    assert c.post(url, {"business_status": "no_show", "note": "Did not come; we will call again."}).status_code == 302

    referral.refresh_from_db()
    assert (referral.status, referral.business_status) == ("accepted", "no_show")
    body = c.get(reverse("providers:partner_home")).content.decode()
    assert f'id="referral-{referral.pk}"' in _section(body, "open")


def test_partner_sets_an_appointment_from_the_referral_page(client, partner_user, make):
    referral = make("in-progress")
    c = signed_in(client, partner_user)
    url = reverse("providers:partner_move", args=[referral.pk, "appointment"])
    body = c.get(reverse("providers:partner_referral", args=[referral.pk])).content.decode()
    assert f'href="{url}"' in body
    assert 'type="datetime-local"' in c.get(url).content.decode()

    when = timezone.localtime(timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    assert c.post(url, {"appointment_at": when.strftime("%Y-%m-%dT%H:%M")}).status_code == 302
    referral.refresh_from_db()
    assert (referral.appointment_at, referral.business_status) == (when, "appointment_scheduled")

    too_far = c.post(url, {"appointment_at": "2031-01-01T09:00"})
    assert too_far.status_code == 400 and "too far ahead" in too_far.content.decode()
