"""The client's address behind our trusted proxies (TRUSTED_PROXY_COUNT), for the audit log
(audit.access) and the sign-in lockout (accounts.auth)."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address for the audit log.

    With TRUSTED_PROXY_COUNT = 0 this is REMOTE_ADDR and X-Forwarded-For is ignored (anyone can send
    one). With N trusted proxies in front, each appends the address it received from, so the client
    is the N-th entry from the right; anything left of it was written by the client and is not trusted.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote  # did not come through all our proxies: nothing in the header is trustworthy
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
