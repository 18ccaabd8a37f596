"""The second factor: TOTP authenticators (RFC 6238, any authenticator app) and recovery codes.

Every sign-in needs it (`requires_two_factor`), staff and partner users alike: partner users see
names, phones and reasons too. Whoever has no authenticator yet enrols one during their first
sign-in. A code is accepted once (the device remembers the last time step used)
and within one step either side of now (clock drift). Recovery codes are random, single use, and
stored only as SHA-256 digests: with 80 random bits each, a digest cannot be reversed by guessing.
"""

import base64
import hashlib
import hmac
import secrets

import pyotp
import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import RecoveryCode, TwoFactorDevice, User

_CODE_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # 5 bits a character
_CODE_LENGTH = 16  # 80 bits, shown as four groups of four


def requires_two_factor(user: User) -> bool:
    """Everyone: staff, and partner users (who read people's names, phones and referral reasons)."""
    return True


def has_device(user: User) -> bool:
    return TwoFactorDevice.objects.filter(user=user).exists()


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=settings.TOTP_ISSUER)


def qr_svg(uri: str) -> str:
    """The provisioning URI as an inline SVG element (no script, no style attribute, no data: URL)."""
    return segno.make(uri, error="m").svg_inline(scale=4, title="Scan with your authenticator app")


def _normalised_code(code: str) -> str:
    return "".join(code.split())


def _matching_step(secret: str, code: str) -> int | None:
    code = _normalised_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(timezone.now())
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


@transaction.atomic
def enrol(user: User, *, secret: str, code: str) -> list[str] | None:
    """Save the authenticator once `code` proves the user set it up; returns new recovery codes
    (to show once), or None when the code does not match."""
    step = _matching_step(secret, code)
    if step is None:
        return None
    TwoFactorDevice.objects.update_or_create(
        user=user, defaults={"secret": secret, "last_used_step": step, "enrolled_at": timezone.now()}
    )
    return new_recovery_codes(user)


def verify(user: User, code: str) -> bool:
    """True for a current code from the user's authenticator that has not been used before."""
    device = TwoFactorDevice.objects.filter(user=user).first()
    if device is None:
        return False
    step = _matching_step(device.secret, code)
    if step is None:
        return False
    # Conditional UPDATE: of two requests racing with the same code, exactly one wins.
    return TwoFactorDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(last_used_step=step) == 1


def _hash_recovery_code(code: str) -> str:
    normalised = "".join(code.split()).replace("-", "").lower()
    return hashlib.sha256(normalised.encode()).hexdigest()


@transaction.atomic
def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with fresh ones, returned in plain text this once."""
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _ in range(settings.RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _CODE_LENGTH, 4)))
    RecoveryCode.objects.bulk_create([RecoveryCode(user=user, code_hash=_hash_recovery_code(c)) for c in codes])
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """True, once, for an unused recovery code of this user."""
    return (
        RecoveryCode.objects.filter(user=user, code_hash=_hash_recovery_code(code), used_at__isnull=True).update(
            used_at=timezone.now()
        )
        == 1
    )


def remaining_recovery_codes(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


@transaction.atomic
def reset(user: User) -> None:
    """Forget the user's authenticator and recovery codes: they enrol again at their next login."""
    TwoFactorDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()


def demo_secret(username: str) -> str:
    """A secret derived from SECRET_KEY and the username: the same on every seed_demo run."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"crt-demo-totp:{username}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()


def enrol_for_demo(user: User) -> str:
    """Give a demo user a known authenticator secret (for seed_demo and browser tests) and return it.

    Codes for it: `manage.py totp_code USERNAME` (DEBUG only) or pyotp.TOTP(secret).now().
    """
    secret = demo_secret(user.username)
    device = TwoFactorDevice.objects.filter(user=user).first()
    if device is None or device.secret != secret:
        TwoFactorDevice.objects.update_or_create(
            user=user, defaults={"secret": secret, "last_used_step": 0, "enrolled_at": timezone.now()}
        )
    return secret
