"""Every rule that turns on a user's roles lives in accounts/roles.py: the app's code asks its named
predicates (may_view_metrics, may_write_encounters, is_program_staff...) and never reads or compares
roles itself. This walks the source of every app of ours and fails on a role check anywhere else."""

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR).resolve()
HOME = ROOT / "accounts" / "roles.py"
# The User model's read-only `roles` property (what tests ask a user's roles with) is one line of
# roles_of; data generators put the users they make into role groups, and decide no one's access.
ALLOWED = {
    ("accounts/models.py", "roles_of"),
    ("seed_bulk.py", "groups__name"),
}
ROLE_READERS = {"roles_of", "STAFF_ROLES"}  # reading a user's roles, the set of staff roles
FLAGS = {"is_superuser", "is_staff"}  # Django's own flags: a network admin is roles.is_network_admin


def role_checks(source: str) -> list[tuple[int, str]]:
    """(line, what) for each role check in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id in ROLE_READERS:
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.alias) and node.name in ROLE_READERS:
            found.append((node.lineno, node.name))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            if node.attr in ROLE_READERS or node.attr in FLAGS or node.attr == "roles":
                found.append((node.lineno, node.attr))
        elif isinstance(node, ast.keyword) and node.arg and node.arg.startswith("groups__"):
            found.append((node.value.lineno, "groups__name"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("groups__"):
            found.append((node.lineno, "groups__name"))
        elif isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                if isinstance(operand, ast.Attribute) and _is_role_member(operand):
                    found.append((node.lineno, "Role compared"))
    return found


def _is_role_member(node: ast.Attribute) -> bool:
    """Role.X or Role.X.label/.value."""
    while isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id == "Role":
            return True
        node = node.value
    return False


def app_sources() -> list[Path]:
    """The Python files of every installed app that lives in this repository, but migrations."""
    files = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.parent != ROOT:
            continue  # Django's and third parties' apps (in a clean clone .venv lies inside ROOT)
        files += [p for p in path.rglob("*.py") if "migrations" not in p.parts]
    files += (ROOT / "crt").rglob("*.py")  # the project package: settings, the API's shared permissions
    return sorted(set(files))


def test_no_role_check_outside_accounts_roles():
    sources = app_sources()
    assert ROOT / "cases" / "views.py" in sources and HOME in sources  # the walk found the apps
    problems = []
    for path in sources:
        if path == HOME:
            continue
        relative = path.relative_to(ROOT).as_posix()
        for line, what in role_checks(path.read_text()):
            if (relative, what) in ALLOWED or (path.name, what) in ALLOWED:
                continue
            problems.append(f"{relative}:{line}: {what} (ask a predicate of accounts/roles.py)")
    assert problems == []


def test_the_walk_recognises_each_kind_of_role_check():
    snippets = {
        "if Role.SUPERVISOR in roles_of(user): pass": {"roles_of", "Role compared"},
        "from accounts.roles import STAFF_ROLES": {"STAFF_ROLES"},
        "ok = bool(user.roles & {1})": {"roles"},
        "ok = request.user.is_superuser": {"is_superuser"},
        "ok = request.user.is_staff": {"is_staff"},
        "User.objects.filter(groups__name__in=labels)": {"groups__name"},
        "User.objects.filter(**{'groups__name': label})": {"groups__name"},
        "ok = group.name == Role.PEER.label": {"Role compared"},
    }
    for source, expected in snippets.items():
        assert {what for _line, what in role_checks(source)} == expected, source
    assert role_checks("if may_view_metrics(user): User.objects.create(is_staff=True)") == []
