"""Benchmark of the partner referral list, GET /api/v1/partner/referrals/?page_size=100.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crt_bench_api \\
        .venv/bin/python bench/partner_api.py [--requests 200] [--http]

Needs a database filled by `manage.py seed_bulk` (about 1.33 referrals per individual: 750 000
individuals give 1M referrals). It picks the partner organisation with the most referrals, gives it
a fresh API key, and measures, first page and a page deep in the list:

- floor: the same rows read with raw psycopg (one query with the same joins, filter, order and
  limit) and encoded with orjson: the least any implementation could cost;
- api (in process): the whole Django + DRF stack through django.test.Client: authentication,
  throttle, scoping, cursor pagination, serialisation, and the audit rows written per page;
- audit rows alone: what the API must add to any read, record_access of the page's 100 referrals
  (one AccessLog row each, as the privacy rules require);
- (diagnostic) the in-process request with record_access stubbed out: what everything but the audit
  costs. Only a measurement: the app never answers without writing the audit rows;
- api over HTTP (--http): the same through gunicorn (2 sync workers), a connection per request.

Every measurement runs turn about with the floors (one call of each per round), so the shared
machine's drift falls on both. Prints medians and 90th percentiles in milliseconds and the ratio to
the floor of the same group.

--load measures throughput from outside instead: wrk (--threads x --connections, --seconds per run)
against three servers, each gunicorn with 2 sync workers, in --rounds interleaved rounds (plain floor,
consent-and-audit floor, product, then again), first page of 100:

- plain floor: bench/partner_floor.py /plain, the raw query and orjson;
- consent-and-audit floor: bench/partner_floor.py /consent-audit, the product's own three
  statements (captured here from one real request and replayed with fresh values: credential
  lookup, consent-checked page SELECT, audit INSERT with its commit), psycopg and orjson;
- the product: GET /api/v1/partner/referrals/?page_size=100 through crt.wsgi.

Prints requests per second of every run, the medians, the product's ratio to each floor per round
(a floor's rate over the product's), and the load average before every round.
The audit rows the requests write stay in the database (it is a benchmark database).
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crt.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("CELERY_RESULT_BACKEND", "cache+memory://")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["API_THROTTLE_RATE"] = "1000000/min"
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.credentials import issue_key  # noqa: E402
from audit.access import record_access  # noqa: E402
from audit.models import Action  # noqa: E402
from bench.partner_floor import PLAIN_SQL, plain_page  # noqa: E402
from providers.models import Organization, PartnerCredential  # noqa: E402
from referrals.consent import PART2_REDISCLOSURE_NOTICE  # noqa: E402
from referrals.models import Referral  # noqa: E402

PAGE = 100


def floor_page(conn, organization_id: int, after=None) -> bytes:
    if after is None:
        rows = conn.execute(PLAIN_SQL.format(after=""), (organization_id, PAGE)).fetchall()
    else:
        sql = PLAIN_SQL.format(after="AND (r.updated_at, r.id) < (%s, %s)")
        rows = conn.execute(sql, (organization_id, *after, PAGE)).fetchall()
    return plain_page(rows)


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.9) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200, help="Timed requests per measurement.")
    parser.add_argument("--http", action="store_true", help="Also measure over HTTP through gunicorn.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--load", action="store_true", help="Throughput from outside with wrk (see above).")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers of every server.")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: DATABASE_URL=postgres://.../crt_bench_api")

    # The script's own reads are system reads; the requests it times meet the product's checks
    # (crt.scoping.ScopedRequests), in process and over HTTP.
    total = Referral.objects.system("the benchmark says how large the table is").count()
    top = (
        Referral.objects.system("the benchmark picks the partner with the most referrals")
        .filter(requested_at__isnull=False)
        .values("organization_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    organization = Organization.objects.get(pk=top["organization_id"])
    credential = PartnerCredential(organization=organization, name="benchmark")
    key = issue_key(credential)
    print(f"referrals in the table: {total:,}; organisation #{organization.pk} has {top['n']:,} sent to it")

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    url = f"/api/v1/partner/referrals/?page_size={PAGE}"
    first = client.get(url)
    assert first.status_code == 200, first.content[:300]
    assert len(first.json()["results"]) == PAGE
    # a page deep in the list: follow the cursor 20 pages
    deep_url = url
    for _ in range(20):
        deep_url = client.get(deep_url).json()["next"]
    deep_response = client.get(deep_url)
    deep_last = deep_response.json()["results"][0]
    deep_row = Referral.objects.system("the floor starts page 21 where the API's page 21 starts").get(
        pk=deep_last["id"]
    )
    deep_after = (deep_row.updated_at, deep_last["id"] + 1)

    database = settings.DATABASES["default"]
    dsn = f"host={database['HOST']} port={database['PORT'] or 5432} dbname={database['NAME']} user={database['USER']}"
    if args.load:
        load(args, client, url, key, credential.prefix, organization, dsn)
        return
    page_rows = list(
        Referral.objects.system("the rows whose audit the benchmark times alone")
        .filter(organization=organization)
        .order_by("-updated_at", "-id")[:PAGE]
    )
    with psycopg.connect(dsn, autocommit=True) as conn:
        floors = {
            "floor, first page": lambda: floor_page(conn, organization.pk),
            "floor, page 21": lambda: floor_page(conn, organization.pk, deep_after),
        }
        # Each group runs turn about with the floors, so the shared machine's drift falls on both.
        groups = [
            {
                "audit rows alone, first page": lambda: record_access(
                    credential, action=Action.DISCLOSE, objects=page_rows, recipient=organization
                ),
                "api in process, first page": lambda: client.get(url),
                "api in process, page 21": lambda: client.get(deep_url),
            }
        ]
        results = [timed_turns({**floors, **groups[0]}, args.requests)]
        # Diagnostic only, never how the app runs: the same request with the audit write stubbed out,
        # to show what the rest of the stack costs.
        with mock.patch("audit.access.record_access", lambda *a, **k: 0):
            results.append(
                timed_turns(
                    {**floors, "(diagnostic) api, no audit, first page": lambda: client.get(url)}, args.requests
                )
            )
        if args.http:
            with gunicorn(args) as base:
                results.append(timed_turns({**floors, **http_requests(base, key, url, deep_url)}, args.requests))

    print(f"{'measurement':40} {'median ms':>10} {'p90 ms':>8} {'x floor':>8}")
    for group in results:
        floor_of = {
            "first page": summary(group["floor, first page"])[0],
            "page 21": summary(group["floor, page 21"])[0],
        }
        for name, samples in group.items():
            median, p90 = summary(samples)
            page = "first page" if name.endswith("first page") else "page 21"
            print(f"{name:40} {median:10.2f} {p90:8.2f} {median / floor_of[page]:8.2f}")
        print()


def timed_turns(functions: dict, repeat: int) -> dict[str, list[float]]:
    """Milliseconds of each function, `repeat` rounds, each round calling every function once."""
    for function in functions.values():
        function()  # warm up
    samples: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeat):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            samples[name].append((time.perf_counter() - start) * 1000)
    return samples


@contextlib.contextmanager
def gunicorn(args, app="crt.wsgi", port=None, workers=2, extra_env=None):
    """The app under gunicorn (sync workers), as deployed behind a proxy; yields its base URL."""
    import requests

    port = port or args.port
    env = {**os.environ, "API_THROTTLE_RATE": "1000000/min", "DATABASE_CONN_MAX_AGE": "600", **(extra_env or {})}
    command = [str(ROOT / ".venv/bin/gunicorn"), app, "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    server = subprocess.Popen([*command, "--log-level", "warning"], cwd=ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(base + "/healthz", timeout=30)  # a loaded machine boots workers slowly
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def http_requests(base: str, key: str, url: str, deep_url: str) -> dict:
    import requests

    parts = urlsplit(deep_url)
    deep_url = f"{parts.path}?{parts.query}"  # the cursor link names the in-process test server
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    return {
        "api over http, first page": lambda: session.get(base + url, timeout=30),
        "api over http, page 21": lambda: session.get(base + deep_url, timeout=30),
    }


# --- throughput from outside (--load) ------------------------------------------------------------


def capture_statements(client, url) -> list[tuple[str, list]]:
    """The statements one request of the product sends, with their parameters."""
    captured = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return captured


def floor_spec(client, url, key, prefix, organization, dsn) -> dict:
    """What bench/partner_floor.py needs: the product's three statements, captured from a real request."""
    statements = capture_statements(client, url)
    kinds = [sql.split()[0].upper() for sql, _ in statements]
    assert kinds == ["SELECT", "SELECT", "INSERT"], f"expected credential, page, audit; the product sent {kinds}"
    (credential_sql, credential_params), (page_sql, page_params), (audit_sql, audit_params) = statements
    assert prefix in credential_params, "the first statement is not the credential lookup"
    at_marker = "<now>"
    with psycopg.connect(dsn, autocommit=True) as conn:
        described = conn.execute(credential_sql, credential_params).description
        names = [column.name for column in described]
        credential_columns = {
            name: next(i for i, column in enumerate(names) if column in (name, f"organization__{name}"))
            for name in ("id", "key_hash", "revoked_at", "is_active")
        }
        described = conn.execute(page_sql, page_params).description
        page_positions = {}
        for index, column in enumerate(described):
            page_positions.setdefault(column.name, index)
    return {
        "dsn": dsn,
        "organization_id": organization.pk,
        "page": PAGE,
        "credential_sql": credential_sql,
        "credential_params": credential_params,
        "credential_columns": credential_columns,
        "page_sql": page_sql,
        "page_params": [at_marker if hasattr(p, "tzinfo") else p for p in page_params],
        "at_marker": at_marker,
        "page_positions": page_positions,
        "audit_sql": audit_sql,
        "route": audit_params[4],
        "audit_shared_tail": audit_params[7:10],
        "next": client.get(url).json()["next"],
        "part2_notice": PART2_REDISCLOSURE_NOTICE,
    }


def wrk(base_url: str, path: str, key: str, args) -> tuple[float, str]:
    """Requests per second of one wrk run, and its latency line."""
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.seconds}s",
        "--timeout",
        "30s",
        "-H",
        f"Authorization: Bearer {key}",
        base_url + path,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:  # refused, reset or timed out (30 s)
        sys.exit(f"wrk saw errors against {path}:\n{output}")
    rate = float(next(line for line in output.splitlines() if line.startswith("Requests/sec")).split()[1])
    latency = next(line for line in output.splitlines() if line.strip().startswith("Latency")).split()[1]
    return rate, latency


def load(args, client, url, key, prefix, organization, dsn) -> None:
    import json
    import tempfile

    spec = floor_spec(client, url, key, prefix, organization, dsn)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(spec, file)
    floor_env = {"PARTNER_FLOOR_SPEC": file.name}
    targets = ["plain floor", "consent-and-audit floor", "product"]
    rates: dict[str, list[float]] = {name: [] for name in targets}
    print(
        f"wrk {args.threads} threads x {args.connections} connections, {args.seconds} s a run, "
        f"{args.rounds} rounds; gunicorn {args.workers} sync workers each; first page of {PAGE}"
    )
    try:
        with (
            gunicorn(args, "bench.partner_floor", args.port + 1, args.workers, floor_env) as floor_base,
            gunicorn(args, "crt.wsgi", args.port, args.workers) as product_base,
        ):
            paths = {
                "plain floor": (floor_base, "/plain"),
                "consent-and-audit floor": (floor_base, "/consent-audit"),
                "product": (product_base, url),
            }
            for base, path in paths.values():  # warm up: connections, caches, first-use costs
                subprocess.run(["wrk", "-t1", "-c2", "-d2s", "-H", f"Authorization: Bearer {key}", base + path],
                               capture_output=True, check=True)  # fmt: skip
            for round_number in range(1, args.rounds + 1):
                load_average = " ".join(f"{value:.2f}" for value in os.getloadavg())
                line = []
                for name in targets:
                    base, path = paths[name]
                    rate, latency = wrk(base, path, key, args)
                    rates[name].append(rate)
                    line.append(f"{name} {rate:8.1f}/s ({latency})")
                ratio_plain = rates["plain floor"][-1] / rates["product"][-1]
                ratio_audit = rates["consent-and-audit floor"][-1] / rates["product"][-1]
                print(
                    f"round {round_number} (load {load_average}): " + "; ".join(line)
                    + f"; x plain {ratio_plain:.2f}, x consent-and-audit {ratio_audit:.2f}"
                )  # fmt: skip
    finally:
        os.unlink(file.name)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    per_round_audit = [a / p for a, p in zip(rates["consent-and-audit floor"], rates["product"], strict=True)]
    per_round_plain = [a / p for a, p in zip(rates["plain floor"], rates["product"], strict=True)]
    print()
    for name in targets:
        print(f"{name:26} median {medians[name]:8.1f} req/s  (range {min(rates[name]):.1f}-{max(rates[name]):.1f})")
    print(
        f"product x consent-and-audit floor: median {statistics.median(per_round_audit):.2f} "
        f"(range {min(per_round_audit):.2f}-{max(per_round_audit):.2f}); "
        f"x plain floor: median {statistics.median(per_round_plain):.2f} "
        f"(range {min(per_round_plain):.2f}-{max(per_round_plain):.2f})"
    )
    print(f"load average at the end: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
