"""Roles, what each role may see and what it may do. This module is the one place that says so.

A user's roles are the Django groups they belong to (one group per role, created by a data
migration with the permissions below). Every `visible_to(user)` query method asks `scope_for`
how far the user may see a kind of record:

- PROGRAM: every record of that kind in the user's program;
- CASELOAD: records of people on a case where the user is the navigator or the peer specialist;
- NONE: nothing.

Partners (partner users and partner API credentials) never see people's records through these
scopes: they see only referrals addressed to their organisation (see referrals.models).

What a role may do is PERMISSIONS (model permissions, asked with user.has_perm) and, for every other
rule that turns on a role, a named predicate or query below ("who may do what"): the rest of the
code asks those and never compares roles itself.
"""

from enum import StrEnum
from functools import cache

from django.db import models


class Role(models.TextChoices):
    NAVIGATOR = "navigator", "Navigator"
    PEER = "peer", "Peer recovery specialist"
    CLINICIAN = "clinician", "Clinician"
    PARAMEDIC = "paramedic", "Paramedic"
    SUPERVISOR = "supervisor", "Supervisor"
    STAFF_ADMIN = "staff_admin", "Staff admin"
    PARTNER = "partner", "Partner user"


STAFF_ROLES = frozenset(Role) - {Role.PARTNER}


class Kind(StrEnum):
    """Kinds of personal record, grouped by who needs them."""

    PERSON = "person"  # Individual, SupportContact: who the person is, how to reach them safely
    CLINICAL = "clinical"  # Encounter, Assessment: what happened in the field
    SAFETY_PLAN = "safety_plan"  # SafetyPlan: responders need it on scene as much as navigators do
    CARE = "care"  # Case, Contact, FollowUp, Consent: the follow-up work
    REFERRAL = "referral"  # Referral, ReferralEvent, Delivery


class Scope(StrEnum):
    PROGRAM = "program"
    CASELOAD = "caseload"
    NONE = "none"


_ALL = Scope.PROGRAM
# role -> kind -> scope. A kind a role does not list is Scope.NONE.
ACCESS: dict[Role, dict[Kind, Scope]] = {
    Role.SUPERVISOR: dict.fromkeys(Kind, _ALL),
    Role.STAFF_ADMIN: dict.fromkeys(Kind, _ALL),
    Role.NAVIGATOR: dict.fromkeys(Kind, _ALL),  # covers for each other at 2 a.m.
    Role.CLINICIAN: dict.fromkeys(Kind, _ALL),
    # Field responders: who the person is, safety notes, encounters and assessments, the safety plan.
    Role.PARAMEDIC: {Kind.PERSON: _ALL, Kind.CLINICAL: _ALL, Kind.SAFETY_PLAN: _ALL},
    # Peers work their own caseload and never read clinical assessments or encounter narratives.
    Role.PEER: {
        Kind.PERSON: Scope.CASELOAD,
        Kind.SAFETY_PLAN: Scope.CASELOAD,
        Kind.CARE: Scope.CASELOAD,
        Kind.REFERRAL: Scope.CASELOAD,
    },
    Role.PARTNER: {},
}

# Model permissions per role, as "app_label.codename" (granted by the roles data migration).
_PERSON_READ = ["cases.view_individual", "cases.view_supportcontact"]
_CARE_WRITE = [
    "cases.view_case",
    "cases.add_contact",
    "cases.view_contact",
    "cases.view_followup",
    "cases.view_safetyplan",
    "cases.add_safetyplan",
    "cases.add_supportcontact",
    "cases.change_supportcontact",
    "cases.view_consent",
    "cases.add_consent",
    "referrals.view_referral",
    "referrals.add_referral",
    "referrals.view_referralevent",
    "providers.view_organization",
    "providers.view_service",
    "providers.view_location",
    "providers.view_serviceatlocation",
    "providers.view_servicecapacity",
]
_FIELD_WRITE = [
    "cases.add_individual",
    "cases.change_individual",
    "cases.view_encounter",
    "cases.add_encounter",
    "cases.change_encounter",
    "cases.view_assessment",
    "cases.add_assessment",
    "cases.view_safetyplan",
]
PERMISSIONS: dict[Role, list[str]] = {
    Role.NAVIGATOR: _PERSON_READ
    + _CARE_WRITE
    + ["cases.add_case", "cases.change_case", "cases.view_encounter"]
    + ["cases.view_assessment", "cases.add_individual", "cases.change_individual"],
    Role.PEER: _PERSON_READ + _CARE_WRITE,
    Role.CLINICIAN: _PERSON_READ + _FIELD_WRITE + _CARE_WRITE + ["cases.add_case"],  # from the encounter
    Role.PARAMEDIC: _PERSON_READ + _FIELD_WRITE,
    Role.SUPERVISOR: _PERSON_READ
    + _FIELD_WRITE
    + _CARE_WRITE
    + ["cases.add_case", "cases.change_case"]
    + ["referrals.view_delivery", "accounts.view_user", "accounts.view_program"],
    Role.STAFF_ADMIN: ["*"],  # every model permission: runs users, the directory and operations
    Role.PARTNER: [],  # partners act through the partner page and API, never through model permissions
}


# The apps whose model permissions a staff admin's "*" grants (what sync_role_groups gives the group).
OUR_APPS = ("accounts", "providers", "cases", "referrals", "inbox")


def permissions_of_roles(roles: frozenset[Role]) -> frozenset[str]:
    """Every "app_label.codename" the roles grant: the same set sync_role_groups gives their groups,
    computed from the table instead of read from the database (accounts.auth uses it per request)."""
    granted: set[str] = set()
    for role in roles:
        codes = PERMISSIONS[role]
        granted.update(_every_model_permission() if codes == ["*"] else codes)
    return frozenset(granted)


@cache
def _every_model_permission() -> frozenset[str]:
    from django.apps import apps

    granted = set()
    for label in OUR_APPS:
        for model in apps.get_app_config(label).get_models():
            opts = model._meta
            granted.update(f"{label}.{action}_{opts.model_name}" for action in opts.default_permissions)
            granted.update(f"{label}.{codename}" for codename, _ in opts.permissions)
    return frozenset(granted)


def roles_of(user) -> frozenset[Role]:
    """The user's roles, read once per user object (group names are role labels)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_crt_roles", None)
    if cached is None:
        by_label = {role.label: role for role in Role}
        cached = frozenset(by_label[name] for name in user.groups.values_list("name", flat=True) if name in by_label)
        user._crt_roles = cached
    return cached


def permissions_of(user) -> frozenset[str]:
    """What the user's roles grant (accounts.auth answers has_perm from this)."""
    return permissions_of_roles(roles_of(user))


# --- who may do what ------------------------------------------------------------------------------
# Every rule of the app that turns on a user's roles is one of the predicates and queries below; pages,
# services, query methods, the admin and the API ask these and never compare roles themselves
# (tests/accounts/test_role_rules_live_here.py fails on a role comparison anywhere else). What a role
# may do with a kind of model is PERMISSIONS (asked with user.has_perm); how far it sees is ACCESS.

OVERSIGHT = frozenset({Role.SUPERVISOR, Role.STAFF_ADMIN})  # program-wide oversight of people's work
CASEWORK = frozenset({Role.NAVIGATOR, Role.PEER})  # the roles that hold a caseload
FIELD = frozenset({Role.PARAMEDIC, Role.CLINICIAN})  # responders on the call
ENCOUNTER_WRITERS = frozenset({Role.PARAMEDIC, Role.CLINICIAN, Role.SUPERVISOR})
DIGEST_ROLES = (Role.NAVIGATOR, Role.SUPERVISOR)  # who gets the inbox's daily digest email


def is_program_staff(user) -> bool:
    """Active staff in one of the staff roles with a program. Anonymous and inactive users, partner
    users and staff without a program are not."""
    return bool(roles_of(user) & STAFF_ROLES) and getattr(user, "program_id", None) is not None


def is_partner(user) -> bool:
    """In the partner role (a partner user also needs a partner organisation to see anything)."""
    return Role.PARTNER in roles_of(user)


def acts_for_partner(user) -> bool:
    """A partner user who may act for their organisation: in the partner role and belonging to one."""
    return getattr(user, "partner_organization_id", None) is not None and is_partner(user)


def may_be_navigator(user) -> bool:
    """May be named a case's primary navigator (and is the default one of a case they open)."""
    return Role.NAVIGATOR in roles_of(user)


def may_be_peer(user) -> bool:
    """May be named a case's peer recovery specialist."""
    return Role.PEER in roles_of(user)


def holds_caseload(user) -> bool:
    """Works a caseload of their own: the caseload page is their start page and in their navigation."""
    return bool(roles_of(user) & CASEWORK)


def may_supervise_team(user) -> bool:
    """The team page (caseloads, overdue follow-ups, unassigned cases) and reassigning a case."""
    return Role.SUPERVISOR in roles_of(user)


def may_merge_people(user) -> bool:
    """Merging two people's records into one, and undoing a merge."""
    return Role.SUPERVISOR in roles_of(user)


def may_write_encounters(user) -> bool:
    """Recording and editing encounters (the pages show their links only then)."""
    return bool(roles_of(user) & ENCOUNTER_WRITERS)


def may_view_metrics(user) -> bool:
    """Program metrics (pages, exports, API), for the user's own program."""
    if getattr(user, "program_id", None) is None:
        return False  # partner users and staff without a program
    return bool(roles_of(user) & OVERSIGHT)  # empty for anonymous and inactive users


def may_review_access(user) -> bool:
    """The audit trail of the user's program: who has looked at a person's record, the accounting of
    disclosures, and every break-glass grant (anyone else sees only their own grants)."""
    return bool(roles_of(user) & OVERSIGHT)


def may_oversee_inbox(user) -> bool:
    """Every inbox item of the program (not only those addressed to them), the team inbox page, and
    giving an item to a colleague."""
    return bool(roles_of(user) & OVERSIGHT)


def start_page(user) -> str | None:
    """The URL name of the page a staff member lands on after signing in; None: the plain home page."""
    roles = roles_of(user)
    if roles & CASEWORK:
        return "cases:caseload"
    if Role.SUPERVISOR in roles:
        return "cases:team"
    if roles & FIELD:
        return "cases:people"
    return None


def call_role_of(user, choices) -> str:
    """The first of `choices` (role values, as an encounter's responders record them) the user holds."""
    roles = roles_of(user)
    return next((choice for choice in choices if choice in roles), "")


# Who holds a role, as a filter on a queryset of users (one join on their role groups).


def _holding(users, roles):
    labels = [role.label for role in roles]
    if len(labels) == 1:
        return users.filter(groups__name=labels[0])
    return users.filter(groups__name__in=labels).distinct()


def supervisors(users):
    return _holding(users, [Role.SUPERVISOR])


def navigators(users):
    return _holding(users, [Role.NAVIGATOR])


def peers(users):
    return _holding(users, [Role.PEER])


def caseload_holders(users):
    """Navigators and peer specialists: the people the team page counts cases for."""
    return _holding(users, [Role.NAVIGATOR, Role.PEER])


def responders(users):
    """Who can be on a call: every staff role but the staff admin's."""
    return _holding(users, [role for role in STAFF_ROLES if role is not Role.STAFF_ADMIN])


def staff(users):
    """Holders of any staff role."""
    return _holding(users, STAFF_ROLES)


def digest_recipients(users):
    return _holding(users, DIGEST_ROLES)


def is_network_admin(user) -> bool:
    """Who administers the shared partner directory's access: partner API keys, partner users (their
    passwords and second factors) and how a partner receives referrals (docs/decisions/014).

    A superuser: the deployment's operator, above every program. A program's staff admin is not one,
    because a partner serves every program and whoever holds its keys reads every program's referrals.
    """
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def may_use_admin(user) -> bool:
    """The operations console (Django admin) is the staff admins' (and the network admin's) only: every
    other role does its whole day in the staff app (issue 12). The admin site and the Account page's
    link both ask this."""
    if not (getattr(user, "is_authenticated", False) and user.is_active and user.is_staff):
        return False
    return is_network_admin(user) or Role.STAFF_ADMIN in roles_of(user)


def scope_for(user, kind: Kind) -> Scope:
    """The widest scope any of the user's roles gives on this kind of record."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope.NONE
    if getattr(user, "program_id", None) is None:
        return Scope.NONE  # staff without a program see no one (partner users have none)
    scopes = {ACCESS[role].get(kind, Scope.NONE) for role in roles_of(user)}
    if Scope.PROGRAM in scopes:
        return Scope.PROGRAM
    if Scope.CASELOAD in scopes:
        return Scope.CASELOAD
    return Scope.NONE


def sync_role_groups(apps, using: str = "default") -> None:
    """Create one group per role with exactly the permissions of PERMISSIONS (idempotent).

    Takes an app registry of historical models: called by the roles data migration and after
    every migrate (accounts.apps), so models added later are covered too.
    """
    from django.contrib.auth.management import create_permissions
    from django.db.migrations.state import AppConfigStub

    for app_config in apps.get_app_configs():
        if isinstance(app_config, AppConfigStub):
            app_config.models_module = True  # historical app configs need this for create_permissions
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ours = Permission.objects.using(using).filter(content_type__app_label__in=OUR_APPS)
    for role, codes in PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role.label)
        if codes == ["*"]:
            group.permissions.set(ours)
            continue
        wanted = [code.split(".", 1) for code in codes]
        perms = [ours.get(content_type__app_label=app_label, codename=codename) for app_label, codename in wanted]
        group.permissions.set(perms)
