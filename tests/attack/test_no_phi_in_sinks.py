"""A whole referral's life through the real code paths, with every sink watched: no canary of the
person (names, date of birth in the usual spellings, notes, safety notes, reasons, ids) may reach a
log record, a task message, a webhook, an email, a URL, a redirect, or the accounting of disclosures.

911 intake over the API → the case → a safety plan and a contact on the pages → consents (page and
API) → a referral sent from the page to a webhook partner and one sent over the API to an email
partner → the outbox tasks run and deliver to a local receiver and to the mail outbox → the webhook
partner accepts over the partner API, the email partner on the partner page → the chase and the
follow-up sweep, ten days later → the supervisor exports the accounting of disclosures.

(The broker itself is not in this path: task messages are captured at apply_async, before
serialisation. Their arguments must be ids only, which the test checks.)
"""

import csv
import io
import json
import logging
import re
from datetime import timedelta

import pytest
from celery.app.task import Task
from django.contrib.messages.storage.base import BaseStorage
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.signals import request_started
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import Role
from audit.models import AccessLog
from cases import follow_up_sweep
from cases import services as case_services
from cases.models import Individual
from inbox.models import Item, ItemEvent, Notification
from providers.models import Organization
from referrals import chase, outbox
from referrals import delivery as delivery_service
from referrals.models import Delivery, DeliveryAttempt, Referral
from tests import factories as f
from tests.api.conftest import credential_for
from tests.attack.conftest import Side, leaked, token
from tests.delivery.receiver import Receiver
from tests.plans import plan_post

pytestmark = pytest.mark.django_db
DOB = "1952-10-29"  # a distinctive date of birth, checked in ISO, US and compact spellings


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        text = f"{record.name} {record.levelname} {record.getMessage()} {record.args!r}"
        if record.exc_info:
            text += " " + logging.Formatter().formatException(record.exc_info)
        extra = {
            k: v for k, v in record.__dict__.items() if k not in logging.LogRecord("", 0, "", 0, "", (), None).__dict__
        }
        self.lines.append(text + " " + repr(extra))


@pytest.fixture
def logs():
    """Every log record at DEBUG and up, from every logger (those that do not propagate as well)."""
    handler = Capture()
    root = logging.getLogger()
    saved = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    closed = [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    for logger in closed:
        logger.addHandler(handler)
    yield handler.lines
    for logger in closed:
        logger.removeHandler(handler)
    root.removeHandler(handler)
    root.setLevel(saved)


@pytest.fixture
def tasks(monkeypatch):
    """Every task message the code would publish: (task name, args, kwargs)."""
    calls = []

    def record(self, args=None, kwargs=None, **options):
        calls.append((self.name, tuple(args or ()), dict(kwargs or {})))

    monkeypatch.setattr(Task, "apply_async", record)  # delay() and delay_on_commit() come here too
    return calls


@pytest.fixture
def urls():
    """The path and query string of every request the app served."""
    seen = []

    def started(sender, environ=None, **kwargs):
        if environ is not None:
            seen.append(f"{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}")

    request_started.connect(started, weak=False)
    yield seen
    request_started.disconnect(started)


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with Receiver() as running:
        yield running


def search_as_the_page_does(client, url: str, query: str):
    """Fill in the page's search box and submit it the way its form says (method="get" or "post")."""
    page = client.get(url).content.decode()
    form = re.search(r"<form[^>]*role=\"search\"[^>]*>", page) or re.search(r"<form[^>]*>", page)
    method = re.search(r'method="(\w+)"', form.group(0)).group(1).lower()
    answer = client.post(url, {"q": query}) if method == "post" else client.get(url, {"q": query})
    assert answer.status_code == 200
    return answer


def _run_published(tasks, done: set) -> None:
    """What a worker would do with the captured messages (each once)."""
    for index, (name, args, _kwargs) in enumerate(list(tasks)):
        if index in done:
            continue
        done.add(index)
        if name == "referrals.deliver":
            delivery_service.deliver(args[0], after_attempts=args[1] if len(args) > 1 else None)


def test_a_referrals_whole_life_leaves_no_personal_data_in_any_sink(
    client, receiver, logs, tasks, urls, monkeypatch, django_capture_on_commit_callbacks, settings, program, navigator
):
    settings.PUBLIC_BASE_URL = "https://crt.example.gov"
    flashes = []  # flash messages travel in a signed cookie: record them as they are added
    add_flash = BaseStorage.add

    def recording_add(self, level, message, extra_tags=""):
        flashes.append(str(message))
        return add_flash(self, level, message, extra_tags)

    monkeypatch.setattr(BaseStorage, "add", recording_add)
    monkeypatch.setattr(outbox, "_kicks_paused_until", 0.0)
    supervisor = f.UserFactory(program=program, roles=[Role.SUPERVISOR], email="sup@example.org")
    integration = f.UserFactory(program=program, roles=[Role.CLINICIAN])
    webhook_partner = f.OrganizationFactory(
        name="Safe Harbor Housing",
        channel=Organization.Channel.WEBHOOK,
        webhook_url=receiver.url,
        webhook_secret="whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY",
    )
    email_partner = f.OrganizationFactory(
        name="Riverside Recovery",
        may_receive_part2=True,
        channel=Organization.Channel.EMAIL,
        notification_email="intake@riverside.example",
    )
    shelter = f.ServiceFactory(organization=webhook_partner, name="Shelter beds", need_domain="housing")
    f.ServiceCapacityFactory(service=shelter)
    recovery = f.ServiceFactory(organization=email_partner, name="Outpatient recovery", need_domain="recovery")
    email_partner_user = f.PartnerUserFactory(partner_organization=email_partner)
    credential = credential_for(webhook_partner)

    side = Side(born=timezone.datetime.fromisoformat(DOB).date())
    t = side.texts
    for name in [
        "first", "last", "preferred", "phone_word", "cad", "call_reason", "location", "safety", "address",
        "where", "mrn", "hmis", "plan", "coping", "help", "contact_note", "next_step", "witness",
        "reason_webhook", "reason_email", "cancel", "support",
    ]:  # fmt: skip
        t[name] = token(f"C{name.replace('_', '')[:6]}")
    t["phone"] = "405-555-0143"
    t["email"] = f"{token('cmail')}@example.net"
    done: set[int] = set()

    with django_capture_on_commit_callbacks(execute=True):
        # 1. The 911 call arrives from CAD over the API.
        api = APIClient()
        api.force_login(integration)
        answer = api.post(
            "/api/v1/encounters/intake/",
            {
                "cad_incident_number": "CAD-2026-424242",
                "call_received_at": timezone.now().isoformat(),
                "location_text": t["location"],
                "reason_for_call": t["call_reason"],
                "person": {
                    "legal_first_name": t["first"],
                    "legal_last_name": t["last"],
                    "date_of_birth": DOB,
                    "phone": t["phone"],
                    "cad_person_id": t["cad"],
                },
            },
            format="json",
        )
        assert answer.status_code == 201, answer.content
        person = Individual.objects.get(pk=answer.json()["individual_id"])
        Individual.objects.filter(pk=person.pk).update(
            preferred_name=t["preferred"],
            email=t["email"],
            address=t["address"],
            where_staying=t["where"],
            responder_safety_notes=t["safety"],
            mrn=t["mrn"],
            hmis_id=t["hmis"],
        )
        f.SupportContactFactory(individual=person, name=t["support"])
        case = case_services.open_case(individual=person, by=navigator, encounter=person.encounters.get())

        # 2. The navigator's pages: safety plan, a contact, a consent for the webhook partner.
        client.force_login(navigator)
        page = client.post(
            reverse("cases:safety_plan_edit", args=[case.pk]),
            plan_post(
                warning_signs=[t["plan"]],
                coping_strategies=[t["coping"]],
                help_contacts=[{"name": t["help"], "phone": "405-555-0199"}],
            ),
            follow=True,
        )
        assert page.status_code == 200 and case.safety_plans.count() == 1
        page = client.post(
            reverse("cases:log_contact", args=[case.pk]),
            {
                "outcome": "reached",
                "method": "phone",
                "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "note": t["contact_note"],
                "next_step": t["next_step"],
            },
            follow=True,
        )
        assert page.status_code == 200 and case.contacts.count() == 1
        client.post(
            reverse("referrals:record_consent", args=[case.pk, shelter.pk]),
            {"method": "verbal", "witness_name": t["witness"]},
            follow=True,
        )
        assert person.consents.filter(recipient_organization=webhook_partner).exists()

        # 3. A referral made and sent on the page, to the webhook partner.
        page = client.post(
            reverse("referrals:new", args=[case.pk]) + f"?service={shelter.pk}",
            {"service": shelter.pk, "reason": t["reason_webhook"], "urgency": "urgent", "shares_contact_details": "on"},
            follow=True,
        )
        assert page.status_code == 200, page.content[:500]
        to_webhook = Referral.objects.get(individual=person, organization=webhook_partner)
        assert to_webhook.status == "requested"

        # 4. A consent and a referral over the API, to the email partner.
        staff_api = APIClient()
        staff_api.force_login(navigator)
        answer = staff_api.post(
            "/api/v1/consents/",
            {
                "individual": person.pk,
                "recipient_organization": email_partner.pk,
                "method": "written",
                "covers_part2": True,
                "given_at": timezone.now().isoformat(),
            },
            format="json",
        )
        assert answer.status_code == 201, answer.content
        answer = staff_api.post(
            "/api/v1/referrals/",
            {
                "individual": person.pk,
                "service": recovery.pk,
                "case": case.pk,
                "reason": t["reason_email"],
                "includes_part2": True,
            },
            format="json",
        )
        assert answer.status_code == 201, answer.content
        to_email = Referral.objects.get(pk=answer.json()["id"])
        answer = staff_api.post(
            f"/api/v1/referrals/{to_email.pk}/send/", {}, format="json", HTTP_IF_MATCH=answer["ETag"]
        )
        assert answer.status_code == 200, answer.content

        # 5. The navigator finds the person again: by name on the caseload, by name and date of birth
        # on the people page, as their search boxes submit.
        pages = [
            search_as_the_page_does(client, reverse("cases:caseload"), t["last"]),
            search_as_the_page_does(client, reverse("cases:people"), t["first"]),
            search_as_the_page_does(client, reverse("cases:people"), DOB),
        ]
        assert all(reverse("cases:person", args=[person.pk]) in p.content.decode() for p in pages)
        pages.append(client.get(reverse("cases:person", args=[person.pk])))
        pages.append(client.get(reverse("referrals:detail", args=[to_webhook.pk])))

    # The worker delivers what was published.
    _run_published(tasks, done)
    assert receiver.requests, "the webhook partner heard nothing"
    assert mail.outbox, "the email partner got no email"

    with django_capture_on_commit_callbacks(execute=True):
        # 6. The webhook partner accepts over the partner API; the email partner on the partner page.
        partner_api = APIClient()
        partner_api.credentials(HTTP_AUTHORIZATION=f"Bearer {credential.key}")
        read = partner_api.get(f"/api/v1/partner/referrals/{to_webhook.pk}/")
        assert read.status_code == 200
        answer = partner_api.post(
            f"/api/v1/partner/referrals/{to_webhook.pk}/accept/",
            {"note": "We will call within two days."},
            format="json",
            HTTP_IF_MATCH=read["ETag"],
        )
        assert answer.status_code == 200, answer.content
        client.force_login(email_partner_user)
        link = re.search(r"https://crt\.example\.gov(/\S+)", mail.outbox[0].body).group(1)
        assert client.get(link).status_code == 200
        client.post(reverse("providers:partner_move", args=[to_email.pk, "start"]), {"note": ""}, follow=True)

        # 7. Ten days on: the chase and the follow-up sweep.
        later = timezone.now() + timedelta(days=10)
        chase.chase_due_referrals(later)
        follow_up_sweep.sweep_due_follow_ups(later)
    _run_published(tasks, done)

    # 8. The supervisor exports the accounting of disclosures.
    client.force_login(supervisor)
    export = client.get(reverse("audit:disclosures_csv", args=[person.pk]))
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    recipients = " ".join(" ".join(row) for row in rows)
    assert "Safe Harbor Housing" in recipients and "Riverside Recovery" in recipients

    canaries = side.canaries()
    sinks = {
        "logs": "\n".join(logs),
        "task messages": repr(tasks),
        "webhook requests": "\n".join(
            f"{r.path} {json.dumps(r.headers)} {r.body.decode('utf-8', 'replace')}" for r in receiver.requests
        ),
        "emails": "\n".join(
            f"{m.subject} {m.body} {m.to} {m.extra_headers} {getattr(m, 'alternatives', [])} {m.message().as_string()}"
            for m in mail.outbox
        ),
        "urls": "\n".join(urls),
        "links in pages": "\n".join(
            link for p in pages for link in re.findall(r'(?:href|action|src)="([^"]*)"', p.content.decode())
        ),
        "accounting of disclosures": export.content.decode(),
        # rows that are meant to hold ids and words only, never the values
        "access log rows": repr(list(AccessLog.objects.values("route", "detail", "purpose", "object_id"))),
        "outbox rows": repr(list(Delivery.objects.values())) + repr(list(DeliveryAttempt.objects.values())),
        "inbox items": repr(list(Item.objects.values()))
        + repr(list(ItemEvent.objects.values()))
        + repr(list(Notification.objects.values())),
        # what stays in the browser and the session store (flash messages included)
        "cookies and sessions": repr({name: morsel.value for name, morsel in client.cookies.items()})
        + repr([session.get_decoded() for session in Session.objects.all()])
        + repr(flashes),
    }
    assert {name: leaked(text, canaries) for name, text in sinks.items()} == {name: [] for name in sinks}
    # the sinks were really exercised, and no step failed quietly (the sweeps log and carry on)
    assert not [line for line in logs if " ERROR " in line or "Traceback" in line]
    assert len(flashes) >= 3 and len(urls) >= 12 and len(receiver.requests) >= 2 and len(mail.outbox) >= 1 and logs
    # task messages carry ids (and attempt counts) only
    assert tasks and all(isinstance(arg, int | None) for _n, args, kw in tasks for arg in [*args, *kw.values()])
