"""The floors of the partner referral list over HTTP: a WSGI app with nothing but psycopg and orjson.

Served by gunicorn as the product is (bench/partner_api.py --load starts it), so both are measured
from outside through the same server, worker count and load generator. Two routes:

- /plain: the page's rows with one raw query (the same joins, filter, order and limit as the
  product's, no consent check, no audit row), encoded with orjson: the least any list could cost;
- /consent-audit: the product's own three statements, captured from one real request of the product
  by partner_api.py and replayed here with fresh values: the credential lookup (by the key's prefix,
  then the SHA-256 compared as the product does), the consent-checked page SELECT (consent as of
  now), and the INSERT of one audit row per referral of the page, which commits. The answer is the
  product's JSON shape, built from those rows. What the consent check and the audit rows cost the
  product cannot be avoided; this is the least a list that keeps them could cost.

Configuration: PARTNER_FLOOR_SPEC names a JSON file written by partner_api.py (dsn, organisation,
key, the captured statements). One connection per worker process, opened at its first request,
autocommit (as the product's), psycopg's defaults otherwise.
"""

import datetime
import hashlib
import hmac
import json
import os
import uuid

import orjson
import psycopg

_spec = None
_conn = None


def _setup():
    global _spec, _conn
    if _spec is None:
        with open(os.environ["PARTNER_FLOOR_SPEC"]) as file:
            _spec = json.load(file)
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(_spec["dsn"], autocommit=True)
    return _spec, _conn


def _instant(value, zone):
    return value.astimezone(zone).isoformat() if value is not None else None


# The plain floor's page: the product's joins, filter, order and limit, nothing else. {after} is
# empty for the first page; bench/partner_api.py puts a cursor's keyset condition there.
PLAIN_SQL = """
SELECT r.id, r.status, r.status_reason, r.business_status, r.need_domain, r.urgency, r.reason,
       r.includes_part2, r.appointment_at, r.outcome_note, r.requested_at, r.updated_at, r.version,
       r.shares_contact_details, s.id, s.name,
       i.legal_first_name, i.legal_last_name, i.preferred_name, i.date_of_birth, i.pronouns,
       i.primary_language, i.needs_interpreter, i.is_do_not_contact, i.phone, i.email, i.address,
       i.safe_contact_channels, i.safe_contact_times
  FROM referrals_referral r
  JOIN cases_individual i ON i.id = r.individual_id
  JOIN providers_service s ON s.id = r.service_id
  JOIN providers_organization o ON o.id = r.organization_id
 WHERE r.organization_id = %s AND o.is_active AND r.requested_at IS NOT NULL AND r.status <> 'draft'
 {after}
 ORDER BY r.updated_at DESC, r.id DESC
 LIMIT %s
"""


def plain_page(rows) -> bytes:
    """The JSON of a page of PLAIN_SQL's rows (also partner_api.py's in-process floor)."""
    results = []
    for row in rows:
        shares = row[13] and not row[23]
        results.append(
            {
                "id": row[0],
                "status": row[1],
                "status_reason": row[2],
                "business_status": row[3],
                "need_domain": row[4],
                "urgency": row[5],
                "reason": row[6],
                "includes_part2": row[7],
                "appointment_at": row[8],
                "outcome_note": row[9],
                "requested_at": row[10],
                "updated_at": row[11],
                "version": row[12],
                "service": {"id": row[14], "name": row[15]},
                "person": {
                    "name": f"{row[18] or row[16]} {row[17]}",
                    "legal_first_name": row[16],
                    "legal_last_name": row[17],
                    "date_of_birth": row[19],
                    "pronouns": row[20],
                    "primary_language": row[21],
                    "needs_interpreter": row[22],
                    "is_do_not_contact": row[23],
                    "phone": row[24] if shares else None,
                    "email": row[25] if shares else None,
                    "address": row[26] if shares else None,
                    "safe_contact_channels": row[27],
                    "safe_contact_times": row[28],
                },
            }
        )
    return orjson.dumps({"next": None, "previous": None, "results": results})


def plain(spec, conn) -> bytes:
    return plain_page(conn.execute(PLAIN_SQL.format(after=""), (spec["organization_id"], spec["page"])).fetchall())


def consent_audit(spec, conn, key: str, remote_addr: str) -> bytes | None:
    now = datetime.datetime.now(datetime.UTC)
    credential = conn.execute(spec["credential_sql"], spec["credential_params"]).fetchone()
    if credential is None:
        return None
    columns = spec["credential_columns"]
    stored = credential[columns["key_hash"]]
    if not hmac.compare_digest(stored, hashlib.sha256(key.encode()).hexdigest()):
        return None
    if credential[columns["revoked_at"]] is not None or not credential[columns["is_active"]]:
        return None
    # The page's parameters as captured, with every instant (the consent's "as of") set to now.
    params = [now if isinstance(p, str) and p == spec["at_marker"] else p for p in spec["page_params"]]
    rows = conn.execute(spec["page_sql"], params).fetchall()
    p = spec["page_positions"]  # the product's columns, by their position in its SELECT
    zone = datetime.timezone(datetime.timedelta(hours=-6))  # a fixed offset: the product's zone lookup is its own
    results = []
    for row in rows:
        allowed = row[p["disclosure_allowed_now"]]
        person = None
        if allowed:
            shares = row[p["shares_contact_details"]] and not row[p["individual__is_do_not_contact"]]
            born = row[p["individual__date_of_birth"]]
            first = row[p["individual__preferred_name"]] or row[p["individual__legal_first_name"]]
            person = {
                "name": f"{first} {row[p['individual__legal_last_name']]}",
                "legal_first_name": row[p["individual__legal_first_name"]],
                "legal_last_name": row[p["individual__legal_last_name"]],
                "date_of_birth": born.isoformat() if born else None,
                "pronouns": row[p["individual__pronouns"]],
                "primary_language": row[p["individual__primary_language"]],
                "needs_interpreter": row[p["individual__needs_interpreter"]],
                "is_do_not_contact": row[p["individual__is_do_not_contact"]],
                "phone": (row[p["individual__phone"]] or None) if shares else None,
                "email": (row[p["individual__email"]] or None) if shares else None,
                "address": (row[p["individual__address"]] or None) if shares else None,
                "safe_contact_channels": list(row[p["individual__safe_contact_channels"]] or []),
                "safe_contact_times": row[p["individual__safe_contact_times"]],
            }
        view = {
            "id": row[p["id"]],
            "status": row[p["status"]],
            "status_reason": row[p["status_reason"]],
            "business_status": row[p["business_status"]],
            "need_domain": row[p["need_domain"]],
            "urgency": row[p["urgency"]],
            "reason": row[p["reason"]],
            "includes_part2": row[p["includes_part2"]],
            "part2_notice": spec["part2_notice"] if row[p["includes_part2"]] else None,
            "appointment_at": _instant(row[p["appointment_at"]], zone),
            "outcome_note": row[p["outcome_note"]],
            "service": {"id": row[p["service_id"]], "name": row[p["service__name"]]},
            "person": person,
            "requested_at": _instant(row[p["requested_at"]], zone),
            "updated_at": _instant(row[p["updated_at"]], zone),
            "version": row[p["version"]],
            "etag": f'"{row[p["id"]]}-{row[p["version"]]}"',
            "consent_withdrawn": not allowed,
        }
        results.append(view)
    # One audit row per referral of the page, in the product's INSERT, before the data leaves.
    ids = [str(row[p["id"]]) for row in rows]
    shared = [now, None, credential[columns["id"]], "disclose", spec["route"], remote_addr, uuid.uuid4().hex]
    shared += spec["audit_shared_tail"]  # recipient, purpose, detail
    arrays = [
        ["referrals.referral"] * len(rows),
        ids,
        [row[p["individual_id"]] for row in rows],
        [row[p["program_id"]] for row in rows],
        [None] * len(rows),
    ]
    conn.execute(spec["audit_sql"], [*shared, *arrays])
    return orjson.dumps({"next": spec["next"], "previous": None, "results": results})


def application(environ, start_response):
    spec, conn = _setup()
    path = environ.get("PATH_INFO", "")
    if path == "/plain":
        body = plain(spec, conn)
    elif path == "/consent-audit":
        header = environ.get("HTTP_AUTHORIZATION", "")
        body = consent_audit(spec, conn, header.removeprefix("Bearer "), environ.get("REMOTE_ADDR"))
        if body is None:
            start_response("401 Unauthorized", [("Content-Length", "0")])
            return [b""]
    else:
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
