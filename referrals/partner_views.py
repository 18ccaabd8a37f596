"""The partner page: for agencies with no system of their own. A partner user sees only referrals
addressed to their organisation (Referral.objects.visible_to), most pressing first, and answers them
with the moves of referrals.moves (made by referrals.services); staff get a 404 here, as partner users
do on staff pages. Decision 011 says why the page is laid out as it is."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import acts_for_partner
from audit.access import Action, audited, record_access, record_disclosure
from crt.pages import form_errors
from providers import services as directory
from providers.models import ServiceCapacity, stale_capacity_after
from referrals import moves
from referrals.chase import APPOINTMENT_STATUSES
from referrals.consent import PART2_REDISCLOSURE_NOTICE, with_disclosure_allowed
from referrals.models import OPEN, WORKING, Referral, Status
from referrals.partner_forms import CapacityForm, move_form, title_and_button

PAGE_SIZE = 50  # open referrals listed on the partner page
CLOSED_SHOWN = 10  # and the latest closed ones under them
# What the partner pages show of a person, in words, for the accounting of disclosures (never the values).
HOME_DISCLOSURE = "name, phone (when shared), service, status"
REFERRAL_DISCLOSURE = "name, phone and language (when shared), service, urgency, reason"
MOVE_DISCLOSURE = "name, service, status"


def _disclose(request, referrals, detail: str) -> None:
    """A partner user's read is a disclosure to their organisation, as for the partner API (crt.api.audit)."""
    record_disclosure(request, objects=referrals, to=request.user.partner_organization, detail=detail)


def partner_page(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not acts_for_partner(user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _referrals(request):
    scoped = Referral.objects.visible_to(request.user).select_related("individual", "service")
    return with_disclosure_allowed(scoped, at=timezone.now())  # no person once consent is withdrawn


def _moves_for(referral) -> list[moves.Move]:
    return moves.offered(moves.PARTNER_MOVES, referral.status)


def asks_first(move: moves.Move) -> bool:
    """Whether the move opens its own page (a note to write, a confirmation) rather than apply on one tap."""
    return move.is_terminal or bool(move.required_inputs)


# The partner page's groups, most pressing first: what needs an answer, then what needs an update.
NEW, REMINDER, OPEN_NOW, CLOSED = 0, 1, 2, 3
URGENCY_FIRST = {Referral.Urgency.ASAP: 0, Referral.Urgency.URGENT: 1, Referral.Urgency.ROUTINE: 2}
# Statuses as the partner page says them.
PARTNER_WORDS = {Status.REJECTED: "Declined", Status.FAILED: "Could not help", Status.ON_HOLD: "On hold"}


def _say(referral, now) -> None:
    """What the partner page says of a referral: its status in the partner's words, and why it is listed
    where it is (a new referral, a reminder, an appointment with no news)."""
    referral.status_words = PARTNER_WORDS.get(referral.status, referral.get_status_display())
    appointment_passed = (
        referral.status in APPOINTMENT_STATUSES
        and referral.appointment_at is not None
        and referral.appointment_at <= now
        and referral.business_status == Referral.BusinessStatus.APPOINTMENT_SCHEDULED
    )
    if appointment_passed:
        referral.why = "The appointment has passed: how did it go?"
    elif referral.chase_level and referral.status in OPEN:
        referral.why = "Reminder: the referring team is waiting for your answer."
    else:
        referral.why = ""


def _needs(now):
    """0 new (requested), 1 reminder (we chased it, or its appointment passed with no news), 2 open, 3 closed."""
    appointment_passed = Q(
        status__in=sorted(APPOINTMENT_STATUSES),
        appointment_at__lte=now,
        business_status=Referral.BusinessStatus.APPOINTMENT_SCHEDULED,
    )
    return Case(
        When(status=Status.REQUESTED, then=Value(NEW)),
        When(Q(status__in=sorted(WORKING)) & (Q(chase_level__gt=0) | appointment_passed), then=Value(REMINDER)),
        When(status__in=sorted(OPEN), then=Value(OPEN_NOW)),
        default=Value(CLOSED),
        output_field=IntegerField(),
    )


def _urgency_first():
    whens = [When(urgency=urgency, then=Value(rank)) for urgency, rank in URGENCY_FIRST.items()]
    return Case(*whens, default=Value(len(URGENCY_FIRST)), output_field=IntegerField())


def _capacities(request):
    return (
        ServiceCapacity.objects.filter(service__organization_id=request.user.partner_organization_id)
        .select_related("service")
        .order_by("service__name", "unit")
    )


@partner_page
@audited
def partner_home(request):
    """What needs doing first: new referrals, then reminders, then the rest of the open ones; the
    latest closed ones last. Capacity is one tap away at the top, with a nudge when it is stale."""
    now = timezone.now()
    listed = _referrals(request).annotate(needs=_needs(now), urgency_rank=_urgency_first())
    open_rows = list(
        listed.filter(needs__lt=CLOSED).order_by("needs", "urgency_rank", "requested_at", "pk")[: PAGE_SIZE + 1]
    )
    more_open = len(open_rows) > PAGE_SIZE
    open_rows = open_rows[:PAGE_SIZE]
    closed = list(listed.filter(needs=CLOSED).order_by("-updated_at", "-pk")[:CLOSED_SHOWN])
    stale_after = stale_capacity_after()
    stale = [c for c in _capacities(request) if now - c.updated_at > stale_after]
    _disclose(request, [*open_rows, *closed], HOME_DISCLOSURE)
    for referral in [*open_rows, *closed]:
        _say(referral, now)
    groups = [
        ("new", "New referrals", "Please accept or decline.", [r for r in open_rows if r.needs == NEW]),
        ("reminders", "Reminders", "These need an update from you.", [r for r in open_rows if r.needs == REMINDER]),
        ("open", "Working on", "", [r for r in open_rows if r.needs == OPEN_NOW]),
        ("closed", "Recently closed", "", closed),
    ]
    context = {
        "organization": request.user.partner_organization,
        "groups": groups,
        "more_open": more_open,
        "page_size": PAGE_SIZE,
        "stale": stale,
        "stale_days": stale_after.days,
    }
    return render(request, "referrals/partner_home.html", context)


@partner_page
@audited
def partner_referral(request, pk: int):
    referral = get_object_or_404(_referrals(request), pk=pk)
    _disclose(request, [referral], REFERRAL_DISCLOSURE)
    _say(referral, timezone.now())
    offered = _moves_for(referral)
    context = {
        "referral": referral,
        "one_tap": [move for move in offered if not asks_first(move)],
        "ask_first": [move for move in offered if asks_first(move)],
        "part2_notice": PART2_REDISCLOSURE_NOTICE,
    }
    return render(request, "referrals/partner_referral.html", context)


@partner_page
@audited
@require_http_methods(["GET", "POST"])
def partner_move(request, pk: int, move: str):
    """A move's own page: it asks for what the move takes and, for one that closes the referral, says
    so; the POST makes it. A one-tap move (accept, start) posts here straight from the referral page."""
    chosen = moves.PARTNER.get(move)
    if chosen is None or not chosen.label:
        raise Http404
    referral = get_object_or_404(_referrals(request), pk=pk)
    form = move_form(chosen, request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            chosen.make(referral, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_errors(form, error)
        else:
            record_access(request, action=Action.UPDATE, objects=[referral])
            words = PARTNER_WORDS.get(referral.status, referral.get_status_display()).lower()
            messages.success(request, f"Referral #{referral.pk}: {words if chosen.to_status else 'saved'}.")
            return redirect("providers:partner_home")
    if not form.is_bound and not chosen.can_start_from(referral.status):
        messages.error(request, f"Referral #{referral.pk} is {referral.get_status_display().lower()}: nothing to do.")
        return redirect("providers:partner_referral", pk=pk)
    _disclose(request, [referral], MOVE_DISCLOSURE)
    _say(referral, timezone.now())
    title, button = title_and_button(chosen)
    context = {"referral": referral, "move": chosen, "form": form, "title": title, "button": button}
    return render(request, "referrals/partner_move.html", context, status=400 if form.is_bound else 200)


@partner_page
def partner_capacities(request):
    """Every capacity of the partner's services, each updated in one tap; stale ones first."""
    now = timezone.now()
    stale_after = stale_capacity_after()
    rows = [(c, now - c.updated_at > stale_after) for c in _capacities(request)]
    rows.sort(key=lambda row: not row[1])  # stable: stale first, each part by service and unit
    context = {"rows": rows, "stale_days": stale_after.days, "form": CapacityForm()}
    return render(request, "referrals/partner_capacity.html", context)


@partner_page
@require_POST
def partner_capacity(request, pk: int):
    """One tap: a new available count for one unit of one of the partner's own services."""
    capacity = get_object_or_404(_capacities(request), pk=pk)
    form = CapacityForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the number available, from 0 to the maximum.")
        return redirect("providers:partner_capacities")
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
    return redirect("providers:partner_capacities")
