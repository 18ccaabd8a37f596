"""SQL that the ORM does not build never meets crt.scoping's check (a queryset's, when it runs). So
every module of ours that sends statements of its own is listed here, with why it may and the test
that holds it to the rules: a person's records read by hand are held equal to visible_to. A module
that starts sending its own SQL fails this test until it is listed, with its test.

What this cannot see: new SQL in a module already listed. Its listed test is what guards it."""

import ast
import re
from pathlib import Path

from django.conf import settings

from tests.accounts.test_role_rules_live_here import app_sources

ROOT = Path(settings.BASE_DIR).resolve()

# module -> (why it may send its own statements, the test that holds them to the rules)
LISTED = {
    "cases/timeline.py": (
        "the person page's timeline, under kinds_visible_of_person (decision 006)",
        "tests/web/test_person_record.py",
    ),
    "cases/panels.py": (
        "the person page's panels, under kinds_visible_of_person (decision 006)",
        "tests/web/test_person_record.py",
    ),
    "cases/caseload.py": (
        "the caseload's people and due lists, under visible_where (decision 021)",
        "tests/web/test_caseload_lists.py",
    ),
    "referrals/caseload.py": (
        "the caseload's referrals waiting on partners, under visible_where (decision 021)",
        "tests/web/test_caseload_lists.py",
    ),
    "crt/statements.py": (
        "runs querysets compiled once; a Statement checks the queryset's scope when compiled (decision 020)",
        "tests/api/test_partner_list_statement.py",
    ),
    "inbox/services.py": (
        "the navigation's count of the user's own open items, compiled from the model at import",
        "tests/inbox/test_items.py",
    ),
    "metrics/compute.py": (
        "program counts, small cells suppressed, as a system read (decision 015); no one's record",
        "tests/metrics/test_suppression.py",
    ),
    "audit/access.py": (
        "writes the audit rows of what was read; reads no one's record",
        "tests/security/test_audit_access.py",
    ),
    "audit/triggers.py": ("installs the append-only and history triggers", "tests/security/test_append_only.py"),
    "audit/roles.py": ("grants the app's database role its rights", "tests/security/test_database_roles.py"),
    "accounts/lockout.py": ("an advisory lock on a sign-in key; no table", "tests/security/test_lockout.py"),
    "crt/health.py": ("SELECT 1 for the health check", "tests/test_health.py"),
    "crt/api.py": ("a Redis pipeline for the throttle, not SQL", "tests/api/test_throttle_redis.py"),
    "demo/management/commands/seed_bulk.py": ("COPYs generated benchmark data", "tests/seed/test_seed.py"),
}


SQL_TEXT = re.compile(r"^\s*(SELECT|WITH|INSERT|UPDATE|DELETE)\b.*\b(FROM|INTO|SET)\b", re.DOTALL)


def sends_statements(source: str) -> bool:
    """Holds SQL text of its own (a string that reads as a statement), or calls `.execute(...)` or
    `.executemany(...)` on anything (a cursor, mostly), or `.copy(sql)` (a cursor's COPY; a
    QueryDict's `.copy()` takes nothing)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_TEXT.match(node.value):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in {"execute", "executemany"} or (name == "copy" and node.args):
                return True
    return False


def test_every_module_that_sends_its_own_statements_is_listed_with_its_test():
    found = {str(path.relative_to(ROOT)) for path in app_sources() if sends_statements(path.read_text())}
    assert found - set(LISTED) == set(), "hand-written SQL in a module not listed here (see the docstring)"
    assert set(LISTED) - found == set(), "listed, but no longer sends statements of its own: take it off"
    for module, (_, test) in LISTED.items():
        assert (ROOT / test).is_file(), f"{module}: {test} does not exist"


def test_the_walk_sees_a_cursor_call():
    assert sends_statements("with connection.cursor() as c:\n    c.execute('SELECT 1')")
    assert sends_statements("with connection.cursor() as c, c.copy('COPY t FROM STDIN') as copy:\n    pass")
    assert not sends_statements("Item.objects.filter(pk=1).count()")
    assert not sends_statements("params = request.GET.copy()")
    assert sends_statements('SQL = """\nSELECT r.id FROM referrals_referral r WHERE r.id = %s\n"""')
    assert not sends_statements('"""Select what to show from the list."""')
