"""Where a webhook may be sent: https, to public unicast addresses only (a guard against SSRF).

A partner's webhook URL is typed in by a staff admin (or, later, by the partner), so it must not
become a way to make our workers call the database, the cloud metadata service or anything else on
the private network. Two layers:

- `check_url` refuses a URL before any I/O: the scheme must be https and every address the host
  resolves to must be public unicast.
- `validate_webhook_url` applies `check_url` when a URL is set (the model field, so the admin's form
  too, and providers.services for the partner's own API): a URL the send would refuse is refused
  when it is typed, with the reason. A name that does not resolve yet is accepted; it is checked
  again at every send.
- `guarded_session` is a requests session whose connections resolve the host again, check every
  address, and connect to the address that was checked, so a name that changes its answer
  between the check and the connection (DNS rebinding) cannot slip a private address in.

Hosts listed in settings.WEBHOOK_ALLOWED_HOSTS are exempt from both rules (the tests' and the
demo's receivers on 127.0.0.1). docs/reliability.md lists what is still possible.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 ranges that carry an IPv4 address inside them: NAT64 (RFC 6052, RFC 8215).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class BlockedURL(Exception):
    """The URL may not be called. The message is short and safe to store: it never holds personal data."""


class UnresolvableHost(BlockedURL):
    """The host name does not resolve: often passing (DNS trouble), so the attempt is retried."""


def is_allowlisted(host: str) -> bool:
    host = host.strip("[]").rstrip(".").lower()
    return host in {allowed.strip("[]").rstrip(".").lower() for allowed in settings.WEBHOOK_ALLOWED_HOSTS}


def address_problem(address: Address) -> str | None:
    """Why this address is not public unicast, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            problem = address_problem(embedded)
            return f"{problem} (inside an IPv6 address)" if problem else None
    for problem, is_it in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),
    ):
        if is_it:
            return f"address {address} is {problem}"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def public_addresses(host: str, port: int) -> list[str]:
    """Resolve host and return its addresses, all of them public unicast; raise BlockedURL otherwise.

    Every address is checked, not only the first: a name answering with one public and one private
    address would otherwise be a coin toss away from the private one.
    """
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnresolvableHost("host name does not resolve") from None
    addresses: list[str] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        problem = address_problem(address)
        if problem:
            raise BlockedURL(f"blocked: {problem}")
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise UnresolvableHost("host name does not resolve")
    return addresses


def check_url(url: str) -> None:
    """Raise BlockedURL unless a webhook may be sent to url."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise BlockedURL("webhook URL is malformed") from None
    if not host:
        raise BlockedURL("webhook URL has no host")
    if parts.username or parts.password:
        raise BlockedURL("webhook URL must not carry credentials")
    if is_allowlisted(host):
        if parts.scheme not in ("http", "https"):
            raise BlockedURL("webhook URL must use http or https")
        return
    if parts.scheme != "https":
        raise BlockedURL("webhook URL must use https")
    public_addresses(host, port or 443)


def validate_webhook_url(url: str) -> None:
    """A Django validator: refuse, as it is set, a webhook URL that `check_url` would block at send
    time (loopback, link-local, private, mapped or otherwise non-public addresses, no https)."""
    if not url:
        return
    try:
        check_url(url)
    except UnresolvableHost:
        return  # not in DNS (yet): every send resolves and checks it again
    except BlockedURL as blocked:
        reason = str(blocked).removeprefix("blocked: ")
        raise ValidationError(
            f"This URL cannot receive webhooks: {reason}. Give an https:// URL on a public internet address.",
            code="blocked_address",  # not "invalid": a model field would swap in its own message
        ) from None


class _GuardedConnectionMixin:
    """Resolve, check and connect to the checked address, all in the moment of connecting."""

    _dns_host: str
    port: int

    def _new_conn(self):
        host = self._dns_host
        if is_allowlisted(host):
            return super()._new_conn()  # type: ignore[misc]
        address = public_addresses(host, self.port)[0]
        # urllib3 connects to _dns_host; TLS still checks the certificate against the host name,
        # which `host` reads back once the original value is restored below.
        self._dns_host = address
        try:
            return super()._new_conn()  # type: ignore[misc]
        finally:
            self._dns_host = host


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def guarded_session() -> requests.Session:
    """A session whose every new connection goes through the address check.

    It ignores proxy variables and .netrc from the environment (trust_env off): a proxy would
    connect on our behalf to an address we never checked.
    """
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", _GuardedAdapter())
    session.mount("https://", _GuardedAdapter())
    return session
