"""Roles, and what each role may see. This table is the one place that says so.

A user's roles are the Django groups they belong to (one group per role, created by a data
migration with the permissions below). Every `visible_to(user)` query method asks `scope_for`
how far the user may see a kind of record:

- PROGRAM: every record of that kind in the user's program;
- CASELOAD: records of people on a case where the user is the navigator or the peer specialist;
- NONE: nothing.

Partners (partner users and partner API credentials) never see people's records through these
scopes: they see only referrals addressed to their organisation (see referrals.models).
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


def is_network_admin(user) -> bool:
    """Who administers the shared partner directory's access: partner API keys, partner users (their
    passwords and second factors) and how a partner receives referrals (docs/decisions/014).

    A superuser: the deployment's operator, above every program. A program's staff admin is not one,
    because a partner serves every program and whoever holds its keys reads every program's referrals.
    """
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


ENCOUNTER_WRITERS = frozenset({Role.PARAMEDIC, Role.CLINICIAN, Role.SUPERVISOR})


def may_write_encounters(user) -> bool:
    """Recording and editing encounters (the pages show their links only then)."""
    return bool(roles_of(user) & ENCOUNTER_WRITERS)


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
