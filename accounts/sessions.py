"""Session rules: idle and absolute timeouts, dead sessions, and the partner area.

- Idle: a session unused for settings.SESSION_IDLE_SECONDS (15 minutes) is signed out on its next
  request. Absolute: settings.SESSION_COOKIE_AGE (12 hours) after sign-in it is signed out however
  active it has been. Both are checked on the server, whatever the cookie says.
- A session whose user was deactivated (or whose password changed) is emptied on its very next
  request: Django already refuses such a user; this also throws the session away.
- Partner users are kept to the partner pages (settings.PARTNER_PATH_PREFIXES).

The session id is rotated at sign-in by django.contrib.auth.login(), which only accounts.views calls.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.shortcuts import redirect
from django.utils import timezone

SIGNED_IN_AT = "crt_signed_in_at"
LAST_SEEN_AT = "crt_last_seen_at"
# How often the last-seen time is written: each write is a session UPDATE and a commit, so not on
# every page. The idle timeout then ends a session 15 minutes after the last recorded request, which
# is at most this much before the last request itself.
LAST_SEEN_RESOLUTION_SECONDS = 60


def start(request) -> None:
    """Start both clocks: called right after login()."""
    now = timezone.now().timestamp()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now


def expired(session, now: float) -> str | None:
    """Why this signed-in session has ended, or None."""
    if now - session[SIGNED_IN_AT] >= settings.SESSION_COOKIE_AGE:
        return "Your session reached its maximum length. Please sign in again."
    if now - session[LAST_SEEN_AT] >= settings.SESSION_IDLE_SECONDS:
        return "You were signed out after a period without activity. Please sign in again."
    return None


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if SESSION_KEY in session:
            if not request.user.is_authenticated:
                session.flush()  # deactivated, deleted, or password changed since sign-in
            else:
                now = timezone.now().timestamp()
                if SIGNED_IN_AT not in session:
                    start(request)  # a sign-in that did not pass through accounts.views (tests' force_login)
                reason = expired(session, now)
                if reason:
                    logout(request)
                    messages.info(request, reason)
                elif now - session[LAST_SEEN_AT] >= LAST_SEEN_RESOLUTION_SECONDS:
                    session[LAST_SEEN_AT] = now
        return self.get_response(request)


class PartnerAreaMiddleware:
    """A signed-in partner user asking for anything outside the partner pages goes to partner home."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "is_partner_user", False)
            and not request.path_info.startswith(tuple(settings.PARTNER_PATH_PREFIXES))
        ):
            return redirect(settings.PARTNER_HOME_URL)
        return self.get_response(request)
