"""The scripts in bench/ still run: each as its own process, from its documented command line, at
the smallest size that goes through its setup and every measurement, against the test database.

A script's own setup and reads run outside any user's request, so each must say it is a system read
(crt.scoping): one that does not raises ScopeError and the script exits non-zero. Run as processes,
the scripts meet the real checks; the tests' own system read (tests/conftest.py) does not reach them.
Nothing is timed here: the figures mean nothing at this size, so --target is set out of reach.
"""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.delivery.worker import RedisServer, database_url_for

ROOT = Path(__file__).resolve().parent.parent
NO_TARGET = "1000000"

pytestmark = [
    pytest.mark.postgres,  # the scripts measure PostgreSQL and refuse anything else
    pytest.mark.django_db(transaction=True),  # the scripts' processes see committed rows; the flush clears them
]


def run_bench(script: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run bench/<script> against the test database; its output, or a failure with its last words."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url_for(settings.DATABASES["default"]["NAME"]),
        # Messages the scripts publish (the chase's outbox kicks) stay in their own process.
        "CELERY_BROKER_URL": "memory://",
        "CELERY_RESULT_BACKEND": "cache+memory://",
        **(env or {}),
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (
        f"bench/{script} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    )
    return done.stdout


def seed(individuals: int) -> None:
    call_command("seed_bulk", individuals=individuals, no_progress=True, stdout=io.StringIO())


def test_chase_sweep_bench_builds_reads_passes_and_puts_back():
    out = run_bench("chase_sweep.py", "--referrals", "600", "--due", "60", "--repeat", "1")

    assert "second pass, same instant" in out
    assert "(then put back)" in out


def test_inbox_count_bench_builds_and_counts():
    out = run_bench(
        "inbox_count.py", "--items", "2000", "--users", "3", "--mine", "2", "--runs", "1", "--target", NO_TARGET
    )

    assert "the user's active items: 2" in out


def test_caseload_page_bench_builds_and_shows_both_pages():
    out = run_bench("caseload_page.py", "--cases", "3", "--events", "4", "--runs", "1", "--target", NO_TARGET)

    assert "caseload" in out
    assert "person timeline" in out


def test_metrics_dashboard_bench_adds_its_rows_and_agrees_with_its_floor():
    seed(60)

    out = run_bench("metrics_dashboard.py", "--runs", "1")

    assert "figures agree" in out
    assert "every measure and grouping" in out


def test_partner_api_bench_reads_its_partner_and_pages_deep():
    seed(12_000)  # page 21 of 100 needs the busiest partner to have 2,100 referrals sent to it

    out = run_bench("partner_api.py", "--requests", "1")

    assert "api in process, page 21" in out


@pytest.mark.redis
@pytest.mark.worker
def test_delivery_throughput_bench_delivers_through_a_real_worker():
    redis_server = RedisServer().start()  # a broker of its own: the script needs its queue empty
    try:
        out = run_bench(
            "delivery_throughput.py",
            "--deliveries",
            "4",
            "--concurrency",
            "1",
            env={"CELERY_BROKER_URL": redis_server.url, "CELERY_RESULT_BACKEND": redis_server.url},
        )
    finally:
        redis_server.stop()

    assert "4 webhooks delivered" in out
    assert "duplicates 0" in out
