"""Benchmark of the staff pages: the caseload page with 500 cases, and a person whose timeline
holds 200 events, each against a raw SQL floor that fetches the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crt_web_bench .venv/bin/python bench/caseload_page.py

- page: the whole request through Django's test client (middleware, session, scoping, the audit
  rows written for every object shown, template rendering), median of --runs;
- floor: the same rows read with hand-written SQL on the same connection (one query per list the
  page shows), median of --runs, run turn about with the page so the machine's drift falls on both.

The ratio page / floor is the target (at most 3). Both are measured in the same run, on the same
data, so the ratio does not depend on the machine. Each run adds a new program of its own (nothing
is deleted); use a database of its own. Prints one line per page and exits 1 if a ratio is over
--target.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crt.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("CELERY_RESULT_BACKEND", "cache+memory://")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Program, User  # noqa: E402
from accounts.roles import Role  # noqa: E402
from cases.models import Case, Consent, Contact, Encounter, FollowUp, Individual, SafetyPlan  # noqa: E402
from crt.scoping import system_read  # noqa: E402
from providers.models import Organization, Service  # noqa: E402
from referrals.models import Referral  # noqa: E402

CASELOAD_SQL = """
SELECT c.id, c.risk_level, i.id, i.legal_first_name, i.preferred_name, i.legal_last_name, i.is_do_not_contact,
       (SELECT max(ct.occurred_at) FROM cases_contact ct WHERE ct.case_id = c.id),
       nf.due_at, nf.label
FROM cases_case c
JOIN cases_individual i ON i.id = c.individual_id
LEFT JOIN LATERAL (
    SELECT f.due_at, f.label FROM cases_followup f
    WHERE f.case_id = c.id AND f.done_at IS NULL AND NOT f.is_missed ORDER BY f.due_at LIMIT 1
) nf ON true
WHERE c.program_id = %(program)s AND c.status <> 'closed' AND (c.navigator_id = %(user)s OR c.peer_id = %(user)s)
ORDER BY nf.due_at NULLS LAST, c.id LIMIT 50
"""
CASELOAD_COUNT_SQL = """
SELECT count(*) FROM cases_case c
WHERE c.program_id = %(program)s AND c.status <> 'closed' AND (c.navigator_id = %(user)s OR c.peer_id = %(user)s)
"""
DUE_SQL = """
SELECT f.id, f.label, f.due_at, i.id, i.legal_first_name, i.legal_last_name
FROM cases_followup f JOIN cases_case c ON c.id = f.case_id JOIN cases_individual i ON i.id = c.individual_id
WHERE c.program_id = %(program)s AND c.status <> 'closed' AND (c.navigator_id = %(user)s OR c.peer_id = %(user)s)
  AND f.done_at IS NULL AND NOT f.is_missed AND f.due_at < %(end)s
ORDER BY f.due_at, f.id LIMIT 50
"""
WAITING_SQL = """
SELECT r.id, r.status, r.requested_at, i.legal_last_name, o.name, s.name
FROM referrals_referral r JOIN cases_case c ON c.id = r.case_id JOIN cases_individual i ON i.id = r.individual_id
JOIN providers_organization o ON o.id = r.organization_id JOIN providers_service s ON s.id = r.service_id
WHERE r.program_id = %(program)s AND c.status <> 'closed' AND (c.navigator_id = %(user)s OR c.peer_id = %(user)s)
  AND r.status IN ('requested', 'accepted', 'in-progress', 'on-hold') AND r.next_action_owner = 'partner'
ORDER BY r.requested_at, r.id LIMIT 50
"""
# The person page: the person, cases, support contacts and consents, and the timeline's first page,
# the newest 50 events of all kinds: at most the newest 50 of each kind, read whole (SELECT *).
PERSON_SQL = [
    "SELECT * FROM cases_individual WHERE id = %(person)s AND program_id = %(program)s",
    "SELECT * FROM cases_case WHERE individual_id = %(person)s",
    "SELECT * FROM cases_supportcontact WHERE individual_id = %(person)s",
    "SELECT c.*, o.name FROM cases_consent c LEFT JOIN providers_organization o ON o.id = c.recipient_organization_id"
    " WHERE c.individual_id = %(person)s",
    "SELECT * FROM cases_encounter WHERE individual_id = %(person)s ORDER BY call_received_at DESC LIMIT 50",
    "SELECT a.* FROM cases_assessment a JOIN cases_encounter e ON e.id = a.encounter_id"
    " WHERE e.individual_id = %(person)s ORDER BY a.performed_at DESC LIMIT 50",
    "SELECT ct.*, u.username FROM cases_contact ct JOIN cases_case c ON c.id = ct.case_id"
    " JOIN accounts_user u ON u.id = ct.made_by_id WHERE c.individual_id = %(person)s"
    " ORDER BY ct.occurred_at DESC LIMIT 50",
    "SELECT r.*, o.name, s.name FROM referrals_referral r JOIN providers_organization o ON o.id = r.organization_id"
    " JOIN providers_service s ON s.id = r.service_id WHERE r.individual_id = %(person)s"
    " ORDER BY r.created_at DESC LIMIT 50",
    "SELECT p.*, u.username FROM cases_safetyplan p JOIN cases_case c ON c.id = p.case_id"
    " JOIN accounts_user u ON u.id = p.created_by_id WHERE c.individual_id = %(person)s"
    " ORDER BY p.created_at DESC LIMIT 50",
]


def build(cases: int, events: int) -> tuple[User, Program, Individual]:
    now = timezone.now()
    tag = f"{int(time.time())}"
    program = Program.objects.create(name=f"Bench program {tag}", slug=f"bench-{tag}")
    navigator = User.objects.create_user(username=f"bench-nav-{tag}", program=program, password=None)
    navigator.groups.add(Group.objects.get(name=Role.NAVIGATOR.label))
    org = Organization.objects.create(name=f"Bench partner {tag}")
    service = Service.objects.create(organization=org, name="Bench housing", need_domain="housing")
    people = Individual.objects.bulk_create(
        Individual(program=program, legal_first_name=f"First{i}", legal_last_name=f"Last{i}") for i in range(cases)
    )
    case_rows = Case.objects.bulk_create(
        Case(program=program, individual=p, navigator=navigator, risk_level="moderate", opened_at=now) for p in people
    )
    FollowUp.objects.bulk_create(
        FollowUp(case=c, label=label, owner=navigator, due_at=now + timedelta(hours=offset))
        for i, c in enumerate(case_rows)
        for label, offset in (("24h", 24 - (i % 48)), ("72h", 72))
    )
    Contact.objects.bulk_create(
        Contact(case=c, made_by=navigator, occurred_at=now - timedelta(hours=i % 30), method="phone", outcome="reached")
        for i, c in enumerate(case_rows)
    )
    Referral.objects.bulk_create(
        Referral(
            program=program,
            individual=c.individual,
            case=c,
            service=service,
            organization=org,
            need_domain="housing",
            reason="Bench.",
            status="requested",
            requested_at=now - timedelta(hours=i),
            next_action_owner="partner",
            created_by=navigator,
        )
        for i, c in enumerate(case_rows[:100])
    )
    # One person with `events` timeline events of every kind.
    person, case = people[0], case_rows[0]
    share = events // 4
    Encounter.objects.bulk_create(
        Encounter(
            program=program,
            individual=person,
            cad_incident_number=f"B{tag}-{i}",
            call_received_at=now - timedelta(hours=4 * i + 1),
        )
        for i in range(share)
    )
    Contact.objects.bulk_create(
        Contact(
            case=case,
            made_by=navigator,
            occurred_at=now - timedelta(hours=4 * i + 2),
            method="text",
            outcome="attempted",
        )
        for i in range(share - 1)
    )
    timeline_referrals = Referral.objects.bulk_create(
        Referral(
            program=program,
            individual=person,
            case=case,
            service=service,
            organization=org,
            need_domain="housing",
            reason="Bench.",
            status="cancelled",
            status_reason="Bench.",
            created_by=navigator,
        )
        for _ in range(share - 1)
    )
    plans = SafetyPlan.objects.bulk_create(
        SafetyPlan(case=case, version=v, is_current=v == share, warning_signs=[f"sign {v}"], created_by=navigator)
        for v in range(1, share + 1)
    )
    # The four kinds interleave in time (creation times are set by the database on insert, so moved
    # after): the timeline's first page holds some of each, as a real history would.
    for i, referral in enumerate(timeline_referrals):
        Referral.objects.filter(pk=referral.pk).update(created_at=now - timedelta(hours=4 * i + 3))
    for i, plan in enumerate(reversed(plans)):
        SafetyPlan.objects.filter(pk=plan.pk).update(created_at=now - timedelta(hours=4 * i + 4))
    Consent.objects.create(
        individual=person, recipient_organization=org, method="written", given_at=now, recorded_by=navigator
    )
    return navigator, program, person


def interleaved_medians(first, second, runs: int) -> tuple[float, float]:
    """Median seconds of each, run turn about so that the shared machine's drift falls on both."""
    first(), second()  # warm: first-use costs (template compilation, connection) are not what we measure
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for fn, times in zip((first, second), samples, strict=True):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
    return statistics.median(samples[0]), statistics.median(samples[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--target", type=float, default=3.0)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("Run this on PostgreSQL (the floor's SQL uses LATERAL): set DATABASE_URL=postgres://...")
        return 2
    call_command("migrate", verbosity=0)
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SESSION_COOKIE_SECURE = False
    with system_read("the benchmark builds its own program's data"):
        navigator, program, person = build(args.cases, args.events)
    with connection.cursor() as cursor:
        # Planner statistics for the rows just written, as autovacuum would gather within a minute:
        # without them PostgreSQL guesses one row per table and the floor's plan scans every open
        # follow-up once per case (250 ms instead of a few).
        cursor.execute("ANALYZE")
    client = Client()
    client.force_login(navigator)
    params = {
        "program": program.pk,
        "user": navigator.pk,
        "person": person.pk,
        "end": timezone.now() + timedelta(days=1),
    }

    def floor(queries):
        def run():
            with connection.cursor() as cursor:
                for sql in queries:
                    cursor.execute(sql, params)
                    cursor.fetchall()

        return run

    def page(url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        return run

    checks = [
        ("caseload", reverse("cases:caseload"), [CASELOAD_SQL, CASELOAD_COUNT_SQL, DUE_SQL, WAITING_SQL]),
        ("person timeline", reverse("cases:person", args=[person.pk]), PERSON_SQL),
    ]
    worst = 0.0
    for name, url, queries in checks:
        floor_s, page_s = interleaved_medians(floor(queries), page(url), args.runs)
        ratio = page_s / floor_s
        worst = max(worst, ratio)
        print(f"{name:16} page {page_s * 1000:7.1f} ms  floor {floor_s * 1000:6.1f} ms  ratio {ratio:5.1f}x")
    print(f"cases={args.cases} events={args.events} runs={args.runs} target<={args.target}x")
    return 0 if worst <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
