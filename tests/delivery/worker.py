"""Real processes for the reliability tests and the bench: a Celery worker and a private redis-server.

Both run in their own process group, so a kill takes the worker's pool children with it, and both
are always stopped by whoever started them (a context manager, or stop() in a finally).
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis

BASE_DIR = Path(__file__).resolve().parents[2]


def database_url_for(name: str) -> str:
    """DATABASE_URL pointing at database `name` (pytest-django's test database) on the same server."""
    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Worker:
    """`celery -A crt worker` as a subprocess, with its log in a file."""

    def __init__(
        self,
        *,
        database_url: str,
        broker_url: str,
        concurrency: int = 2,
        env: dict | None = None,
        directory: Path | None = None,
    ):
        self.log_dir = directory or Path(tempfile.mkdtemp(prefix="crt-delivery-worker-"))
        self.log_path = self.log_dir / "worker.log"
        self.concurrency = concurrency
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "crt.settings",
            "DATABASE_URL": database_url,
            "DATABASE_CONN_MAX_AGE": "60",
            "CELERY_BROKER_URL": broker_url,
            "CELERY_RESULT_BACKEND": broker_url,
            "CRT_VAR_DIR": str(self.log_dir),  # beat schedule and the like stay out of the shared var/
            "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(BASE_DIR),
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self._log_offset = 0

    def start(self) -> "Worker":
        assert self.process is None or self.process.poll() is not None, "already running"
        log = open(self.log_path, "a")  # noqa: SIM115 - handed to the child, closed below
        self._log_offset = log.tell()
        self.starts += 1
        command = [sys.executable, "-m", "celery", "-A", "crt", "worker", "--pool=prefork"]
        command += [f"--concurrency={self.concurrency}", "--without-gossip", "--without-mingle"]
        command += ["--without-heartbeat", "--loglevel=INFO", f"--hostname=delivery-test-{self.starts}@%h"]
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait for the "ready." line this start writes to the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.log_tail()}")
            with open(self.log_path) as log:
                log.seek(self._log_offset)
                if " ready." in log.read():
                    return
            time.sleep(0.1)
        raise TimeoutError(f"worker not ready after {timeout}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: no warm shutdown, no acks, nothing tidied up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        else:
            # A SIGTERMed worker waits for its children, but make sure none is left behind.
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text().splitlines()[-lines:])


class RedisServer:
    """A private, memory-only redis-server on a spare port, for broker outage tests."""

    def __init__(self, port: int | None = None, *, directory: Path | None = None):
        self.port = port or free_port()
        self.dir = directory or Path(tempfile.mkdtemp(prefix="crt-delivery-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> "RedisServer":
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)]
        command += ["--save", "", "--appendonly", "no"]  # memory only: a restart loses every message
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@contextmanager
def publishing_to(broker_url: str):
    """Make this process's Celery app publish to broker_url (the private redis-server) for a while.

    Test-only: Celery caches its connection pools, and the CELERY_BROKER_URL environment variable
    outranks app.conf.broker_url, so the write URL is swapped and the cached pools dropped.
    """
    from kombu import pools as kombu_pools

    from crt.celery import app

    def drop_pools():
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None
        # kombu keeps producer pools in a process-wide registry keyed by connection; a closed one
        # left there fails the next publish anywhere in the test run ("Acquire on closed pool").
        kombu_pools.reset()

    previous = app.conf.broker_write_url if "broker_write_url" in app.conf else None
    drop_pools()
    app.conf.broker_write_url = broker_url
    try:
        yield
    finally:
        drop_pools()
        app.conf.broker_write_url = previous
