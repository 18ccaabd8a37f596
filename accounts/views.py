"""Sign-in, for everyone and for the admin: password, then the second factor, then login().

This module is the only caller of django.contrib.auth.login() (tests/security checks that no other
login view is routed). Between the steps the session holds a "pending" sign-in (who, since when,
where to go next) but no signed-in user, so nothing else is reachable with a password alone.

    password ──► with an authenticator ──► code or recovery code ──► signed in
             └─► without one ──► enrol (QR or text secret + one code) ──► recovery codes, signed in

The same for staff and partner users (who then reach the partner pages only).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import lockout, sessions, twofactor
from accounts.forms import LOCKED, CodeForm, PasswordForm, RecoveryCodeForm
from accounts.models import LoginFailure, User

PENDING = "crt_pending_login"
PENDING_SECONDS = 5 * 60  # the second step must follow the first within this time
NEW_RECOVERY_CODES = "crt_new_recovery_codes"


def _next_from(request) -> str:
    return request.POST.get("next") or request.GET.get("next") or ""


def _landing(request, user: User, next_url: str) -> str:
    safe = next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if user.is_partner_user:
        if safe and next_url.startswith(tuple(settings.PARTNER_PATH_PREFIXES)):
            return next_url
        return resolve_url(settings.PARTNER_HOME_URL)
    return next_url if safe else resolve_url(settings.LOGIN_REDIRECT_URL)


def _pending_user(request) -> User | None:
    pending = request.session.get(PENDING)
    if not pending:
        return None
    if timezone.now().timestamp() - pending["at"] > PENDING_SECONDS:
        del request.session[PENDING]
        return None
    return User.objects.filter(pk=pending["user_id"], is_active=True).first()


def _abandon(request, message: str):
    request.session.pop(PENDING, None)
    messages.error(request, message)
    return redirect("accounts:login")


def _sign_in(request, user: User, *, backend: str, next_url: str) -> str:
    request.session.pop(PENDING, None)
    login(request, user, backend=backend)  # rotates the session id
    sessions.start(request)
    return _landing(request, user, next_url)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request):
    next_url = _next_from(request)
    form = PasswordForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.user
        request.session.cycle_key()  # a session id planted before sign-in is worthless after it
        if not twofactor.requires_two_factor(user):
            return redirect(_sign_in(request, user, backend=user.backend, next_url=next_url))
        request.session[PENDING] = {
            "user_id": user.pk,
            "backend": user.backend,
            "at": timezone.now().timestamp(),
            "next": next_url,
        }
        return redirect("accounts:two_factor" if twofactor.has_device(user) else "accounts:enrol")
    return render(request, "registration/login.html", {"form": form, "next": next_url})


def _claim_code_attempt(request, user: User):
    """Count a second-factor attempt against the lockout (accounts.lockout); None when locked out."""
    return lockout.claim(user.username, kind=LoginFailure.Kind.SECOND_FACTOR, ip=getattr(request, "client_ip", None))


def _code_step(view):
    """A sign-in step that takes a second-factor code: kept out of error reports, CSRF-checked, never cached."""
    return sensitive_post_parameters("code")(csrf_protect(never_cache(view)))


def _second_factor_step(request, *, form_class, check, template):
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    if not twofactor.has_device(user):
        return redirect("accounts:enrol")
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        claimed = _claim_code_attempt(request, user)
        if claimed is None:
            return _abandon(request, LOCKED)
        if check(user, form.cleaned_data["code"]):
            lockout.succeeded(claimed)
            pending = request.session[PENDING]
            return redirect(_sign_in(request, user, backend=pending["backend"], next_url=pending["next"]))
        form.add_error("code", "That code was not accepted. Codes change every 30 seconds and work once.")
    return render(request, template, {"form": form})


@_code_step
def two_factor_view(request):
    return _second_factor_step(
        request, form_class=CodeForm, check=twofactor.verify, template="accounts/two_factor.html"
    )


@_code_step
def recovery_view(request):
    return _second_factor_step(
        request, form_class=RecoveryCodeForm, check=twofactor.use_recovery_code, template="accounts/recovery.html"
    )


@_code_step
def enrol_view(request):
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    if twofactor.has_device(user):
        # A password alone never replaces an enrolled authenticator: a staff admin resets it (a
        # partner user's: the network admin, docs/decisions/014).
        return redirect("accounts:two_factor")
    pending = request.session[PENDING]
    if "secret" not in pending:
        pending["secret"] = twofactor.new_secret()
        request.session.modified = True
    secret = pending["secret"]
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        claimed = _claim_code_attempt(request, user)
        if claimed is None:
            return _abandon(request, LOCKED)
        codes = twofactor.enrol(user, secret=secret, code=form.cleaned_data["code"])
        if codes is not None:
            lockout.succeeded(claimed)
            next_url = _sign_in(request, user, backend=pending["backend"], next_url=pending["next"])
            request.session[NEW_RECOVERY_CODES] = {"codes": codes, "next": next_url}
            return redirect("accounts:recovery_codes")
        form.add_error("code", "That code does not match. Check the app shows this account, and try the next code.")
    context = {
        "form": form,
        "qr_svg": mark_safe(twofactor.qr_svg(twofactor.provisioning_uri(user, secret))),  # noqa: S308 (segno's own SVG)
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
    }
    return render(request, "accounts/enrol.html", context)


@login_required
@csrf_protect
@never_cache
def recovery_codes_view(request):
    """New recovery codes, shown once: straight after enrolment, or on request with a current code."""
    shown = request.session.pop(NEW_RECOVERY_CODES, None)
    form = CodeForm(request.POST or None)
    if shown is None and request.method == "POST" and form.is_valid():
        claimed = lockout.claim(
            request.user.username, kind=LoginFailure.Kind.SECOND_FACTOR, ip=getattr(request, "client_ip", None)
        )
        if claimed is None:
            form.add_error("code", LOCKED)
        elif twofactor.verify(request.user, form.cleaned_data["code"]):
            lockout.succeeded(claimed)
            shown = {"codes": twofactor.new_recovery_codes(request.user), "next": reverse("accounts:home")}
        else:
            form.add_error("code", "That code was not accepted.")
    context = {
        "shown": shown,
        "form": form,
        "has_device": twofactor.has_device(request.user),
        "remaining": twofactor.remaining_recovery_codes(request.user),
    }
    return render(request, "accounts/recovery_codes.html", context)


@require_POST
@csrf_protect
def logout_view(request):
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("accounts:login")


@login_required
@never_cache
def home(request):
    """Where sign-in lands until the staff pages and the partner page exist."""
    return render(request, "accounts/home.html", {"remaining": twofactor.remaining_recovery_codes(request.user)})


def admin_login(request):
    """The admin's login URL: the same sign-in as everywhere (password and second factor)."""
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), login_url=reverse("accounts:login"))
