"""Benchmark of the staff pages: the caseload page with 500 cases, and a person whose timeline
holds 200 events, each against a raw SQL floor that fetches the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crt_web_bench .venv/bin/python bench/caseload_page.py

- page: the whole request as a WSGI server hands it to Django (`crt.wsgi`'s handler, as gunicorn
  calls it: middleware, session, scoping, the audit rows written for every object shown, template
  rendering, the request's start and end), with the session cookie of a signed-in navigator and the
  deployed connection reuse (DATABASE_CONN_MAX_AGE=60, docs/deploy.md), median of --runs. Django's
  test client, which this used before, adds its own work to every request (a copy of each
  template's context, for tests to inspect): --test-client measures through it instead;
- floor: the same rows and columns read with hand-written SQL on the same connection (one query per
  list the page shows), median of --runs;
- floor + sign-in + audit: the floor, then the statements any signed-in page sends before it shows
  a person's data and after (the session, the user, the user's roles, the inbox count in the
  navigation, and the audit INSERT of the rows shown), captured from the page's own request (after
  the first, which also writes the session's clocks) and replayed with their parameters: what the
  page must send in all.
All three run turn about, so that the machine's drift falls on each.

The ratio page / floor is the target (--target, default 3). All are measured in the same run, on the
same data, so the ratios do not depend on the machine. Each run adds a new program of its own
(nothing is deleted); use a database of its own. Prints one line per page and exits 1 if a ratio to
the floor is over --target.
"""

import argparse
import io
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
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")  # as deployed (docs/deploy.md)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
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

# The caseload's floor reads the rows and columns the page shows: my open cases ordered with high-risk
# missed follow-ups first, then other missed ones, then by the next follow-up (its label, and the missed
# one's label and time, and the last contact, read for the 50 shown only: the fastest form found, a
# median 2.18 ms against 2.33 ms for LATERAL joins reading both follow-ups' rows for every case); what
# is due before the end of today, missed follow-ups included, with their owners; the referrals waiting
# on partners.
CASELOAD_SQL = """
SELECT p.*,
       (SELECT f.label FROM cases_followup f WHERE f.case_id = p.id AND f.done_at IS NULL AND NOT f.is_missed
        ORDER BY f.due_at, f.id LIMIT 1),
       (SELECT min(f.due_at) FROM cases_followup f WHERE f.case_id = p.id AND f.dismissed_at IS NULL AND f.is_missed),
       (SELECT f.label FROM cases_followup f WHERE f.case_id = p.id AND f.dismissed_at IS NULL AND f.is_missed
        ORDER BY f.due_at, f.id LIMIT 1),
       (SELECT max(ct.occurred_at) FROM cases_contact ct WHERE ct.case_id = p.id)
FROM (
    SELECT c.id, c.risk_level, i.id AS person, i.legal_first_name, i.preferred_name, i.legal_last_name,
           i.is_do_not_contact, nf.due_at AS next_due_at, mf.missed
    FROM cases_case c
    JOIN cases_individual i ON i.id = c.individual_id
    CROSS JOIN LATERAL (
        SELECT min(f.due_at) AS due_at FROM cases_followup f
        WHERE f.case_id = c.id AND f.done_at IS NULL AND NOT f.is_missed
    ) nf
    CROSS JOIN LATERAL (
        SELECT EXISTS (SELECT 1 FROM cases_followup f WHERE f.case_id = c.id AND f.dismissed_at IS NULL AND f.is_missed)
        AS missed
    ) mf
    WHERE c.program_id = %(program)s AND c.status <> 'closed'
      AND (c.navigator_id = %(user)s OR c.peer_id = %(user)s)
    ORDER BY CASE WHEN mf.missed AND c.risk_level = 'high' THEN 0 WHEN mf.missed THEN 1 ELSE 2 END,
             nf.due_at NULLS LAST, c.id
    LIMIT 50
) p
"""
CASELOAD_COUNT_SQL = """
SELECT count(*) FROM cases_case c
WHERE c.program_id = %(program)s AND c.status <> 'closed' AND (c.navigator_id = %(user)s OR c.peer_id = %(user)s)
"""
DUE_SQL = """
SELECT f.id, f.case_id, f.label, f.due_at, f.is_missed, f.owner_id, u.first_name, u.last_name, u.username,
       c.risk_level, i.id, i.legal_first_name, i.preferred_name, i.legal_last_name
FROM cases_followup f JOIN cases_case c ON c.id = f.case_id JOIN cases_individual i ON i.id = c.individual_id
LEFT JOIN accounts_user u ON u.id = f.owner_id
WHERE c.program_id = %(program)s AND c.status <> 'closed' AND (c.navigator_id = %(user)s OR c.peer_id = %(user)s)
  AND f.done_at IS NULL AND f.dismissed_at IS NULL AND f.due_at < %(end)s
ORDER BY CASE WHEN f.is_missed AND c.risk_level = 'high' THEN 0 WHEN f.is_missed THEN 1 ELSE 2 END, f.due_at, f.id
LIMIT 50
"""
WAITING_SQL = """
SELECT r.id, r.individual_id, r.status, r.business_status, r.requested_at, r.next_action_due_at,
       i.legal_first_name, i.preferred_name, i.legal_last_name, o.name, s.name
FROM referrals_referral r JOIN cases_case c ON c.id = r.case_id JOIN cases_individual i ON i.id = r.individual_id
JOIN providers_organization o ON o.id = r.organization_id JOIN providers_service s ON s.id = r.service_id
WHERE r.program_id = %(program)s AND c.status <> 'closed' AND (c.navigator_id = %(user)s OR c.peer_id = %(user)s)
  AND r.status IN ('requested', 'accepted', 'in-progress', 'on-hold') AND r.next_action_owner = 'partner'
ORDER BY r.requested_at, r.id LIMIT 50
"""
# What any signed-in page sends besides its lists (one statement each), found by the table each names.
SIGN_IN_AND_AUDIT = ('"django_session"', '"accounts_user"."id" = ', '"auth_group"', '"inbox_item"', '"audit_accesslog"')

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


def interleaved_medians(functions, runs: int) -> list[float]:
    """Median seconds of each, run turn about so that the shared machine's drift falls on all."""
    for fn in functions:  # warm: first-use costs (template compilation, connection) are not measured
        fn()
    samples: list[list[float]] = [[] for _ in functions]
    for _ in range(runs):
        for fn, times in zip(functions, samples, strict=True):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
    return [statistics.median(times) for times in samples]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--target", type=float, default=3.0)
    parser.add_argument("--only", choices=["caseload", "person"], help="measure one page only")
    parser.add_argument("--test-client", action="store_true", help="through Django's test client, not WSGI")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("Run this on PostgreSQL (the floor's SQL uses LATERAL): set DATABASE_URL=postgres://...")
        return 2
    call_command("migrate", verbosity=0)
    if args.test_client:
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

    def floor(queries, replayed=()):
        def run():
            with connection.cursor() as cursor:
                for sql in queries:
                    cursor.execute(sql, params)
                    cursor.fetchall()
                for sql, values in replayed:
                    cursor.execute(sql, values)

        return run

    handler = WSGIHandler()
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    def page(url):
        def through_test_client():
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        def through_wsgi():
            environ = {
                "REQUEST_METHOD": "GET",
                "PATH_INFO": url,
                "QUERY_STRING": "",
                "SERVER_NAME": "testserver",
                "SERVER_PORT": "80",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "HTTP_HOST": "testserver",
                "HTTP_COOKIE": cookie,
                "REMOTE_ADDR": "127.0.0.1",
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(b""),
                "wsgi.errors": sys.stderr,
            }
            status = []
            response = handler(environ, lambda line, headers: status.append(line))
            b"".join(response)
            response.close()
            assert status[0].startswith("200"), status

        return through_test_client if args.test_client else through_wsgi

    def sign_in_and_audit(url) -> list[tuple[str, object]]:
        """The statements of one request to `url` that are not its lists: the session, the user and
        their roles, the inbox count, and the audit INSERT (as sent, with their parameters)."""
        sent = []

        def capture(execute, sql, values, many, context):
            sent.append((sql, values))
            return execute(sql, values, many, context)

        page(url)()  # the first request after sign-in also writes the session's clocks; later ones do not
        with connection.execute_wrapper(capture):
            page(url)()
        kept = [(sql, values) for sql, values in sent if any(table in sql for table in SIGN_IN_AND_AUDIT)]
        assert len(kept) == len(SIGN_IN_AND_AUDIT), [sql[:60] for sql, _ in sent]
        return kept

    checks = [
        ("caseload", reverse("cases:caseload"), [CASELOAD_SQL, CASELOAD_COUNT_SQL, DUE_SQL, WAITING_SQL]),
        ("person timeline", reverse("cases:person", args=[person.pk]), PERSON_SQL),
    ]
    worst = 0.0
    for name, url, queries in checks:
        if args.only and not name.startswith(args.only):
            continue
        replayed = sign_in_and_audit(url)
        floor_s, full_s, page_s = interleaved_medians([floor(queries), floor(queries, replayed), page(url)], args.runs)
        ratio = page_s / floor_s
        worst = max(worst, ratio)
        print(
            f"{name:16} page {page_s * 1000:7.1f} ms  floor {floor_s * 1000:6.1f} ms  ratio {ratio:5.2f}x  "
            f"floor + sign-in + audit {full_s * 1000:6.1f} ms  ratio {page_s / full_s:5.2f}x"
        )
    print(f"cases={args.cases} events={args.events} runs={args.runs} target<={args.target}x")
    return 0 if worst <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
