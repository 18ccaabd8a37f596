"""Staff pages: my caseload, people, a person, log a contact, dismiss a follow-up, the team, reassign.

Views read through `visible_to(request.user)` (someone else's record is a 404), record every read of a
person's record with audit.access.record_access before rendering, and change state only through
cases.services. Query counts do not grow with the rows shown (select_related and subqueries). The
person page, once the person is found through visible_to, reads the rest with hand-written SQL
(cases.panels, cases.timeline) under visible_to's rule for that person (kinds_visible_of_person):
docs/decisions/006.
"""

from datetime import datetime
from functools import cache
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case as CaseWhen
from django.db.models import IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe

from accounts import breakglass
from accounts.models import User
from accounts.roles import (
    Kind,
    Scope,
    caseload_holders,
    may_merge_people,
    may_supervise_team,
    navigators,
    peers,
    scope_for,
)
from audit.access import Action, audited, record_access
from cases import caseload as caseload_lists
from cases import hooks, services
from cases.display import follow_up_name, joined
from cases.forms import (
    CaseloadFilterForm,
    DismissFollowUpForm,
    LogContactForm,
    PeopleSearchForm,
    ReassignForm,
)
from cases.models import (
    Case,
    FollowUp,
    Individual,
    PersonMerge,
    RiskLevel,
    kinds_visible_of_person,
)
from cases.panels import panels_for
from cases.people import resolve_person, search_people
from cases.timeline import timeline_page_for
from crt.pages import form_errors, page, refused, staff_form_page, staff_page

PAGE_SIZE = 50


NAME_IN_URL = (
    "Search with the search box: a name or date of birth in a page address would stay in browser history "
    "and server logs, so an address carrying one is refused."
)


def refuse_name_in_url(request, template: str, context: dict):
    """A 400 for a GET carrying `q` (a name or a date of birth), as the API refuses one (cases.api):
    the search boxes post, so the app never makes such an address; nothing is searched or shown."""
    messages.error(request, NAME_IN_URL)
    return page(request, template, context, status=400)


# --- my caseload --------------------------------------------------------------------------------


@staff_page
@audited
def caseload(request):
    """My caseload: what is due today, the referrals waiting on partners, and the people on my
    caseload a page at a time, read with hand-written SQL (cases.caseload, docs/decisions/021)."""
    user = request.user
    now = timezone.now()
    # Posted, so a name typed in the filter never ends up in a URL (DESIGN.md §8); the pager's links
    # carry the other filters, never the name.
    if request.method == "GET" and "q" in request.GET:
        empty = {
            "filter_fields": filter_fields(CaseloadFilterForm()),
            "page_obj": None,
            "rows": [],
            "due": [],
            "waiting": [],
        }
        return refuse_name_in_url(request, "cases/caseload.html", {**empty, "querystring": ""})
    form = CaseloadFilterForm(request.POST or request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    links = caseload_lists.Links(
        back=f"next={quote(request.get_full_path(), safe='/')}",  # as the urlencode filter writes it
        user=user,
    )
    people = caseload_lists.Caseload(
        user, links, now=now, q=filters.get("q", ""), risk=filters.get("risk", ""), due=filters.get("due", "")
    )
    page_obj = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = page_obj.object_list
    due = caseload_lists.due_today(user, links, now=now)
    waiting = hooks.referrals().waiting_on_partner(user, now=now)
    record_access(request, action=Action.LIST, objects=[row.obj for row in (*rows, *due, *waiting)])
    context = {
        "filter_fields": filter_fields(form),
        "page_obj": page_obj,
        "rows": joined(rows),
        "due": joined(due),
        "due_count": len(due),
        "waiting": joined(waiting),
        "waiting_count": len(waiting),
        "querystring": _querystring_without_page(request),
    }
    return page(request, "cases/caseload.html", context)


def filter_fields(form: CaseloadFilterForm) -> SafeString:
    """The filter's fields as HTML. Blank, they are the same on every page, and Django renders each
    select's options through a template (0.45 ms a page): rendered once."""
    if form.is_bound:
        return render_to_string("cases/_caseload_filter_fields.html", {"form": form})
    return _blank_filter_fields()


@cache
def _blank_filter_fields() -> SafeString:
    return render_to_string("cases/_caseload_filter_fields.html", {"form": CaseloadFilterForm()})


def _querystring_without_page(request) -> str:
    """The filters for the pager's links, without the page and without the name searched for."""
    params = (request.POST or request.GET).copy()
    for name in ("page", "q", "csrfmiddlewaretoken"):
        params.pop(name, None)
    return params.urlencode()


# --- people -------------------------------------------------------------------------------------


@staff_page
@audited
def people(request):
    """Find a person: by name words and/or a date of birth, typos, nicknames, swapped names and mistyped
    dates included (cases.people.search_people); people the user may not see are counted, never named.
    The search box posts, so names and dates of birth stay out of URLs (DESIGN.md §8); a GET with ?q=
    is refused, as the API refuses it."""
    if "q" in request.GET:
        empty = {"form": PeopleSearchForm(), "found": [], "beyond": [], "hidden": 0}
        return refuse_name_in_url(request, "cases/people.html", empty)
    form = PeopleSearchForm(request.POST or None)
    found, beyond, hidden = [], [], 0
    if form.is_valid() and form.cleaned_data["q"]:
        words, born = [], None
        for word in form.cleaned_data["q"].split():  # name words and/or a date of birth
            try:
                born = datetime.strptime(word, "%Y-%m-%d").date()  # noqa: DTZ007 (a date, no time)
            except ValueError:
                words.append(word)
        found, hidden_ids = search_people(request.user, q=" ".join(words), date_of_birth=born, limit=PAGE_SIZE)
        hidden = len(hidden_ids)
        if breakglass.may_break_glass(request.user):
            # People of the user's program the search matches but their scope hides: each can be
            # opened with break-glass (cases.breakglass_views), reason given and supervisors told.
            # Only their record numbers are shown (no name, no date of birth), so nothing of them is read.
            beyond = hidden_ids[:PAGE_SIZE]
    record_access(request, action=Action.LIST, objects=found)
    context = {"form": form, "found": found, "beyond": beyond, "hidden": hidden}
    return page(request, "cases/people.html", context)


@staff_page
@audited
def person(request, pk: int):
    user = request.user
    try:
        individual, merged_away = resolve_person(user, pk)
    except ValidationError:
        raise Http404 from None
    if merged_away is not None:  # an old link or bookmark: the record it was merged into
        merge = PersonMerge.objects.visible_to(user).filter(merged=merged_away, undone_at__isnull=True).first()
        record_access(request, action=Action.VIEW, objects=[merged_away])
        notice = f"Record #{pk} was merged into this one"
        if merge is not None:
            notice += format_html(
                ' on {}: <a href="{}">see the merge</a>.',
                timezone.localtime(merge.merged_at).strftime("%d %b %Y"),
                reverse("cases:merge", args=[merge.pk]),
            )
        messages.info(request, mark_safe(notice))  # noqa: S308 (format_html escaped every value)
        return redirect("cases:person", pk=individual.pk)
    try:
        timeline_page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        timeline_page = 1
    visible = kinds_visible_of_person(user, individual.pk, set(Kind))
    now = timezone.now()
    panels = panels_for(user, individual, visible, now)
    timeline, has_older = timeline_page_for(user, individual, timeline_page, visible)
    record_access(request, action=Action.VIEW, objects=[individual, *panels.seen(), *(event.obj for event in timeline)])
    context = {
        "person": individual,
        "channels": [
            Individual.Channel(c).label for c in individual.safe_contact_channels if c in Individual.Channel.values
        ],
        "cases": panels.cases,
        "support": panels.support,
        "consents": panels.consents,
        "timeline": timeline,
        "timeline_html": joined(timeline),
        "timeline_page": timeline_page,
        "newer_page": timeline_page - 1 if timeline_page > 1 else None,
        "older_page": timeline_page + 1 if has_older else None,
        "can_refer": scope_for(user, Kind.REFERRAL) is not Scope.NONE and user.has_perm("referrals.add_referral"),
        "can_edit": user.has_perm("cases.change_individual"),
        "can_merge": may_merge_people(user),
        "can_support": user.has_perm("cases.add_supportcontact"),
        "can_consent": user.has_perm("cases.add_consent"),
        "can_contact": user.has_perm("cases.add_contact"),
        "can_plan": user.has_perm("cases.add_safetyplan"),
    }
    return page(request, "cases/person.html", context)


# --- log a contact ------------------------------------------------------------------------------


def _visible_case(request, pk: int) -> Case:
    return get_object_or_404(Case.objects.visible_to(request.user).select_related("individual"), pk=pk)


@staff_form_page
def log_contact(request, pk: int):
    case = _visible_case(request, pk)
    follow_ups = case.follow_ups.outstanding().order_by("due_at", "pk")
    form = LogContactForm(request.POST or None, follow_ups=follow_ups)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.log_contact(case, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            if getattr(error, "code", None) == "not_found":
                raise Http404 from None
            form_errors(form, error)
        else:
            record_access(request, action=Action.CREATE, objects=[contact])
            done = f" It completed the {follow_up_name(contact.follow_up.label)}." if contact.follow_up_id else ""
            messages.success(request, f"Contact saved.{done}")
            return redirect(_safe_next(request) or reverse("cases:caseload"))
    record_access(request, action=Action.VIEW, objects=[case])
    status = 400 if form.is_bound else 200
    context = {"case": case, "form": form, "next": _safe_next(request)}
    return page(request, "cases/log_contact.html", context, status=status)


@staff_form_page
def dismiss_follow_up(request, pk: int):
    """Take a missed follow-up off the lists with a reason (services.dismiss_follow_up says who may)."""
    follow_up = get_object_or_404(
        FollowUp.objects.visible_to(request.user).missed().select_related("case__individual", "owner"), pk=pk
    )
    form = DismissFollowUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.dismiss_follow_up(follow_up, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            refused(form, error)
        else:
            record_access(request, action=Action.UPDATE, objects=[follow_up])
            messages.success(request, f"The {follow_up.label} follow-up was dismissed.")
            return redirect(_safe_next(request) or reverse("cases:person", args=[follow_up.case.individual_id]))
    record_access(request, action=Action.VIEW, objects=[follow_up])
    status = 400 if form.is_bound else 200
    context = {"follow_up": follow_up, "form": form, "next": _safe_next(request)}
    return page(request, "cases/dismiss_follow_up.html", context, status=status)


def _safe_next(request) -> str:
    """Where to go back to after saving: a path on this site, never another host."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return next_url
    return ""


# --- the team (supervisors) ---------------------------------------------------------------------


def missed_first(queryset, *, missed: Q, risk_field: str):
    """Annotate `missed_rank`: 0 a high-risk person with a missed follow-up, 1 another missed one,
    2 the rest; the team view puts the lowest first (the caseload says the same in SQL, cases.caseload)."""
    return queryset.annotate(
        missed_rank=CaseWhen(
            When(missed & Q(**{risk_field: RiskLevel.HIGH}), then=Value(0)),
            When(missed, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    )


def outstanding_follow_ups(user, cases, *, due_before):
    """Follow-ups of `cases` owed before `due_before`, missed ones included: high-risk missed first,
    then other missed ones, then by due time."""
    follow_ups = FollowUp.objects.visible_to(user).outstanding().filter(case__in=cases, due_at__lt=due_before)
    ranked = missed_first(follow_ups, missed=Q(is_missed=True), risk_field="case__risk_level")
    return ranked.order_by("missed_rank", "due_at", "pk")


def _supervisor(request) -> None:
    if not may_supervise_team(request.user):
        raise Http404


@staff_page
@audited
def team(request):
    _supervisor(request)
    user = request.user
    now = timezone.now()
    staff = list(
        caseload_holders(User.objects.filter(program_id=user.program_id, is_active=True)).order_by(
            "last_name", "first_name", "username"
        )
    )
    open_cases = Case.objects.visible_to(user).open()
    counts: dict[int, dict] = {member.pk: {"cases": 0, "overdue": 0} for member in staff}
    for navigator_id, peer_id in open_cases.values_list("navigator_id", "peer_id"):
        for member_id in {navigator_id, peer_id} - {None}:
            if member_id in counts:
                counts[member_id]["cases"] += 1
    overdue = list(
        outstanding_follow_ups(user, open_cases, due_before=now).select_related(
            "case__individual", "case__navigator", "case__peer", "owner"
        )[:PAGE_SIZE]
    )
    for follow_up in overdue:
        if follow_up.owner_id in counts:
            counts[follow_up.owner_id]["overdue"] += 1
    unassigned = list(open_cases.filter(navigator__isnull=True).select_related("individual")[:PAGE_SIZE])
    record_access(request, action=Action.LIST, objects=[*overdue, *unassigned])
    context = {
        "members": [(member, counts[member.pk]) for member in staff],
        "overdue": overdue,
        "unassigned": unassigned,
        "now": now,
    }
    return page(request, "cases/team.html", context)


@staff_form_page
def reassign(request, pk: int):
    _supervisor(request)
    case = _visible_case(request, pk)
    members = User.objects.filter(program_id=request.user.program_id, is_active=True).order_by("last_name", "username")
    form = ReassignForm(
        request.POST or None,
        navigators=navigators(members),
        peers=peers(members),
        initial={"navigator": case.navigator_id, "peer": case.peer_id},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.reassign_case(
                case, by=request.user, navigator=form.cleaned_data["navigator"], peer=form.cleaned_data["peer"]
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            record_access(request, action=Action.UPDATE, objects=[case])
            messages.success(request, "Case reassigned.")
            return redirect("cases:team")
    record_access(request, action=Action.VIEW, objects=[case])
    status = 400 if form.is_bound else 200
    return page(request, "cases/reassign.html", {"case": case, "form": form}, status=status)
