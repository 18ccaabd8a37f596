"""Benchmark of the program metrics dashboard against hand-written SQL for the same measures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crt_bench_metrics \\
        .venv/bin/python manage.py seed_bulk --individuals 1000000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crt_bench_metrics \\
        .venv/bin/python bench/metrics_dashboard.py

Over the last 12 whole months of the program's data (about half of seed_bulk's two years; --period
takes any period the dashboard takes), it times:

- floor, dashboard: hand-written SQL computing every measure for the dashboard's groupings (the
  totals, race/ethnicity and every split): per source one GROUPING SETS statement for the counts
  and one for the times (percentile_cont), five statements in all;
- dashboard: GET /metrics/?period=... through Django's test client as a supervisor:
  session, permission, the measures, suppression, SVG charts and the HTML page;
- floor, every grouping: the same SQL for every grouping (what the CSV export and report need);
- every grouping: metrics.compute.compute() for every measure and grouping, as the CSV, API and
  monthly report use it.

Each is run --runs times, interleaved, and the median is printed with the ratio to its floor. The
figures of the floor and of metrics.compute are compared cell by cell first (any difference stops
the run), so both sides provably compute the same measures.

seed_bulk writes no follow-up contacts and one encounter per person, so on first use this script
adds, once and with plain SQL, a contact for about 70 % of cases and a second encounter for about
8 % of people (within 40 days): the follow-up and repeat-crisis measures then have work to do.
"""

import argparse
import os
import statistics
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crt.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Program, User  # noqa: E402
from accounts.roles import Role  # noqa: E402
from cases.models import Contact, Encounter  # noqa: E402
from metrics import periods  # noqa: E402
from metrics.compute import compute  # noqa: E402
from metrics.periods import Selection  # noqa: E402
from metrics.sources import DIMENSIONS, SPLITS  # noqa: E402

# --- the floor: hand-written SQL for the same measures --------------------------------------------

AGE = """CASE WHEN i.date_of_birth > (e.{at} AT TIME ZONE %(tz)s)::date THEN 'unknown'
  ELSE COALESCE((ARRAY['unknown', 'under_18', '18_24', '25_34', '35_44', '45_54', '55_64', '65_over'])[
    1 + width_bucket(date_part('year', age((e.{at} AT TIME ZONE %(tz)s)::date, i.date_of_birth)),
                     ARRAY[0, 18, 25, 35, 45, 55, 65]::float8[])], 'unknown') END"""
PERSON = """COALESCE(NULLIF(i.race_ethnicity, ''), 'unknown') AS race_ethnicity,
  {age} AS age_band,
  COALESCE(NULLIF(i.primary_language, ''), 'unknown') AS language,
  COALESCE(NULLIF(i.area, ''), 'unknown') AS area"""
MET = "('stabilised', 'voluntary_crisis_centre', 'emergency_department', 'involuntary_hold', 'arrest', 'refused')"
TRANSPORTED = "('voluntary_crisis_centre', 'emergency_department', 'involuntary_hold')"

ENCOUNTER_KEYS = f"""{PERSON.format(age=AGE.format(at="call_received_at"))},
    e.call_source,
    COALESCE(NULLIF(e.call_type, ''), 'not recorded') AS call_type,
    (date_part('year', e.call_received_at AT TIME ZONE %(tz)s) * 100
      + date_part('month', e.call_received_at AT TIME ZONE %(tz)s))::int AS month,
    CASE WHEN e.disposition IN {TRANSPORTED}
      THEN COALESCE(NULLIF(e.transport_destination, ''), 'not recorded') END AS destination"""
ENCOUNTER_ROWS = """FROM cases_encounter e LEFT JOIN cases_individual i ON i.id = e.individual_id
  WHERE e.program_id = %(program)s AND e.call_received_at >= %(start)s AND e.call_received_at < %(end)s"""
CLOCK = "COALESCE(e.cleared_at, e.on_scene_at, e.call_received_at)"
REACHED = """EXISTS (SELECT 1 FROM cases_contact c JOIN cases_case k ON k.id = c.case_id
                   WHERE k.individual_id = e.individual_id AND c.outcome = 'reached'
                     AND c.occurred_at > {clock} AND c.occurred_at <= {clock} + interval '{hours} hours')"""

ENCOUNTER_COUNTS = f"""
WITH f AS (
  SELECT {ENCOUNTER_KEYS},
    e.disposition = 'cancelled' AS cancelled,
    e.disposition <> 'cancelled' AS responded,
    e.disposition IN {MET} AS met,
    e.disposition = 'stabilised' AS stabilised,
    e.disposition IN {TRANSPORTED} AS transported,
    e.disposition = 'voluntary_crisis_centre' AS crisis_centre,
    e.disposition = 'emergency_department' AS emergency_department,
    e.disposition = 'involuntary_hold' AS hold,
    e.disposition = 'arrest' AS arrest,
    e.disposition IN {MET} OR e.disposition = 'unable_to_locate' AS attempted,
    e.disposition = '' AS no_disposition,
    e.law_enforcement,
    e.disposition <> 'cancelled' AND (e.dispatched_at IS NULL OR e.on_scene_at IS NULL) AS response_missing,
    e.disposition <> 'cancelled' AND (e.on_scene_at IS NULL OR e.cleared_at IS NULL) AS scene_missing,
    e.individual_id IS NOT NULL AND e.disposition <> 'cancelled' AS indexed,
    e.call_received_at <= %(as_of)s - interval '30 days' AS ripe_30d,
    e.individual_id IS NOT NULL AND e.disposition <> 'cancelled'
      AND e.call_received_at <= %(as_of)s - interval '30 days'
      AND EXISTS (SELECT 1 FROM cases_encounter r
                  WHERE r.individual_id = e.individual_id AND r.call_received_at > e.call_received_at
                    AND r.call_received_at <= e.call_received_at + interval '30 days'
                    AND r.disposition <> 'cancelled') AS repeated,
    e.individual_id IS NOT NULL AND e.disposition IN {MET}
      AND {CLOCK} <= %(as_of)s - interval '24 hours' AS due_24h,
    e.individual_id IS NOT NULL AND e.disposition IN {MET}
      AND {CLOCK} <= %(as_of)s - interval '24 hours' AND {REACHED.format(clock=CLOCK, hours=24)} AS reached_24h,
    e.individual_id IS NOT NULL AND e.disposition IN {MET}
      AND {CLOCK} <= %(as_of)s - interval '72 hours' AS due_72h,
    e.individual_id IS NOT NULL AND e.disposition IN {MET}
      AND {CLOCK} <= %(as_of)s - interval '72 hours' AND {REACHED.format(clock=CLOCK, hours=72)} AS reached_72h
  {ENCOUNTER_ROWS}
)
SELECT {{key}},
  count(*) AS calls,
  count(*) FILTER (WHERE cancelled) AS cancelled,
  count(*) FILTER (WHERE response_missing) AS response_missing,
  count(*) FILTER (WHERE scene_missing) AS scene_missing,
  count(*) FILTER (WHERE met) AS contacted,
  count(*) FILTER (WHERE stabilised) AS stabilised,
  count(*) FILTER (WHERE transported) AS transports,
  count(*) FILTER (WHERE crisis_centre) AS crisis_centre,
  count(*) FILTER (WHERE emergency_department) AS emergency_department,
  count(*) FILTER (WHERE hold) AS holds,
  count(*) FILTER (WHERE arrest) AS arrests,
  count(*) FILTER (WHERE responded) AS responses,
  count(*) FILTER (WHERE responded AND law_enforcement = 'requested') AS police_requested,
  count(*) FILTER (WHERE responded AND law_enforcement = 'on_scene') AS police_on_scene,
  count(*) FILTER (WHERE responded AND law_enforcement <> 'none') AS police_any,
  count(*) FILTER (WHERE attempted) AS attempted,
  count(*) FILTER (WHERE no_disposition) AS no_disposition,
  count(*) FILTER (WHERE indexed AND ripe_30d) AS people,
  count(*) FILTER (WHERE repeated) AS repeats,
  count(*) FILTER (WHERE indexed AND NOT ripe_30d) AS pending,
  count(*) FILTER (WHERE due_24h) AS due_24h,
  count(*) FILTER (WHERE reached_24h) AS reached_24h,
  count(*) FILTER (WHERE due_72h) AS due_72h,
  count(*) FILTER (WHERE reached_72h) AS reached_72h
FROM f GROUP BY GROUPING SETS ({{sets}})"""

ENCOUNTER_TIMES = f"""
WITH f AS (
  SELECT {ENCOUNTER_KEYS},
    CASE WHEN e.disposition <> 'cancelled'
      THEN EXTRACT(EPOCH FROM e.on_scene_at - e.dispatched_at)::float8 END AS response_s,
    CASE WHEN e.disposition <> 'cancelled'
      THEN EXTRACT(EPOCH FROM e.cleared_at - e.on_scene_at)::float8 END AS scene_s
  {ENCOUNTER_ROWS}
)
SELECT {{key}},
  count(response_s) AS response_n,
  percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response_s) AS response,
  count(scene_s) AS scene_n,
  percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY scene_s) AS scene
FROM f GROUP BY GROUPING SETS ({{sets}})"""

REFERRAL_KEYS = f"""{PERSON.format(age=AGE.format(at="requested_at"))},
    e.organization_id AS partner"""
REFERRAL_ROWS = """FROM referrals_referral e LEFT JOIN cases_individual i ON i.id = e.individual_id
  WHERE e.program_id = %(program)s AND e.requested_at >= %(start)s AND e.requested_at < %(end)s
    AND e.status <> 'entered-in-error'"""

REFERRAL_COUNTS = f"""
WITH f AS (
  SELECT {REFERRAL_KEYS},
    e.status,
    e.status IN ('accepted', 'in-progress', 'on-hold', 'completed', 'failed')
      OR EXISTS (SELECT 1 FROM referrals_referralevent v WHERE v.referral_id = e.id AND v.to_status = 'accepted')
      AS accepted
  {REFERRAL_ROWS}
)
SELECT {{key}},
  count(*) AS made,
  count(*) FILTER (WHERE accepted) AS accepted,
  count(*) FILTER (WHERE status = 'completed') AS completed,
  count(*) FILTER (WHERE status IN ('requested', 'accepted', 'in-progress', 'on-hold')) AS open
FROM f GROUP BY GROUPING SETS ({{sets}})"""

REFERRAL_TIMES = f"""
WITH f AS (
  SELECT {REFERRAL_KEYS},
    EXTRACT(EPOCH FROM (SELECT v.created_at FROM referrals_referralevent v
                        WHERE v.referral_id = e.id AND v.to_status IN ('accepted', 'rejected')
                        ORDER BY v.created_at, v.id LIMIT 1) - e.requested_at)::float8 AS answer_s
  {REFERRAL_ROWS}
)
SELECT {{key}},
  count(answer_s) AS answer_n,
  percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY answer_s) AS answer
FROM f GROUP BY GROUPING SETS ({{sets}})"""

OPEN_CASES = f"""
WITH f AS (
  SELECT {PERSON.format(age=AGE.format(at="opened_at"))},
    COALESCE(e.navigator_id, 0) AS navigator,
    e.risk_level = 'high' AS high_risk
  FROM cases_case e LEFT JOIN cases_individual i ON i.id = e.individual_id
  WHERE e.program_id = %(program)s AND e.opened_at < %(point)s
    AND (e.closed_at IS NULL OR e.closed_at >= %(point)s) AND e.closed_reason <> 'duplicate'
)
SELECT {{key}},
  count(*) AS open_cases,
  count(*) FILTER (WHERE high_risk) AS high_risk
FROM f GROUP BY GROUPING SETS ({{sets}})"""

# source -> (its statements, its splits). Counts and times apart, as an expert would write them:
# counts hash every grouping set in one pass; only the few timed columns are sorted for percentiles.
FLOOR = {
    "encounters": ([ENCOUNTER_COUNTS, ENCOUNTER_TIMES], ["call_source", "call_type", "month", "destination"]),
    "referrals": ([REFERRAL_COUNTS, REFERRAL_TIMES], ["partner"]),
    "open_cases": ([OPEN_CASES], ["navigator"]),
}


def floor(selection: Selection, groupings: list[str]) -> dict:
    """{(source, grouping, key): {figure: value}} by hand-written SQL."""
    params = {
        "tz": settings.TIME_ZONE,
        "program": selection.program_id,
        "start": selection.start,
        "end": selection.end,
        "as_of": selection.as_of,
        "point": selection.point,
    }
    out = {}
    for source, (templates, splits) in FLOOR.items():
        columns = [g for g in groupings if g in DIMENSIONS or g in splits]
        key = ", ".join([f"GROUPING({', '.join(columns)}) AS grouping_bits", *columns])
        sets = ", ".join(["()", *(f"({c})" for c in columns)])
        everything = (1 << len(columns)) - 1
        for template in templates:
            with connection.cursor() as cursor:
                cursor.execute(template.format(key=key, sets=sets), params)
                names = [c.name for c in cursor.description]
                for record in cursor.fetchall():
                    row = dict(zip(names, record, strict=True))
                    bits = row.pop("grouping_bits")
                    keys = [row.pop(c) for c in columns]
                    if bits == everything:
                        out.setdefault((source, "all", None), {}).update(row)
                        continue
                    k = len(columns) - (everything ^ bits).bit_length()  # GROUPING's first column is its top bit
                    out.setdefault((source, columns[k], keys[k]), {}).update(row)
    return out


# --- checks that both sides computed the same figures ------------------------------------------

# metrics figure -> (floor source, floor column, transform)
MINUTES, HOURS = 60.0, 3600.0


def _p(column, index, unit):
    return lambda row: None if row[column] is None else round(row[column][index] / unit, 1)


def _c(column):
    return lambda row: row[column]


CHECKS = {
    ("call_volume", "calls"): _c("calls"),
    ("call_volume", "cancelled"): _c("cancelled"),
    ("response_time", "response_n"): _c("response_n"),
    ("response_time", "response_median"): _p("response", 0, MINUTES),
    ("response_time", "response_p90"): _p("response", 1, MINUTES),
    ("response_time", "missing_time"): _c("response_missing"),
    ("time_on_scene", "on_scene_median"): _p("scene", 0, MINUTES),
    ("time_on_scene", "on_scene_p90"): _p("scene", 1, MINUTES),
    ("time_on_scene", "missing_time"): _c("scene_missing"),
    ("stabilised_in_place", "contacted"): _c("contacted"),
    ("stabilised_in_place", "stabilised"): _c("stabilised"),
    ("transports", "transports"): _c("transports"),
    ("transports", "crisis_centre"): _c("crisis_centre"),
    ("involuntary_holds", "holds"): _c("holds"),
    ("law_enforcement", "requested"): _c("police_requested"),
    ("law_enforcement", "on_scene"): _c("police_on_scene"),
    ("law_enforcement", "any"): _c("police_any"),
    ("arrests", "arrests"): _c("arrests"),
    ("field_contact", "attempted"): _c("attempted"),
    ("field_contact", "no_disposition"): _c("no_disposition"),
    ("repeat_crisis", "people"): _c("people"),
    ("repeat_crisis", "repeat"): _c("repeats"),
    ("repeat_crisis", "pending"): _c("pending"),
    ("follow_up_contact", "due_24h"): _c("due_24h"),
    ("follow_up_contact", "reached_24h"): _c("reached_24h"),
    ("follow_up_contact", "due_72h"): _c("due_72h"),
    ("follow_up_contact", "reached_72h"): _c("reached_72h"),
    ("referrals", "made"): _c("made"),
    ("referrals", "accepted"): _c("accepted"),
    ("referrals", "completed"): _c("completed"),
    ("referrals", "open"): _c("open"),
    ("referrals", "first_answer_n"): _c("answer_n"),
    ("referrals", "first_answer_median"): _p("answer", 0, HOURS),
    ("referrals", "first_answer_p90"): _p("answer", 1, HOURS),
    ("open_caseload", "open_cases"): _c("open_cases"),
    ("open_caseload", "high_risk"): _c("high_risk"),
}


def compare(results, floor_figures) -> int:
    """Every figure of CHECKS in every table of `results` against the floor; returns how many matched."""
    matched = 0
    for (measure_key, grouping), table in results.tables.items():
        source = table.measure.source.key
        for row in table.rows:
            expected_row = floor_figures.get((source, grouping, row.key))
            if expected_row is None:
                raise SystemExit(f"The floor has no row for {measure_key} / {grouping} / {row.key!r}.")
            for (key_measure, figure), read in CHECKS.items():
                if key_measure != measure_key or figure in row.suppressed:
                    continue
                expected, got = read(expected_row), row.values[figure]
                if expected != got:
                    raise SystemExit(f"{measure_key}.{figure} for {grouping}={row.key!r}: floor {expected}, ours {got}")
                matched += 1
    return matched


# --- setup ----------------------------------------------------------------------------------------


def say(message: str) -> None:
    print(message, flush=True)


def add_follow_ups_and_repeats(program: Program) -> None:
    """Once per database: contacts for ~70 % of cases and a second call for ~8 % of people."""
    if Contact.objects.system("has this benchmark added its contacts").filter(case__program=program).exists():
        return
    started = time.monotonic()
    fields = [f for f in Encounter._meta.concrete_fields if not f.primary_key]
    overrides = {
        "cad_incident_number": "e.cad_incident_number || '-R'",
        "call_received_at": "e.call_received_at + s.shift",
        "dispatched_at": "e.dispatched_at + s.shift",
        "on_scene_at": "e.on_scene_at + s.shift",
        "cleared_at": "e.cleared_at + s.shift",
        "created_at": "e.created_at + s.shift",
        "updated_at": "e.updated_at + s.shift",
    }
    columns = ", ".join(f'"{f.column}"' for f in fields)
    values = ", ".join(overrides.get(f.column, f'e."{f.column}"') for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO cases_encounter ({columns}) SELECT {values} FROM cases_encounter e "
            # correlated (e.id), so that every copy draws its own shift: 6 hours to 40 days later
            "CROSS JOIN LATERAL (SELECT interval '1 hour' * (6 + random() * 954 + 0 * e.id) AS shift) s "
            "WHERE e.program_id = %s AND random() < 0.08 AND e.call_received_at + s.shift < now() - interval '4 hours'",
            [program.pk],
        )
        repeats = cursor.rowcount
        cursor.execute(
            "INSERT INTO cases_contact (case_id, made_by_id, occurred_at, method, outcome, duration_minutes, note, "
            "needs_identified, next_step, created_at) "
            "SELECT k.id, k.navigator_id, e.cleared_at + interval '1 hour' * random() * 96, 'phone', "
            "CASE WHEN random() < 0.8 THEN 'reached' ELSE 'attempted' END, 10, '', '[]', '', now() "
            "FROM cases_case k JOIN cases_encounter e ON e.id = k.encounter_id "
            "WHERE k.program_id = %s AND k.navigator_id IS NOT NULL AND e.cleared_at IS NOT NULL AND random() < 0.7",
            [program.pk],
        )
        contacts = cursor.rowcount
        cursor.execute("ANALYZE cases_encounter")
        cursor.execute("ANALYZE cases_contact")
    say(f"Added {repeats:,} repeat encounters and {contacts:,} contacts in {time.monotonic() - started:.0f} s.")


def bench_supervisor(program: Program) -> User:
    user, created = User.objects.get_or_create(
        username=f"{program.slug}.bench.supervisor", defaults={"program": program, "first_name": "Bench"}
    )
    if created:
        user.set_unusable_password()  # signs in only through the test client's force_login
        user.save()
        user.groups.add(Group.objects.get(name=Role.SUPERVISOR.label))
    return user


def urlconf() -> types.ModuleType:
    """The site's URLs, plus the metrics URLs if crt/urls.py does not include them yet."""
    from crt.urls import urlpatterns as site

    module = types.ModuleType("bench_urls")
    wired = any(getattr(p, "namespace", None) == "metrics" for p in site)
    module.urlpatterns = [*site] if wired else [*site, path("", include("metrics.urls"))]
    return module


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--program", default="okc", help="Program slug (seed_bulk's default: okc).")
    parser.add_argument("--runs", type=int, default=3, help="Timed runs of each (the median is printed).")
    parser.add_argument(
        "--period", default="last-12-months", help="A period the dashboard takes (default: last-12-months)."
    )
    parser.add_argument("--no-extras", action="store_true", help="Do not add follow-up contacts and repeat calls.")
    parser.add_argument(
        "--no-jit", action="store_true", help="SET jit = off for this session: both sides, floor and ours, alike."
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run this against PostgreSQL: DATABASE_URL=postgres://...")
    if args.no_jit:
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")
    program = Program.objects.get(slug=args.program)
    if not args.no_extras:
        add_follow_ups_and_repeats(program)
    supervisor = bench_supervisor(program)
    period = periods.parse(args.period, timezone.localdate())
    selection = Selection(program_id=program.pk, period=period)
    encounters = Encounter.objects.system("the benchmark says how many calls it measures").filter(program=program)
    in_period = encounters.filter(call_received_at__gte=selection.start, call_received_at__lt=selection.end)
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
    say(
        f"PostgreSQL {connection.pg_version // 10000} (jit {jit}), program {program.slug}: {encounters.count():,} "
        f"encounters, {in_period.count():,} in the period {period.first_day} to {period.last_day}. "
        f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs."
    )
    dashboard_groupings = ["race_ethnicity", *SPLITS]
    all_groupings = [*DIMENSIONS, *SPLITS]

    say("Checking that the floor and metrics.compute agree, figure by figure...")
    results = compute(selection)
    matched = compare(results, floor(selection, all_groupings))
    say(f"  {matched:,} figures agree.")

    client = Client()
    client.force_login(supervisor)
    url = f"/metrics/?period={args.period}"

    def dashboard():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
        return len(response.content)

    with override_settings(ROOT_URLCONF=urlconf()):
        cold, size = timed(dashboard)  # the team and area pickers are read once, then cached
        say(f"  First dashboard load (team and area pickers not cached yet): {cold:.2f} s, {size:,} bytes of HTML.")
        times = {"floor_dashboard": [], "dashboard": [], "floor_all": [], "compute_all": []}
        for run in range(1, args.runs + 1):
            times["floor_dashboard"].append(timed(lambda: floor(selection, dashboard_groupings))[0])
            times["dashboard"].append(timed(dashboard)[0])
            times["floor_all"].append(timed(lambda: floor(selection, all_groupings))[0])
            times["compute_all"].append(timed(lambda: compute(selection))[0])
            say(f"  run {run}: " + ", ".join(f"{name} {values[-1]:.2f} s" for name, values in times.items()))

    median = {name: statistics.median(values) for name, values in times.items()}
    say("")
    say(f"Load average now {os.getloadavg()[0]:.1f}.")
    say(f"Medians of {args.runs} runs, {period.label}: {in_period.count():,} encounters:")
    say(f"  floor: raw SQL, dashboard groupings        {median['floor_dashboard']:7.2f} s")
    say(
        f"  dashboard page (GET /metrics/)            {median['dashboard']:7.2f} s   "
        f"ratio {median['dashboard'] / median['floor_dashboard']:.2f}x (target <= 2x)"
    )
    say(f"  floor: raw SQL, every grouping             {median['floor_all']:7.2f} s")
    say(
        f"  every measure and grouping (compute)      {median['compute_all']:7.2f} s   "
        f"ratio {median['compute_all'] / median['floor_all']:.2f}x (target <= 2x)"
    )


if __name__ == "__main__":
    main()
