"""manage.py seed_bulk --individuals N: synthetic data at benchmark scale.

Per individual: one encounter, one case, one referral (two for every third person) and the
referral's history as ReferralEvents. Encounters spread over the last two years; a referral's
status depends on its age (recent ones are mostly still open, old ones mostly closed), and every
open referral has a next action owner and due time, so the chase sweep has work to find.

Fast by construction: rows are generated as plain tuples and written a batch at a time, each
batch in its own transaction. On PostgreSQL they go in with COPY; elsewhere (SQLite) with
bulk_create. Primary keys are reserved up front (from the table's sequence on PostgreSQL), so a
batch links its rows without reading anything back. Each batch holds whole people, so an
interrupted run leaves consistent data behind.

Every run uses its own CAD-number prefix, so runs never collide, and values that look personal
are synthetic: placeholder surnames with a number, 555-01xx phone numbers, no addresses.
"""

import json
import random
import secrets
import sys
import time
from contextlib import contextmanager
from datetime import date, timedelta

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from accounts.credentials import issue_key
from accounts.models import Program, User
from accounts.roles import Role
from cases.models import Case, Encounter, Individual
from crt.scoping import system_read
from demo import data as d
from providers.models import NeedDomain, Organization, PartnerCredential, Service
from referrals.models import PARTNER_SETS, REASON_REQUIRED, Referral, ReferralEvent, Status

S = Status
DAY = 86400.0


class Table:
    """The columns seed_bulk writes for a model, in order.

    Fields the generator does not know (added to the model later) are filled with their default, or
    NULL when nullable, so a new optional field does not break the benchmarks; a new required field
    without a default stops the command with a clear message.
    """

    def __init__(self, model, columns: str, *, with_id: bool = True):
        columns = columns.split()
        self.model = model
        fields = {f.attname: f for f in model._meta.concrete_fields}
        pk = model._meta.pk.attname
        missing = [name for name in columns if name not in fields]
        if missing:
            raise CommandError(f"seed_bulk writes {model.__name__}.{missing} but the model has no such field.")
        extra = [f for name, f in fields.items() if name != pk and name not in columns]
        tail = []
        for f in extra:
            if f.has_default():
                tail.append(f.get_default())
            elif f.null:
                tail.append(None)
            else:
                raise CommandError(f"seed_bulk does not know how to fill the new field {model.__name__}.{f.name}.")
        self.attnames = ([pk] if with_id else []) + columns + [f.attname for f in extra]
        self.db_columns = [fields[name].column for name in self.attnames]
        self.json_columns = [
            k
            for k, name in enumerate(self.attnames[: len(self.attnames) - len(extra)])
            if isinstance(fields[name], models.JSONField)
        ]
        self.tail_python = tuple(tail)
        self.tail_copy = tuple(
            json.dumps(v) if isinstance(f, models.JSONField) else v for f, v in zip(extra, tail, strict=True)
        )
        self.name = str(model._meta.verbose_name_plural)


INDIVIDUALS = Table(
    Individual,
    """program_id legal_first_name legal_last_name preferred_name pronouns date_of_birth phone email address
    where_staying area housing_status primary_language needs_interpreter race_ethnicity gender cad_person_id mrn
    hmis_id is_do_not_contact safe_contact_channels safe_contact_times responder_safety_notes risk_level created_at
    updated_at""",
)
ENCOUNTERS = Table(
    Encounter,
    """program_id individual_id cad_incident_number call_source call_type call_received_at dispatched_at on_scene_at
    cleared_at location_text latitude longitude area team law_enforcement reason_for_call interventions disposition
    transport_destination narrative created_by_id created_at updated_at""",
)
CASES = Table(
    Case,
    """program_id individual_id encounter_id navigator_id peer_id status closed_reason closed_at risk_level opened_at
    updated_at""",
)
REFERRALS = Table(
    Referral,
    """program_id individual_id case_id service_id organization_id need_domain urgency reason shares_contact_details
    includes_part2 consent_id status status_reason business_status appointment_at outcome_note next_action_owner
    next_action_due_at chase_level version created_by_id created_at requested_at updated_at""",
)
EVENTS = Table(
    ReferralEvent,
    """referral_id actor_kind actor_user_id actor_credential_id from_status to_status business_status note
    created_at""",
    with_id=False,
)
TABLES = [INDIVIDUALS, ENCOUNTERS, CASES, REFERRALS, EVENTS]


# --- writers ------------------------------------------------------------------------------------


class CopyWriter:
    """PostgreSQL: COPY ... FROM STDIN through psycopg 3, one statement per table per batch."""

    method = "COPY"

    def write(self, table: Table, rows: list[tuple]) -> None:
        quote = connection.ops.quote_name
        sql = f"COPY {quote(table.model._meta.db_table)} ({', '.join(map(quote, table.db_columns))}) FROM STDIN"
        tail = table.tail_copy
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            write_row = copy.write_row
            if tail:
                for row in rows:
                    write_row(row + tail)
            else:
                for row in rows:
                    write_row(row)


@contextmanager
def explicit_timestamps(model):
    """Let bulk_create keep the created_at/updated_at we generated: auto_now would replace them."""
    fields = [
        f for f in model._meta.concrete_fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class OrmWriter:
    """Any database (SQLite by default): bulk_create, with the generated timestamps kept."""

    method = "bulk_create"

    def write(self, table: Table, rows: list[tuple]) -> None:
        names, model, tail, json_columns = table.attnames, table.model, table.tail_python, table.json_columns
        objects = []
        for row in rows:
            values = list(row)
            for k in json_columns:
                values[k] = json.loads(values[k])
            objects.append(model(**dict(zip(names, (*values, *tail), strict=True))))
        with explicit_timestamps(model):
            model.objects.bulk_create(objects, batch_size=2000)


def reserve_ids(model, count: int) -> list[int]:
    """Primary keys for `count` new rows, taken before the rows are written.

    PostgreSQL: from the table's identity sequence, so concurrent writers are safe. SQLite: above
    the highest id ever used, which is safe because a write transaction holds the database lock.
    """
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, model._meta.pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor != "sqlite":
            raise CommandError(f"seed_bulk supports PostgreSQL and SQLite, not {connection.vendor}.")
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")  # noqa: S608 (a table name from our models)
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(highest, row[0] if row else 0) + 1
        return list(range(start, start + count))


# --- what to generate ---------------------------------------------------------------------------

HOUSING = ["housed"] * 5 + ["at_risk"] * 2 + ["sheltered"] * 2 + ["unsheltered"] * 2 + ["institution", "unknown"]
RACES = [c.value for c in Individual.RaceEthnicity]
RISKS = ["none"] * 3 + ["low"] * 3 + ["moderate"] * 3 + ["high"]
DISPOSITIONS = (
    ["stabilised"] * 12
    + ["voluntary_crisis_centre"] * 4
    + ["emergency_department"] * 3
    + ["involuntary_hold", "arrest", "refused", "refused", "unable_to_locate", "cancelled"]
)
CALL_SOURCES = ["911"] * 8 + ["988", "police", "fire_ems", "self"]
LAW_ENFORCEMENT = ["none"] * 7 + ["requested", "on_scene"]
CLOSED_REASONS = [c.value for c in Case.ClosedReason if c != Case.ClosedReason.DECEASED]
URGENCIES = ["routine"] * 6 + ["urgent", "urgent", "asap"]
OPEN = {S.REQUESTED.value, S.ACCEPTED.value, S.IN_PROGRESS.value, S.ON_HOLD.value}

# Status by the referral's age: (younger than this many days, statuses, weights).
_ALL = [
    "draft",
    "requested",
    "accepted",
    "in-progress",
    "on-hold",
    "completed",
    "rejected",
    "cancelled",
    "failed",
    "entered-in-error",
]
STATUS_BY_AGE = [
    (
        3,
        ["draft", "requested", "accepted", "rejected", "cancelled", "in-progress", "entered-in-error"],
        [8, 50, 20, 6, 6, 8, 2],
    ),
    (60, _ALL, [2, 8, 14, 22, 10, 20, 8, 7, 8, 1]),
    (None, _ALL, [1, 1, 2, 4, 3, 45, 12, 15, 15, 2]),
]
BUSINESS = {
    "requested": "awaiting_partner",
    "accepted": "appointment_scheduled",
    "in-progress": "enrolled",
    "on-hold": "waitlisted",
    "completed": "enrolled",
    "failed": "no_show",
}
HISTORY = {status.value: [s.value for s in path] for status, path in d.REFERRAL_HISTORY.items()}
REASONS = {status: d.STATUS_REASONS[status] for status in [*sorted(REASON_REQUIRED), "entered-in-error"]}
PARTNER_STATUSES = {s.value for s in PARTNER_SETS}


class Generator:
    def __init__(self, *, program, staff, services, prefix, seed, now):
        self.program_id = program.pk
        self.answer_window = program.referral_answer_window
        self.navigators, self.peers, self.paramedics = staff
        self.services = services  # (service id, organization id, need domain, partner user id, credential id)
        self.prefix = prefix
        self.r = random.Random(seed)
        self.now = now
        self.surnames = [f"{name}-{k}" for name in d.SURNAMES for k in range(1, 401)]
        self.phones = [f"405-555-01{k:02d}" for k in range(100)]
        self.first_birthday = date(1940, 1, 1).toordinal()
        self.birthday_span = date(2008, 1, 1).toordinal() - self.first_birthday
        self.status_tables = [(age, statuses, self._cumulative(weights)) for age, statuses, weights in STATUS_BY_AGE]

    @staticmethod
    def _cumulative(weights):
        total, out = 0, []
        for w in weights:
            total += w
            out.append(total)
        return out

    def referral_count(self, start: int, count: int) -> int:
        return sum(2 if i % 3 == 0 else 1 for i in range(start, start + count))

    def batch(self, start: int, count: int) -> dict[Table, list[tuple]]:
        r, now, td = self.r, self.now, timedelta
        rand, choice, choices = r.random, r.choice, r.choices
        program_id, prefix = self.program_id, self.prefix
        ind_ids = reserve_ids(Individual, count)
        enc_ids = reserve_ids(Encounter, count)
        case_ids = reserve_ids(Case, count)
        ref_ids = iter(reserve_ids(Referral, self.referral_count(start, count)))
        individuals, encounters, cases, referrals, events = [], [], [], [], []
        latest_call = now - td(hours=4)
        span = 730 * DAY - 4 * 3600

        for k in range(count):
            i = start + k
            ind_id, enc_id, case_id = ind_ids[k], enc_ids[k], case_ids[k]
            received = latest_call - td(seconds=rand() * span)
            dispatched = received + td(seconds=60 + rand() * 420)
            disposition = choice(DISPOSITIONS)
            if disposition == "cancelled":
                on_scene, cleared = None, dispatched + td(minutes=5)
            else:
                on_scene = dispatched + td(seconds=300 + rand() * 1500)
                cleared = on_scene + td(seconds=1200 + rand() * 7200)
            area, housing, language, risk = choice(d.AREAS), choice(HOUSING), choice(d.LANGUAGES), choice(RISKS)
            navigator = choice(self.navigators)
            unhoused = housing in ("sheltered", "unsheltered")
            individuals.append(
                (ind_id, program_id, choice(d.FIRST_NAMES), choice(self.surnames), "", choice(d.PRONOUNS),
                 date.fromordinal(self.first_birthday + int(rand() * self.birthday_span)), choice(self.phones), "",
                 "", choice(d.WHERE_STAYING) if unhoused else "", area, housing, language,
                 language != "en" and rand() < 0.6, choice(RACES), choice(d.GENDERS), f"{prefix}P{i}", "", "",
                 rand() < 0.02, choice(d.BULK_SAFE_CHANNELS), "", choice(d.SAFETY_NOTES) if rand() < 0.1 else "",
                 risk, received, cleared)
            )  # fmt: skip
            encounters.append(
                (enc_id, program_id, ind_id, f"{prefix}{i:07d}", choice(CALL_SOURCES), choice(d.CALL_TYPES),
                 received, dispatched, on_scene, cleared, "", round(d.CITY_LAT + (rand() - 0.5) * 0.2, 6),
                 round(d.CITY_LON + (rand() - 0.5) * 0.25, 6), area, choice(("CRT 1", "CRT 2", "CRT 3")),
                 choice(LAW_ENFORCEMENT), choice(d.CALL_REASONS), choice(d.BULK_INTERVENTIONS), disposition,
                 d.DESTINATIONS.get(disposition, ""), "", choice(self.paramedics) if self.paramedics else None,
                 cleared, cleared)
            )  # fmt: skip

            case_open = False
            for _ in range(2 if i % 3 == 0 else 1):
                ref_id = next(ref_ids)
                created = min(cleared + td(seconds=1800 + rand() * 3 * DAY), now - td(minutes=20))
                age_days = (now - created).total_seconds() / DAY
                for max_age, statuses, cumulative in self.status_tables:
                    if max_age is None or age_days < max_age:
                        status = choices(statuses, cum_weights=cumulative)[0]
                        break
                service_id, org_id, domain, partner_user, partner_credential = choice(self.services)
                path = HISTORY[status]
                times = [created]
                if len(path) > 1:
                    times.append(min(created + td(seconds=300 + rand() * 10800), now - td(minutes=10)))
                    end = min(now - td(minutes=1), times[1] + td(days=45))
                    while len(times) < len(path):
                        times.append(times[-1] + (end - times[-1]) * (0.1 + 0.4 * rand()))
                reason = choice(REASONS[status]) if status in REASONS else ""
                previous = ""
                for to_status, at in zip(path, times, strict=True):
                    by_partner = to_status in PARTNER_STATUSES
                    events.append(
                        (ref_id, "partner" if by_partner else "staff",
                         (partner_user if by_partner else navigator), (partner_credential if by_partner else None),
                         previous, to_status, BUSINESS.get(to_status, ""), reason if to_status == status else "", at)
                    )  # fmt: skip
                    previous = to_status
                last = times[-1]
                requested_at = times[1] if len(times) > 1 else None
                appointment, owner, due = None, "", None
                if status in OPEN:
                    case_open = True
                    owner = "partner"
                    if status == "requested":
                        due = requested_at + self.answer_window
                    elif status == "accepted":
                        appointment = last + td(days=1 + int(rand() * 9))
                        due = appointment + td(days=1)
                    elif status == "in-progress":
                        due = last + td(days=14)
                    else:  # on hold: the navigator checks back
                        owner, due = "navigator", last + td(days=7)
                elif status == "draft":
                    case_open = True
                referrals.append(
                    (ref_id, program_id, ind_id, case_id, service_id, org_id, domain, choice(URGENCIES),
                     d.REFERRAL_REASONS[domain], True, False, None, status, reason, BUSINESS.get(status, ""),
                     appointment, "", owner, due, 0, len(path), navigator, created, requested_at, last)
                )  # fmt: skip

            age_days = (now - cleared).total_seconds() / DAY
            if not case_open and age_days > 45 and rand() < 0.85:
                closed_at = min(cleared + td(days=30 + rand() * 15), now)
                status, closed_reason = "closed", choice(CLOSED_REASONS)
            else:
                closed_at, closed_reason = None, ""
                status = "active_follow_up" if age_days > 1 else "open"
            cases.append(
                (case_id, program_id, ind_id, enc_id, navigator, choice(self.peers) if rand() < 0.6 else None,
                 status, closed_reason, closed_at, risk, cleared, closed_at or cleared)
            )  # fmt: skip

        return {INDIVIDUALS: individuals, ENCOUNTERS: encounters, CASES: cases, REFERRALS: referrals, EVENTS: events}


# --- setup: program, staff and directory to hang the rows on ----------------------------------


def _role_users(program, role: Role, *, create: int) -> list[int]:
    ids = list(
        User.objects.filter(program=program, is_active=True, groups__name=role.label)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if ids or not create:
        return ids
    group = Group.objects.get(name=role.label)
    for k in range(1, create + 1):
        user = User(
            username=f"{program.slug}.bulk.{role.value}{k}",
            first_name="Bulk",
            last_name=f"{role.label} {k}",
            program=program,
        )
        user.set_unusable_password()  # synthetic staff: they own records but never sign in
        user.save()
        user.groups.add(group)
        ids.append(user.pk)
    return ids


SMALL_DIRECTORY = [
    (NeedDomain.HOUSING, "Emergency shelter"),
    (NeedDomain.HEALTHCARE, "Primary care"),
    (NeedDomain.RECOVERY, "Outpatient treatment"),
    (NeedDomain.MENTAL_HEALTH, "Counselling intake"),
    (NeedDomain.PEER_SUPPORT, "Peer support"),
    (NeedDomain.FOOD, "Food pantry"),
    (NeedDomain.BENEFITS, "Benefits enrolment"),
]


def _directory(now) -> list[tuple]:
    """Active services with their organisation and a partner actor for the partner's moves."""
    services = list(
        Service.objects.filter(status=Service.Status.ACTIVE, organization__is_active=True)
        .select_related("organization")
        .order_by("pk")
    )
    if not services:
        for k, (domain, label) in enumerate(SMALL_DIRECTORY, start=1):
            org, _ = Organization.objects.get_or_create(
                name=f"Synthetic Partner {k} ({label})",
                defaults={"description": "Created by seed_bulk.", "channel": Organization.Channel.PULL},
            )
            service, _ = Service.objects.get_or_create(
                organization=org, name=label, defaults={"need_domain": domain, "languages": ["en"], "assured_at": now}
            )
            service.organization = org
            services.append(service)
    actors = {}
    for service in services:
        org = service.organization
        if org.pk in actors:
            continue
        user_id = org.users.filter(is_active=True).order_by("pk").values_list("pk", flat=True).first()
        credential_id = None
        if user_id is None:
            credential_id = org.credentials.order_by("pk").values_list("pk", flat=True).first()
        if user_id is None and credential_id is None:
            # Someone must have made the partner's moves. This credential is revoked at birth and its
            # key thrown away: it can never sign in, it only names the actor of the synthetic history.
            credential = PartnerCredential(organization=org, name="seed_bulk synthetic history", revoked_at=now)
            issue_key(credential)
            credential_id = credential.pk
        actors[org.pk] = (user_id, credential_id)
    return [(s.pk, s.organization_id, s.need_domain, *actors[s.organization_id]) for s in services]


class Command(BaseCommand):
    help = "Generate N synthetic individuals with encounters, cases, referrals and events, fast (for benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--individuals", type=int, required=True, help="How many people to create.")
        parser.add_argument("--program", default=d.PROGRAM_SLUG, help="Program slug (created if missing).")
        parser.add_argument("--batch-size", type=int, default=10_000, help="People per batch and transaction.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (content only; CAD prefixes differ).")
        parser.add_argument(
            "--writer",
            choices=["auto", "copy", "orm"],
            default="auto",
            help="auto: COPY on PostgreSQL, bulk_create elsewhere.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")

    @system_read("the bulk data is written and read back by the seed command")
    def handle(self, *args, **options):
        count, batch_size = options["individuals"], options["batch_size"]
        if count < 1 or batch_size < 1:
            raise CommandError("--individuals and --batch-size must be at least 1.")
        writer = self._writer(options["writer"])
        now = timezone.now()
        started = time.monotonic()

        with transaction.atomic():
            program = self._program(options["program"])
            staff = (
                _role_users(program, Role.NAVIGATOR, create=5),
                _role_users(program, Role.PEER, create=3),
                _role_users(program, Role.PARAMEDIC, create=0),
            )
            services = _directory(now)
        prefix = self._cad_prefix(program, now)
        generator = Generator(
            program=program, staff=staff, services=services, prefix=prefix, seed=options["seed"], now=now
        )

        progress_file = options.get("stderr") or sys.stderr
        totals = {INDIVIDUALS: count, ENCOUNTERS: count, CASES: count, REFERRALS: generator.referral_count(0, count)}
        bars = {
            table: tqdm(
                total=totals.get(table),
                desc=f"{table.name:<16}",
                unit=" rows",
                unit_scale=True,
                position=k,
                file=progress_file,
                disable=options["no_progress"],
                mininterval=0.5,
            )
            for k, table in enumerate(TABLES)
        }
        written = dict.fromkeys(TABLES, 0)
        seconds = {"generate": 0.0, "commit": 0.0} | dict.fromkeys(TABLES, 0.0)
        try:
            for start in range(0, count, batch_size):
                with transaction.atomic():
                    tick = time.monotonic()
                    rows = generator.batch(start, min(batch_size, count - start))
                    seconds["generate"] += time.monotonic() - tick
                    for table in TABLES:
                        tick = time.monotonic()
                        writer.write(table, rows[table])
                        seconds[table] += time.monotonic() - tick
                    tick = time.monotonic()
                seconds["commit"] += time.monotonic() - tick  # deferred foreign-key checks run here
                for table in TABLES:
                    written[table] += len(rows[table])
                    bars[table].update(len(rows[table]))
        finally:
            for bar in bars.values():
                bar.close()
        load_seconds = time.monotonic() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fresh planner statistics for the benchmarks that follow
                for table in TABLES:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(table.model._meta.db_table)}")
        elapsed = time.monotonic() - started
        total = sum(written.values())
        self.stdout.write(
            f"Wrote {total:,} rows with {writer.method} in {load_seconds:.1f} s ({total / load_seconds:,.0f} rows/s; "
            f"{elapsed:.1f} s with ANALYZE). Program {program.slug}, CAD prefix {prefix}"
        )
        self.stdout.write(f"  {'table':<18} {'rows':>12} {'seconds':>9}")
        for table in TABLES:
            self.stdout.write(f"  {table.name:<18} {written[table]:>12,} {seconds[table]:>9.1f}")
        self.stdout.write(f"  {'(generating rows)':<18} {'':>12} {seconds['generate']:>9.1f}")
        self.stdout.write(f"  {'(commits)':<18} {'':>12} {seconds['commit']:>9.1f}")

    def _writer(self, choice: str):
        if choice == "orm" or (choice == "auto" and connection.vendor != "postgresql"):
            return OrmWriter()
        if connection.vendor != "postgresql":
            raise CommandError("--writer copy needs PostgreSQL.")
        return CopyWriter()

    def _program(self, slug: str) -> Program:
        program = Program.objects.filter(slug=slug).first()
        if program is None:
            name = d.PROGRAM_NAME if slug == d.PROGRAM_SLUG else f"Benchmark program {slug}"
            program = Program.objects.create(slug=slug, name=name, area_name=d.PROGRAM_AREA)
        return program

    def _cad_prefix(self, program: Program, now) -> str:
        """A prefix no earlier run used: the run's time to the second plus a random tag."""
        for _ in range(5):
            prefix = f"B{now:%y%m%d%H%M%S}{secrets.token_hex(2)}-"
            if not Encounter.objects.filter(program=program, cad_incident_number__startswith=prefix).exists():
                return prefix
        raise CommandError("Could not find an unused CAD prefix.")
