"""Webhook URLs may only reach public unicast addresses over https (allowlisted hosts excepted)."""

import socket

import pytest
import requests

from crt import netguard
from referrals import delivery as service
from referrals.models import Delivery


def resolving(monkeypatch, answers: dict[str, list[str]]):
    """Make the guard's DNS answer from this table; an unknown name does not resolve."""

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
            for ip in answers[host]
        ]

    monkeypatch.setattr(netguard.socket, "getaddrinfo", fake_getaddrinfo)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://partner.example.org/hook", "webhook URL must use https"),
        ("ftp://partner.example.org/hook", "webhook URL must use https"),
        ("https://127.0.0.1/hook", "blocked: address 127.0.0.1 is loopback"),
        ("https://10.20.30.40/hook", "blocked: address 10.20.30.40 is private"),
        ("https://192.168.1.1/hook", "blocked: address 192.168.1.1 is private"),
        ("https://172.16.0.9/hook", "blocked: address 172.16.0.9 is private"),
        ("https://169.254.169.254/latest/meta-data/", "blocked: address 169.254.169.254 is link-local"),
        ("https://100.64.0.1/hook", "blocked: address 100.64.0.1 is not globally routable"),
        ("https://0.0.0.0/hook", "blocked: address 0.0.0.0 is unspecified"),
        ("https://224.0.0.251/hook", "blocked: address 224.0.0.251 is multicast"),
        ("https://240.0.0.1/hook", "blocked: address 240.0.0.1 is private"),
        ("https://[::1]/hook", "blocked: address ::1 is loopback"),
        ("https://[::]/hook", "blocked: address :: is unspecified"),
        ("https://[fe80::1]/hook", "blocked: address fe80::1 is link-local"),
        ("https://[fd00::1]/hook", "blocked: address fd00::1 is private"),
        ("https://[ff02::1]/hook", "blocked: address ff02::1 is multicast"),
        ("https://[::ffff:127.0.0.1]/hook", "blocked: address 127.0.0.1 is loopback (inside an IPv6 address)"),
        ("https://[::ffff:a00:1]/hook", "blocked: address 10.0.0.1 is private (inside an IPv6 address)"),
        (
            "https://[64:ff9b::a9fe:a9fe]/hook",
            "blocked: address 169.254.169.254 is link-local (inside an IPv6 address)",
        ),
        ("https://[2002:7f00:1::]/hook", "blocked: address 127.0.0.1 is loopback (inside an IPv6 address)"),
        ("https://user:pw@partner.example.org/hook", "webhook URL must not carry credentials"),
        ("https:///hook", "webhook URL has no host"),
    ],
)
def test_unsafe_webhook_urls_are_refused_with_a_clear_reason(url, reason, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []

    with pytest.raises(netguard.BlockedURL) as refused:
        netguard.check_url(url)

    assert str(refused.value) == reason


def test_a_name_that_resolves_to_loopback_is_refused(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []

    with pytest.raises(netguard.BlockedURL, match=r"is loopback"):
        netguard.check_url("https://localhost/hook")  # the real resolver: 127.0.0.1 and/or ::1


def test_a_name_with_one_private_address_among_public_ones_is_refused(settings, monkeypatch):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    resolving(monkeypatch, {"partner.example.org": ["93.184.215.14", "10.0.0.7"]})

    with pytest.raises(netguard.BlockedURL, match=r"10\.0\.0\.7 is private"):
        netguard.check_url("https://partner.example.org/hook")


def test_a_public_https_url_passes(settings, monkeypatch):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    resolving(monkeypatch, {"partner.example.org": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]})

    netguard.check_url("https://partner.example.org/hook")  # no exception


def test_a_name_that_does_not_resolve_is_a_passing_problem_not_a_block(settings, monkeypatch):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    resolving(monkeypatch, {})

    with pytest.raises(netguard.UnresolvableHost):
        netguard.check_url("https://partner.example.org/hook")


def test_an_allowlisted_host_is_exempt_from_https_and_the_address_check(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

    netguard.check_url("http://127.0.0.1:8001/hook")
    netguard.check_url("http://LOCALHOST:8001/hook")


def test_the_connection_itself_refuses_a_name_that_now_resolves_to_loopback(settings, monkeypatch, receiver):
    """DNS rebinding: whatever check_url saw earlier, the connection resolves and checks again."""
    settings.WEBHOOK_ALLOWED_HOSTS = []
    resolving(monkeypatch, {"rebind.example.org": ["127.0.0.1"]})
    port = receiver.url.rsplit(":", 1)[1].strip("/")

    with pytest.raises(netguard.BlockedURL, match="is loopback"):
        netguard.guarded_session().post(f"http://rebind.example.org:{port}/", data=b"{}", timeout=2)

    assert receiver.requests == []


def test_the_connection_goes_to_the_address_that_was_checked(settings, monkeypatch, receiver):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    checked = []

    def public_addresses(host, port):
        checked.append(host)
        return ["127.0.0.1"]  # as if the check had approved this address for the name

    monkeypatch.setattr(netguard, "public_addresses", public_addresses)
    port = receiver.url.rsplit(":", 1)[1].strip("/")

    # partner.invalid cannot resolve anywhere: the request arrives only because the connection
    # used the checked address instead of looking the name up again.
    response = netguard.guarded_session().post(f"http://partner.invalid:{port}/hook", data=b"{}", timeout=2)

    assert response.status_code == 200
    assert checked == ["partner.invalid"]
    (request,) = receiver.requests
    assert request.headers["host"] == f"partner.invalid:{port}"


def test_the_guarded_session_ignores_proxy_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://10.0.0.1:3128")

    assert netguard.guarded_session().trust_env is False
    assert isinstance(netguard.guarded_session(), requests.Session)


def test_a_blocked_webhook_url_is_a_failed_attempt_not_a_crash(webhook_partner, pending, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    webhook_partner.webhook_url = "https://169.254.169.254/latest/meta-data/"
    webhook_partner.save()

    assert service.deliver(pending.pk) == service.Result.RETRY

    pending.refresh_from_db()
    assert pending.state == Delivery.State.PENDING
    assert pending.last_error == "blocked: address 169.254.169.254 is link-local"
    assert pending.attempt_log.get().status_code is None
