"""Benchmark of the inbox count shown in every page's navigation: one indexed query, whatever the
number of items in the table?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crt_bench_inbox \\
        .venv/bin/python bench/inbox_count.py --items 1000000

Builds (one INSERT ... SELECT over generate_series) an inbox_item table of --items rows spread over
--users recipients of one program: most resolved, some open, acknowledged or snoozed, as an inbox looks
after months of use. The measured user has --mine active items among them. With the table vacuumed
(the visibility map lets a count answer from the index alone) and analysed, it measures, turn about
(the machine's drift then moves both the same way), the median of --runs calls of each:

- count: inbox.services.count_for(user), exactly what the navigation calls (one statement);
- floor: an index-only count of the same index entries, a raw SELECT count(*) on one connection,
  with sequential and bitmap scans off: the least a count of those rows can cost.

It prints the plan of the count's query (it must be an Index Only Scan of inbox_item_active), both
medians and their ratio (target <= --target). Use a database of its own: the build empties the inbox.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crt.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("CELERY_RESULT_BACKEND", "cache+memory://")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import Program, User  # noqa: E402
from inbox.models import ACTIVE_STATES, Item, ItemEvent  # noqa: E402
from inbox.services import count_for  # noqa: E402

STATES_SQL = ", ".join(f"'{state}'" for state in ACTIVE_STATES)
FLOOR_SQL = f"SELECT count(*) FROM inbox_item WHERE recipient_id = %s AND program_id = %s AND state IN ({STATES_SQL})"


def say(message: str) -> None:
    print(message, flush=True)


def build(items: int, users: int, mine: int) -> tuple[User, Program]:
    program, _ = Program.objects.get_or_create(slug="bench-inbox", defaults={"name": "Bench inbox program"})
    existing = list(User.objects.filter(program=program).order_by("pk"))
    for n in range(len(existing), users):
        existing.append(User.objects.create(username=f"bench-inbox-{n}", program=program))
    me = existing[0]
    ItemEvent.objects.system("the benchmark empties the inbox it fills").delete()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE inbox_item CASCADE")
    ids = [user.pk for user in existing[1:]]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Everyone else: 85 % resolved, 10 % open, 3 % acknowledged, 2 % snoozed.
        cursor.execute(
            """
            INSERT INTO inbox_item (program_id, kind, level, is_urgent, recipient_id, cause_key, state,
                                    snoozed_until, created_at, resolved_at, resolution_note)
            SELECT %(program)s, 'follow_up_overdue', 1, false, (%(ids)s::bigint[])[1 + g %% %(n)s],
                   'bench:' || g,
                   CASE WHEN g %% 100 < 85 THEN 'resolved' WHEN g %% 100 < 95 THEN 'open'
                        WHEN g %% 100 < 98 THEN 'acknowledged' ELSE 'snoozed' END,
                   CASE WHEN g %% 100 >= 98 THEN now() + interval '1 day' END,
                   now() - (g %% 10000) * interval '1 minute',
                   CASE WHEN g %% 100 < 85 THEN now() END, ''
            FROM generate_series(1, %(others)s) AS g
            """,
            {"program": program.pk, "ids": ids, "n": len(ids), "others": items - mine},
        )
        cursor.execute(
            """
            INSERT INTO inbox_item (program_id, kind, level, is_urgent, recipient_id, cause_key, state,
                                    created_at, resolution_note)
            SELECT %s, 'referral_declined', 1, false, %s, 'bench-mine:' || g, 'open', now(), ''
            FROM generate_series(1, %s) AS g
            """,
            [program.pk, me.pk, mine],
        )
        cursor.execute("VACUUM ANALYZE inbox_item")
    say(f"built {items:,} items in {time.perf_counter() - started:.1f} s")
    return me, program


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--mine", type=int, default=40)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--target", type=float, default=2.0)
    parser.add_argument("--skip-build", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        say("needs PostgreSQL: set DATABASE_URL=postgres://...")
        return 2
    call_command("migrate", verbosity=0)
    if args.skip_build:
        program = Program.objects.get(slug="bench-inbox")
        me = User.objects.filter(program=program).order_by("pk").first()
    else:
        me, program = build(args.items, args.users, args.mine)
    total = Item.objects.system("the benchmark counts the table it built").count()
    active = count_for(me)
    say(f"inbox_item: {total:,} rows; the user's active items: {active}")

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + FLOOR_SQL, [me.pk, program.pk])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    say("plan of the count's query:\n" + plan)
    assert "Index Only Scan using inbox_item_active" in plan, "the count no longer answers from its index"

    # the count's query, as Django issues it, must be the floor's query
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        count_for(me)
    assert len(captured) == 1, captured.captured_queries

    counts, floors = [], []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_bitmapscan = off")
        for _ in range(20):  # warm both
            count_for(me)
            cursor.execute(FLOOR_SQL, [me.pk, program.pk])
            cursor.fetchone()
        for _ in range(args.runs):
            started = time.perf_counter()
            count_for(me)
            counts.append(time.perf_counter() - started)
            started = time.perf_counter()
            cursor.execute(FLOOR_SQL, [me.pk, program.pk])
            cursor.fetchone()
            floors.append(time.perf_counter() - started)
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_bitmapscan")
    count_ms, floor_ms = median_ms(counts), median_ms(floors)
    ratio = count_ms / floor_ms
    say(
        f"count (inbox.services.count_for): median {count_ms:.3f} ms; "
        f"floor (index-only count, raw SQL): median {floor_ms:.3f} ms; "
        f"ratio {ratio:.2f}x (target <= {args.target}x), {args.runs} runs each, turn about"
    )
    return 0 if ratio <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
