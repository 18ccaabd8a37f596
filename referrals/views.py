"""Staff referral pages: search the directory (providers.directory), check consent, send; a referral's
status and history.

Reads go through `visible_to`, every read of a person's record is audited, and every change goes
through referrals.services.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.access import Action, audited, record_access
from cases import intake
from cases.models import Case
from crt.pages import form_errors, page, staff_form_page, staff_page
from providers.directory import search_directory
from providers.forms import DirectorySearchForm
from providers.models import Service
from referrals import moves, services
from referrals.consent import find_consent
from referrals.forms import NewReferralForm, ReasonForm, ReferralConsentForm
from referrals.models import Delivery, Referral, ReferralEvent


def _age(born, today) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@staff_form_page
def new_referral(request, case_pk: int):
    user = request.user
    case = get_object_or_404(
        Case.objects.visible_to(user).select_related("individual", "encounter", "program"), pk=case_pk
    )
    if not user.has_perm("referrals.add_referral"):
        raise Http404
    person = case.individual
    now = timezone.now()
    search_data = request.GET.copy()
    if "need" not in search_data and "age" not in search_data:
        search_data["age"] = _age(person.date_of_birth, timezone.localdate())
    search = DirectorySearchForm(search_data)
    filters = search.cleaned_data if search.is_valid() else {}
    encounter = case.encounter
    origin = None
    if encounter is not None and encounter.latitude is not None and encounter.longitude is not None:
        origin = (float(encounter.latitude), float(encounter.longitude))
    results = search_directory(filters, origin=origin, now=now, stale_after=case.program.stale_capacity_after)

    chosen = None
    consent = None
    form = None
    service_pk = request.POST.get("service") or request.GET.get("service")
    if service_pk and str(service_pk).isdigit():
        chosen = (
            Service.objects.filter(status=Service.Status.ACTIVE, organization__is_active=True, pk=service_pk)
            .select_related("organization")
            .first()
        )
    if chosen is not None:
        form = NewReferralForm(request.POST or None)
        includes_part2 = bool(form.is_bound and request.POST.get("includes_part2"))
        consent = find_consent(
            person, chosen.organization, need_domain=chosen.need_domain, includes_part2=includes_part2, at=now
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    referral = services.create_referral(
                        individual=person,
                        service=chosen,
                        by=user,
                        case=case,
                        reason=data["reason"],
                        urgency=data["urgency"],
                        shares_contact_details=data["shares_contact_details"],
                        includes_part2=data["includes_part2"],
                    )
                    services.send_referral(referral, by=user)
            except ValidationError as error:
                form_errors(form, error)
            else:
                record_access(request, action=Action.CREATE, objects=[referral])
                messages.success(request, f"Referral sent to {chosen.organization.name}.")
                return redirect("referrals:detail", pk=referral.pk)
    elif request.method == "POST":
        raise Http404
    record_access(request, action=Action.VIEW, objects=[case])
    context = {
        "case": case,
        "person": person,
        "search": search,
        "results": results,
        "chosen": chosen,
        "consent": consent,
        "form": form,
        "consent_form": ReferralConsentForm(),
        "can_record_consent": user.has_perm("cases.add_consent"),
        "origin": origin,
        "querystring": request.GET.urlencode(),
    }
    status = 400 if form is not None and form.is_bound else 200
    return page(request, "referrals/new.html", context, status=status)


def _visible_referral(request, pk: int) -> Referral:
    return get_object_or_404(
        Referral.objects.visible_to(request.user).select_related(
            "individual", "organization", "service", "consent", "created_by"
        ),
        pk=pk,
    )


@staff_page
@audited
def detail(request, pk: int):
    referral = _visible_referral(request, pk)
    events = list(
        ReferralEvent.objects.visible_to(request.user)
        .filter(referral=referral)
        .select_related("actor_user", "actor_credential")
    )
    deliveries = list(Delivery.objects.visible_to(request.user).filter(referral=referral).order_by("created_at"))
    record_access(request, action=Action.VIEW, objects=[referral, *events, *deliveries])
    context = {
        "referral": referral,
        "events": events,
        "deliveries": deliveries,
        # cancel / entered in error, each with its reason field (ids apart: both can be on the page)
        "moves": [
            (move, ReasonForm(auto_id=f"{move.verb}-%s"))
            for move in moves.offered(moves.SENDER_MOVES, referral.status)
            if request.user.has_perm("referrals.add_referral")
        ],
    }
    return page(request, "referrals/detail.html", context)


@staff_page
@audited
@require_POST
def move(request, pk: int, verb: str):
    """Cancel the referral, or mark it entered in error: a sender's move with a reason (referrals.moves)."""
    chosen = moves.SENDER.get(verb)
    if chosen is None or not chosen.label:
        raise Http404
    referral = _visible_referral(request, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            chosen.make(referral, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            record_access(request, action=Action.UPDATE, objects=[referral])
            messages.success(request, f"Referral {referral.get_status_display().lower()}.")
    else:
        messages.error(request, "Please give a reason.")
    return redirect("referrals:detail", pk=referral.pk)


@staff_page
@audited
@require_POST
def record_consent(request, case_pk: int, service_pk: int):
    """Record the person's consent to the chosen partner, then go back to sending the referral."""
    case = get_object_or_404(Case.objects.visible_to(request.user).select_related("individual"), pk=case_pk)
    service = get_object_or_404(Service.objects.select_related("organization"), pk=service_pk)
    form = ReferralConsentForm(request.POST)
    back = f"{reverse('referrals:new', args=[case.pk])}?service={service.pk}#send-heading"
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect(back)
    try:
        consent = intake.record_consent(
            case.individual,
            by=request.user,
            method=form.cleaned_data["method"],
            given_at=timezone.now(),
            recipient_organization=service.organization,
            covers_part2=form.cleaned_data["covers_part2"],
            witness_name=form.cleaned_data["witness_name"],
            expires_at=form.expires_at(),
        )
    except ValidationError as error:
        if getattr(error, "code", None) == "not_found":
            raise Http404 from None
        messages.error(request, " ".join(error.messages))
    else:
        record_access(request, action=Action.CREATE, objects=[consent])
        messages.success(request, f"Consent to share with {service.organization.name} recorded.")
    return redirect(back)
