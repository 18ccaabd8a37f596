"""Human words on the pages (issue 15 item 4): no internal labels show through."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories as f
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_person_page_names_languages(client, navigator, case, person):
    person.primary_language = "en/ar"
    person.save()
    body = signed_in(client, navigator).get(reverse("cases:person", args=[person.pk])).content.decode()
    assert "Language: English, Arabic" in body and "en/ar" not in body


def test_referral_history_reads_as_sentences(client, navigator, case, service):
    referral = f.ReferralFactory(
        program=case.program, individual=case.individual, case=case, service=service, status="accepted"
    )
    f.ReferralEventFactory(referral=referral, actor_user=navigator, from_status="draft", to_status="requested")
    f.ReferralEventFactory(
        referral=referral, actor_user=navigator, from_status="accepted", to_status="accepted", note="left a message"
    )
    f.DeliveryFactory(referral=referral)
    body = signed_in(client, navigator).get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert f"{navigator} sent the referral to the partner." in body
    assert f"{navigator} added a note. <q>left a message</q>" in body
    assert "→" not in body and "referral.requested" not in body
    assert "New referral sent" in body


def test_caseload_says_answer_overdue_only_of_referrals_not_yet_answered(client, navigator, case, service):
    late = timezone.now() - timedelta(days=3)
    for status in ("requested", "accepted"):
        f.ReferralFactory(
            program=case.program,
            individual=case.individual,
            case=case,
            service=service,
            status=status,
            next_action_owner="partner",
            next_action_due_at=late,
        )
    body = signed_in(client, navigator).get(reverse("cases:caseload")).content.decode()
    assert body.count("answer overdue by 3 days") == 1
    assert body.count("update overdue by 3 days") == 1
    assert "overdue since" not in body


def test_new_referral_lists_a_services_languages_by_name(client, navigator, case, service):
    body = signed_in(client, navigator).get(reverse("referrals:new", args=[case.pk])).content.decode()
    assert "languages English, Spanish" in body
