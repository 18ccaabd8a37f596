"""A real Celery worker process runs a task end to end: on the embedded filesystem broker always,
and on Redis when the broker is configured (always in CI)."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "crt", "worker", "--concurrency=1", "--loglevel=INFO"]
    command += ["--without-mingle", "--without-gossip", "-n", f"smoke-{uuid.uuid4().hex[:8]}@%h"]
    return subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def stop_worker(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=10)


def ping_through(client: Celery, worker: subprocess.Popen, log: Path) -> str:
    try:
        return client.send_task("crt.ping").get(timeout=90)
    except Exception:
        print(log.read_text()[-4000:])  # the worker's own words, for whoever reads the failure
        raise
    finally:
        stop_worker(worker)


@pytest.mark.worker
def test_a_real_worker_runs_a_task_on_the_embedded_filesystem_broker(tmp_path, monkeypatch):
    # Celery lets the CELERY_BROKER_URL environment variable override the broker given in code.
    monkeypatch.setenv("CELERY_BROKER_URL", "filesystem://")
    broker_dir = tmp_path / "broker"
    (broker_dir / "processed").mkdir(parents=True)
    results = f"file://{tmp_path / 'results'}"
    (tmp_path / "results").mkdir()
    env = {"CELERY_BROKER_URL": "filesystem://", "CELERY_BROKER_DIR": str(broker_dir), "CELERY_RESULT_BACKEND": results}
    client = Celery("smoke", broker="filesystem://", backend=results)
    client.conf.broker_transport_options = {
        "data_folder_in": str(broker_dir),
        "data_folder_out": str(broker_dir),
        "processed_folder": str(broker_dir / "processed"),
        "control_folder": str(broker_dir / "control"),
    }
    worker = start_worker(env, tmp_path / "worker.log")
    assert ping_through(client, worker, tmp_path / "worker.log") == "pong"


@pytest.mark.worker
@pytest.mark.redis
def test_a_real_worker_runs_a_task_on_redis(tmp_path):
    broker = settings.CELERY_BROKER_URL
    client = Celery("smoke", broker=broker, backend=settings.CELERY_RESULT_BACKEND)
    worker = start_worker({"CELERY_BROKER_URL": broker}, tmp_path / "worker.log")
    assert ping_through(client, worker, tmp_path / "worker.log") == "pong"
