"""The partner page: for agencies with no system of their own. A partner user sees only referrals
addressed to their organisation (Referral.objects.visible_to) and answers them through
referrals.services; staff get a 404 here, as partner users do on staff pages."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import Role, roles_of
from audit.access import Action, audited, record_access
from providers import services as directory
from providers.forms import CapacityForm, PartnerActionForm
from providers.models import ServiceCapacity
from referrals import moves
from referrals.consent import PART2_REDISCLOSURE_NOTICE, with_disclosure_allowed
from referrals.models import OPEN, Referral

PAGE_SIZE = 50
# What the partner pages show of a person, in words, for the accounting of disclosures (never the values).
HOME_DISCLOSURE = "name, phone (when shared), service, status"
REFERRAL_DISCLOSURE = "name, phone and language (when shared), service, urgency, reason"


def _disclose(request, referrals, detail: str) -> None:
    """A partner user's read is a disclosure to their organisation, as for the partner API (crt.api.audit)."""
    record_access(
        request,
        action=Action.DISCLOSE,
        objects=referrals,
        recipient=request.user.partner_organization,
        purpose="referral",
        detail=detail,
    )


def partner_page(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_partner_user or Role.PARTNER not in roles_of(user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _referrals(request):
    scoped = Referral.objects.visible_to(request.user).select_related("individual", "service")
    return with_disclosure_allowed(scoped, at=timezone.now())  # no person once consent is withdrawn


def _moves_for(referral) -> list[moves.Move]:
    return moves.offered(moves.PARTNER_MOVES, referral.status)


@partner_page
@audited
def partner_home(request):
    open_first = Case(When(status__in=sorted(OPEN), then=Value(0)), default=Value(1), output_field=IntegerField())
    referrals = list(_referrals(request).order_by(open_first, "-updated_at", "-pk")[:PAGE_SIZE])
    capacities = list(
        ServiceCapacity.objects.filter(service__organization_id=request.user.partner_organization_id)
        .select_related("service")
        .order_by("service__name", "unit")
    )
    _disclose(request, referrals, HOME_DISCLOSURE)
    context = {
        "organization": request.user.partner_organization,
        "rows": [(referral, _moves_for(referral)) for referral in referrals],
        "capacities": capacities,
    }
    return render(request, "providers/partner_home.html", context)


@partner_page
@audited
def partner_referral(request, pk: int):
    referral = get_object_or_404(_referrals(request), pk=pk)
    _disclose(request, [referral], REFERRAL_DISCLOSURE)
    context = {
        "referral": referral,
        "moves": _moves_for(referral),
        "form": PartnerActionForm(),
        "part2_notice": PART2_REDISCLOSURE_NOTICE,
    }
    return render(request, "providers/partner_referral.html", context)


@partner_page
@require_POST
def partner_move(request, pk: int, move: str):
    chosen = moves.PARTNER.get(move)
    if chosen is None or not chosen.label:
        raise Http404
    referral = get_object_or_404(_referrals(request), pk=pk)
    form = PartnerActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please check the form.")
        return redirect("providers:partner_referral", pk=pk)
    if "reason" in chosen.inputs and not form.cleaned_data["reason"].strip():
        messages.error(request, "Please give a reason.")
        return redirect("providers:partner_referral", pk=pk)
    try:
        chosen.make(referral, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("providers:partner_referral", pk=pk)
    record_access(request, action=Action.UPDATE, objects=[referral])
    messages.success(request, f"Referral #{referral.pk}: {referral.get_status_display().lower()}.")
    return redirect("providers:partner_home")


@partner_page
@require_POST
def partner_capacity(request, pk: int):
    """One tap: a new available count for one unit of one of the partner's own services."""
    capacity = get_object_or_404(
        ServiceCapacity.objects.filter(service__organization_id=request.user.partner_organization_id).select_related(
            "service"
        ),
        pk=pk,
    )
    form = CapacityForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the number available, from 0 to the maximum.")
        return redirect("providers:partner_home")
    try:
        directory.update_capacity(
            capacity.service,
            by=request.user,
            unit=capacity.unit,
            available=form.cleaned_data["available"],
            maximum=capacity.maximum,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"{capacity.service.name}: {form.cleaned_data['available']} {capacity.unit} available."
        )
    return redirect("providers:partner_home")
