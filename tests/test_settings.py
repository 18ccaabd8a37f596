"""Settings come from the environment only; a bad or missing variable names itself."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """Import crt.settings in a fresh interpreter with exactly this environment."""
    clean = {"PATH": os.environ["PATH"], "CRT_VAR_DIR": env.pop("CRT_VAR_DIR", "/tmp/crt-settings-test"), **env}
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'crt.settings'); "
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, settings.DEBUG)"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def test_no_environment_except_debug_runs_on_sqlite_and_the_filesystem_broker():
    result = load_settings(DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://", "True"]


def test_missing_secret_key_fails_loudly_outside_development_mode():
    result = load_settings()
    assert result.returncode != 0
    assert "SECRET_KEY is required unless DEBUG=true" in result.stderr


def test_database_url_and_broker_url_select_postgres_and_redis():
    result = load_settings(
        SECRET_KEY="x" * 60,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/crt",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "redis://127.0.0.1:6379/0", "False"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("DATABASE_URL", "nosuchdb://x", "DATABASE_URL is not a database URL"),
        ("WEBHOOK_TIMEOUT_SECONDS", "ten", "WEBHOOK_TIMEOUT_SECONDS must be a whole number"),
        ("SECURE_SSL_REDIRECT", "perhaps", "SECURE_SSL_REDIRECT must be true or false"),
    ],
)
def test_an_invalid_variable_is_named_in_the_error(variable, value, message):
    result = load_settings(SECRET_KEY="x" * 60, **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_every_variable_settings_reads_is_documented_in_env_example_and_readme():
    import re

    read = set(re.findall(r'env_(?:str|bool|int|list)\("([A-Z_]+)"', (ROOT / "crt/settings.py").read_text()))
    example = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    readme = (ROOT / "README.md").read_text()
    assert read, "found no variables: the pattern no longer matches settings.py"
    assert read - example == set()
    assert {name for name in read if f"`{name}`" not in readme} == set()


def test_the_embedded_default_creates_its_folders_on_a_fresh_checkout(tmp_path):
    var = tmp_path / "var"
    result = load_settings(DEBUG="true", CRT_VAR_DIR=str(var))
    assert result.returncode == 0, result.stderr
    # a worker refuses to start when its result folder is missing, so the settings make them
    assert (var / "broker" / "processed").is_dir()
    assert (var / "celery-results").is_dir()


def test_manage_py_names_the_missing_variable_instead_of_a_traceback():
    clean = {"PATH": os.environ["PATH"], "CRT_VAR_DIR": "/tmp/crt-settings-test"}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "crt: The environment variable SECRET_KEY is required unless DEBUG=true (development mode)."
    )


def test_migrate_database_url_must_name_the_same_database_with_another_role():
    """The owner's URL only changes who migrates (decision 010), never which database."""
    common = {"SECRET_KEY": "x" * 60, "DATABASE_URL": "postgres://crt_app@127.0.0.1:5432/crt"}
    same = load_settings(**common, MIGRATE_DATABASE_URL="postgres://crt_owner@127.0.0.1:5432/crt")
    assert same.returncode == 0, same.stderr
    other = load_settings(**common, MIGRATE_DATABASE_URL="postgres://crt_owner@127.0.0.1:5432/elsewhere")
    assert other.returncode != 0
    assert "MIGRATE_DATABASE_URL must name the same database" in other.stderr


@pytest.mark.postgres
def test_migrate_as_the_owner_refuses_the_app_role_as_owner(settings, db):
    """MIGRATE_DATABASE_URL naming DATABASE_URL's own role would leave the app owning everything."""
    from django.core.management import CommandError, call_command
    from django.db import connection

    settings.MIGRATE_DATABASE = {"USER": connection.settings_dict["USER"], "PASSWORD": ""}
    with pytest.raises(CommandError, match="same role"):
        call_command("migrate", verbosity=0)
