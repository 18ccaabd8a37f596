"""Benchmark of the referral chase sweep: does one pass cost what is due, whatever the table's size?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crt_bench_1m \\
        .venv/bin/python bench/chase_sweep.py --referrals 1000000 --due 10000

Builds (with COPY) a referrals table of --referrals rows of which --due are open and overdue (the
rest: 5 % open and not yet due, the others closed), spread evenly through the table, so the due rows
share no heap pages. Then, with the table vacuumed and analysed, it measures:

- floor: an index-only count of the due set, the least any scan of it can cost;
- selection: the sweep's own reads: the due ids in one query (referrals.chase.due_referral_keys),
  then those and the referrals loaded in batches of 500 with their program, partner, case and
  users (referrals.chase.due_referrals);
- pass: one full chase pass (claim + effects for every due referral), then a second pass at the
  same instant, which must find nothing to do.

The pass changes the data; the script puts the due referrals back afterwards and deletes what the
pass created, so it can be run again on the same database (--skip-build reuses the table).
Use a database of its own: the build empties the referrals, cases and people tables.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crt.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
# The outbox kicks a delivery task after each commit: keep those messages in this process.
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("CELERY_RESULT_BACKEND", "cache+memory://")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Program, User  # noqa: E402
from accounts.roles import Role  # noqa: E402
from cases.models import Case, Individual  # noqa: E402
from crt.scoping import system_read  # noqa: E402
from crt.sweeps import BATCH_SIZE  # noqa: E402
from providers.models import Organization, Service  # noqa: E402
from referrals import chase  # noqa: E402
from referrals.models import OPEN, Referral  # noqa: E402

PEOPLE = 2_000
BATCH = 100_000
OPEN_NOT_DUE_SHARE = 0.05
SNAPSHOT = "bench_chase_due_snapshot"
# Not in the model: the index this benchmark proposes, which lets the key reads skip the table.
PROPOSED_INDEX = "bench_referral_due_open_id"
ALL = 10**9  # no per-pass limit: one pass over the whole due set
# What a pass makes, children first: the inbox items it raises (and their history and emails), the
# partner deliveries and their attempts, the referrals' events.
CHASE_MADE = (
    "inbox_notification",
    "inbox_itemevent",
    "inbox_item",
    "referrals_deliveryattempt",
    "referrals_delivery",
    "referrals_referralevent",
)
OPEN_SQL = ", ".join(f"'{status.value}'" for status in sorted(OPEN))
DUE_SQL = f"SELECT count(*) FROM referrals_referral WHERE status IN ({OPEN_SQL}) AND next_action_due_at <= %s"
# The columns written by COPY: every concrete field of Referral, so a new column fails loudly here.
COLUMNS = [
    "id",
    "program_id",
    "individual_id",
    "case_id",
    "service_id",
    "organization_id",
    "need_domain",
    "urgency",
    "reason",
    "shares_contact_details",
    "includes_part2",
    "consent_id",
    "status",
    "status_reason",
    "business_status",
    "appointment_at",
    "outcome_note",
    "next_action_owner",
    "next_action_due_at",
    "chase_level",
    "version",
    "created_by_id",
    "created_at",
    "requested_at",
    "updated_at",
]


def say(message: str) -> None:
    print(message, flush=True)


def sql(statement: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S+00")


def build(total: int, due: int, started: datetime) -> None:
    assert sorted(COLUMNS) == sorted(f.column for f in Referral._meta.concrete_fields), "Referral's columns changed"
    say(f"building {total:,} referrals, {due:,} due ...")
    clock = time.perf_counter()
    call_command("migrate", verbosity=0)
    for table in CHASE_MADE:
        sql(f"DELETE FROM {table}")
    sql("TRUNCATE referrals_referral, cases_followup, cases_case, cases_individual CASCADE")
    program, _ = Program.objects.get_or_create(slug="bench", defaults={"name": "Bench CRT"})
    unusable = {"program": program, "password": make_password(None)}
    navigator, _ = User.objects.get_or_create(username="bench.navigator", defaults=unusable)
    supervisor, _ = User.objects.get_or_create(username="bench.supervisor", defaults=unusable)
    navigator.groups.add(Group.objects.get(name=Role.NAVIGATOR.label))
    supervisor.groups.add(Group.objects.get(name=Role.SUPERVISOR.label))
    email, _ = Organization.objects.get_or_create(
        name="Bench email partner", defaults={"channel": "email", "notification_email": "intake@bench.example.org"}
    )
    pull, _ = Organization.objects.get_or_create(name="Bench pull partner", defaults={"channel": "pull"})
    services = [
        Service.objects.get_or_create(organization=org, name=f"Bench service of {org.pk}", need_domain="housing")[0]
        for org in (email, pull)
    ]
    people = Individual.objects.bulk_create(
        Individual(program=program, legal_first_name="Bench", legal_last_name=f"Person {i}") for i in range(PEOPLE)
    )
    cases = Case.objects.bulk_create(
        Case(program=program, individual=person, navigator=navigator, opened_at=started) for person in people
    )

    # Closed rows carry no clock; open ones not due yet are due in 1 to 8 days (so the table can be
    # measured for a day after it is built); due ones are 1 min to 3 days late, at levels 0, 1 and 2,
    # one in ten at level 0 an accepted one whose appointment passed.
    every = max(total // due, 1)
    open_every = max(int(1 / OPEN_NOT_DUE_SHARE), 1)
    fixed = "\t".join(["housing", "routine", "Bench referral.", "t", "f", r"\N"])
    created = stamp(started - timedelta(days=30))

    def row(i: int) -> str:
        person = i % PEOPLE
        service = services[(i // 7) % 2]  # half the partners are pull-only
        appointment = r"\N"
        owner, level, status_reason = "partner", 0, ""
        if i % every == 0 and i // every < due:
            late = timedelta(minutes=1 + (i * 7919) % (3 * 24 * 60))
            due_at = stamp(started - late)
            level = (i // every) % 3
            status = "requested"
            if level == 0 and (i // every) % 10 == 0:
                status, appointment = "accepted", stamp(started - late - timedelta(hours=4))
        elif i % open_every == 1:
            due_at = stamp(started + timedelta(days=1, minutes=(i * 7919) % (7 * 24 * 60)))
            status = ("requested", "accepted", "in-progress", "on-hold")[i % 4]
            status_reason = "waiting" if status == "on-hold" else ""
        else:
            due_at, owner, status = r"\N", "", "completed"
        return "\t".join(
            [
                str(i + 1),
                str(program.pk),
                str(people[person].pk),
                str(cases[person].pk),
                str(service.pk),
                str(service.organization_id),
                fixed,
                status,
                status_reason,
                "",
                appointment,
                "",
                owner,
                due_at,
                str(level),
                "1",
                str(navigator.pk),
                created,
                created,
                created,
            ]
        )

    indexes = sql(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'referrals_referral' "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    )
    for name, _ in indexes:
        sql(f'DROP INDEX "{name}"')
    say(f"fixtures ready in {time.perf_counter() - clock:.0f} s")
    sql("ALTER TABLE referrals_referral DISABLE TRIGGER ALL")  # FK checks: the rows are valid by construction
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY referrals_referral ({', '.join(COLUMNS)}) FROM STDIN") as copy,
    ):
        for start in range(0, total, BATCH):
            copy.write("".join(row(i) + "\n" for i in range(start, min(start + BATCH, total))))
    sql("ALTER TABLE referrals_referral ENABLE TRIGGER ALL")
    copied = time.perf_counter() - clock
    sql("SET maintenance_work_mem = '512MB'")
    for _, definition in indexes:
        sql(definition)
    sql("SELECT setval(pg_get_serial_sequence('referrals_referral', 'id'), %s)", [total])
    sql("VACUUM ANALYZE referrals_referral")
    say(f"built in {time.perf_counter() - clock:.0f} s (COPY {copied:.0f} s, then {len(indexes)} indexes and VACUUM)")


def timed(work, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def floor(now: datetime) -> int:
    return sql(DUE_SQL, [now])[0][0]


def selection_objects(now: datetime) -> int:
    return sum(len(batch) for batch in chase.due_referrals(now, limit=ALL))


def selection_keys(now: datetime) -> int:
    """The sweep's read of the due ids (referrals.chase.due_referral_keys)."""
    return len(list(chase.due_referral_keys(now, limit=ALL)))


def snapshot(now: datetime) -> None:
    sql(f"DROP TABLE IF EXISTS {SNAPSHOT}")
    sql(
        f"CREATE TABLE {SNAPSHOT} AS "
        "SELECT id, chase_level, next_action_due_at, next_action_owner, version, updated_at "
        f"FROM referrals_referral WHERE status IN ({OPEN_SQL}) "
        "AND next_action_due_at <= %s",
        [now],
    )


def restore() -> None:
    sql(
        f"UPDATE referrals_referral r SET chase_level = s.chase_level, next_action_due_at = s.next_action_due_at, "
        f"next_action_owner = s.next_action_owner, version = s.version, updated_at = s.updated_at "
        f"FROM {SNAPSHOT} s WHERE r.id = s.id"
    )
    for table in CHASE_MADE:
        sql(f"DELETE FROM {table}")
    sql("DELETE FROM cases_followup WHERE label LIKE 'appt-%%'")
    sql(f"DROP TABLE {SNAPSHOT}")
    sql("VACUUM ANALYZE referrals_referral")


# The sweep's reads are timed here one by one, outside chase_due_referrals: as in the sweep, no user
# makes them.
@system_read("the benchmark builds its table and times the chase sweep's own reads")
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--skip-build", action="store_true", help="reuse the table built by an earlier run")
    parser.add_argument("--build-only", action="store_true", help="build the table, measure later")
    parser.add_argument("--reads-only", action="store_true", help="measure the reads, not the full pass")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each read-only measurement (median)")
    parser.add_argument(
        "--proposed-index",
        action="store_true",
        help=f"measure with {PROPOSED_INDEX} on (next_action_due_at, id) beside referral_due_open",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database of its own.")

    started = timezone.now()
    if not args.skip_build:
        build(args.referrals, args.due, started)
    if args.build_only:
        return
    sql(f"DROP INDEX IF EXISTS {PROPOSED_INDEX}")
    if args.proposed_index:
        sql(
            f"CREATE INDEX {PROPOSED_INDEX} ON referrals_referral (next_action_due_at, id) WHERE status IN ({OPEN_SQL})"
        )
    sql("VACUUM ANALYZE referrals_referral")
    now = datetime.now(UTC)
    total = sql("SELECT count(*) FROM referrals_referral")[0][0]
    sizes = sql(
        "SELECT pg_size_pretty(pg_table_size('referrals_referral')), "
        f"pg_size_pretty(pg_relation_size('{PROPOSED_INDEX if args.proposed_index else 'referral_due_open'}'))"
    )[0]
    say(f"\nreferrals: {total:,} (table {sizes[0]}), due index: {sizes[1]}")

    say("\n-- floor: index-only count of the due set")
    say("\n".join(row[0] for row in sql("EXPLAIN (ANALYZE, BUFFERS) " + DUE_SQL, [now])))
    say("\n-- selection: the sweep's read of the due ids")
    say(chase.due_referral_keys(now, limit=ALL).explain(analyze=True, buffers=True))
    first = list(chase.due_referral_keys(now, limit=BATCH_SIZE))
    say("\n-- selection: loading a batch of referrals by id")
    load = Referral.objects.due(now).select_related("program", "organization", "case__navigator", "created_by")
    say(load.order_by().filter(pk__in=first).explain(analyze=True, buffers=True))

    floor_s, due = timed(lambda: floor(now), args.repeat)
    keys_s, read_keys = timed(lambda: selection_keys(now), args.repeat)
    objects_s, read_objects = timed(lambda: selection_objects(now), args.repeat)
    assert due == read_keys == read_objects, (due, read_keys, read_objects)

    if not args.reads_only:
        snapshot(now)
        pass_s, counts = timed(lambda: chase.chase_due_referrals(now, limit=ALL), 1)
        again_s, again = timed(lambda: chase.chase_due_referrals(now, limit=ALL), 1)
        created = sql(
            "SELECT (SELECT count(*) FROM referrals_delivery), (SELECT count(*) FROM inbox_item), "
            "(SELECT count(*) FROM referrals_referralevent)"
        )[0]
        restore()
    if args.proposed_index:
        sql(f"DROP INDEX {PROPOSED_INDEX}")

    say(f"\nreferrals {total:,}, due {due:,}" + (f", with {PROPOSED_INDEX}" if args.proposed_index else ""))
    say(f"floor (index-only count)      {floor_s * 1000:9.1f} ms")
    say(f"selection: keys               {keys_s * 1000:9.1f} ms   {keys_s / floor_s:5.1f} x floor")
    say(f"selection: keys + referrals   {objects_s * 1000:9.1f} ms   {objects_s / floor_s:5.1f} x floor")
    if not args.reads_only:
        say(f"full pass (claim + effects)   {pass_s * 1000:9.1f} ms   {due / pass_s:,.0f} referrals/s   {counts}")
        say(f"second pass, same instant     {again_s * 1000:9.1f} ms   {again}")
        say(f"made: {created[0]:,} deliveries, {created[1]:,} inbox items, {created[2]:,} events (then put back)")


if __name__ == "__main__":
    main()
