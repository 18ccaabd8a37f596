"""Break-glass: time-boxed emergency access to one person's record outside the user's scope.

    start_break_glass ──► grant in force (visible_to lets the user see the person's whole record;
                          every access is tagged with the grant in the audit log)
                     ──► ends by itself at expires_at (checked whenever a query is built),
                          or earlier by end_break_glass

Starting one needs a reason, writes an audit row (action "break_glass"), raises a "break-glass used"
inbox item for the program's supervisors and emails them after commit. The email carries no
personal data: who, the record's id, until when and where to review; the reason (which may describe
the person) stays in the database.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone

from accounts.models import BreakGlassGrant, User
from accounts.roles import is_program_staff, supervisors
from audit.access import record_access
from audit.models import Action

logger = logging.getLogger(__name__)

MIN_REASON_LENGTH = 10


def start_break_glass(user: User, individual, *, reason: str, minutes: int = 60, request=None) -> BreakGlassGrant:
    """Grant `user` access to `individual`'s record for `minutes`. `request`, when there is one,
    puts the address and request id on the audit row."""
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError({"reason": "Say why emergency access is needed (at least a short sentence)."})
    if not 1 <= minutes <= settings.BREAK_GLASS_MAX_MINUTES:
        raise ValidationError({"minutes": f"Between 1 and {settings.BREAK_GLASS_MAX_MINUTES} minutes."})
    if not is_program_staff(user):
        raise PermissionDenied("Only staff of a program can use break-glass access.")
    if individual.program_id != user.program_id:
        raise PermissionDenied("Break-glass access is for people of your own program.")
    with transaction.atomic():
        now = timezone.now()
        grant = BreakGlassGrant.objects.create(
            user=user,
            program_id=user.program_id,
            individual=individual,
            reason=reason,
            started_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        # Greatest: a longer grant already in force keeps its later end.
        until = Greatest(Coalesce(F("break_glass_until"), Value(grant.expires_at)), Value(grant.expires_at))
        User.objects.filter(pk=user.pk).update(break_glass_until=until)
        user.break_glass_until = max(user.break_glass_until or grant.expires_at, grant.expires_at)
        record_access(request or user, action=Action.BREAK_GLASS, objects=[individual], detail=f"{minutes} minutes")
        from inbox.services import break_glass_started  # here: the inbox's models load after accounts'

        break_glass_started(grant, now=now)  # a "break-glass used" item for the supervisors
        transaction.on_commit(lambda: _alert_supervisors(grant))
    return grant


def active_grants(user, now=None) -> list[BreakGlassGrant]:
    """The user's grants in force (for the banner on every page). No query unless the user's
    break_glass_until is still ahead, which start_break_glass keeps on the user row."""
    now = now or timezone.now()
    until = getattr(user, "break_glass_until", None)
    if until is None or until <= now:
        return []
    return list(BreakGlassGrant.objects.visible_to(user).active(now).filter(user=user).order_by("expires_at"))


def may_break_glass(user) -> bool:
    return is_program_staff(user) and not user.is_partner_user


def end_break_glass(grant: BreakGlassGrant, *, by: User) -> bool:
    """End a grant now. False when it had already ended or expired."""
    now = timezone.now()
    ended = BreakGlassGrant.objects.visible_to(by).active(now).filter(pk=grant.pk).update(ended_at=now, ended_by=by)
    return ended == 1


def supervisors_of(program_id: int):
    return supervisors(User.objects.filter(program_id=program_id, is_active=True)).exclude(email="")


def _alert_supervisors(grant: BreakGlassGrant) -> None:
    recipients = sorted(set(supervisors_of(grant.program_id).values_list("email", flat=True)))
    if not recipients:
        logger.warning(
            "break-glass grant %s started with no supervisor to alert in program %s", grant.pk, grant.program_id
        )
        return
    review = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("audit:access_history", args=[grant.individual_id])
    body = (
        f"{grant.user.username} started break-glass (emergency) access to the record of individual "
        f"#{grant.individual_id} at {grant.started_at:%Y-%m-%d %H:%M} UTC, "
        f"until {grant.expires_at:%Y-%m-%d %H:%M} UTC.\n\n"
        f"Their reason and every access they make are in the audit log:\n{review}\n"
    )
    try:
        send_mail("CRT: break-glass access started", body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        # The grant and its audit row stand; the grant list in the admin shows it too.
        logger.exception("could not email the break-glass alert for grant %s", grant.pk)
