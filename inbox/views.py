"""Inbox pages: my items, one item (open, acknowledge, resolve, snooze, reassign), the supervisor's
team view, and the email settings posted from the account page.

Items are read through Item.objects.visible_to (another program's item, or someone else's for a
non-supervisor, is a 404). A person's name is shown only when the reader may see that person
(Individual.objects.visible_to), and every name shown is recorded with audit.access.record_access.
"""

from collections import defaultdict
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import may_oversee_inbox
from audit.access import Action, audited, record_access
from cases.models import Individual
from crt.pages import page, staff_form_page, staff_page
from inbox import services
from inbox.forms import NotificationPreferenceForm, ReassignItemForm, ResolveItemForm, SnoozeItemForm
from inbox.models import ACTIVE_STATES, Item, Kind, NotificationPreference, State
from referrals.models import Referral

PAGE_SIZE = 50
SHOW = {
    "open": ("Needs action", ACTIVE_STATES),
    "snoozed": ("Snoozed", (State.SNOOZED,)),
    "resolved": ("Resolved", (State.RESOLVED,)),
}
# What climbed a ladder to a supervisor: a referral's chase level 3, a follow-up's level 2 (referrals.chase).
ESCALATED = Q(kind=Kind.REFERRAL_UNANSWERED, level__gte=3) | Q(kind=Kind.FOLLOW_UP_OVERDUE, level__gte=2)
AGE_BUCKETS = (("under 1 day", timedelta(days=1)), ("1-3 days", timedelta(days=3)), ("3-7 days", timedelta(days=7)))


def _people_shown(user, items) -> dict[int, Individual]:
    """The people of these items the user may see, in one query; the others get no name."""
    ids = {item.individual_id for item in items if item.individual_id}
    if not ids:
        return {}
    return (
        Individual.objects.visible_to(user)
        .only("pk", "preferred_name", "legal_first_name", "legal_last_name")
        .in_bulk(ids)
    )


def _referrals_shown(user, items) -> set[int]:
    ids = {item.referral_id for item in items if item.referral_id}
    if not ids:
        return set()
    return set(Referral.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


def _decorate(user, items) -> list:
    people = _people_shown(user, items)
    referrals = _referrals_shown(user, items)
    for item in items:
        item.person = people.get(item.individual_id)
        item.referral_shown = item.referral_id in referrals
    return list(people.values())


@staff_page
@audited
def inbox_list(request):
    user = request.user
    show = request.GET.get("show", "open")
    if show not in SHOW:
        show = "open"
    title, states = SHOW[show]
    items = Item.objects.addressed_to(user).filter(state__in=states)
    if show == "resolved":
        items = items.order_by("-resolved_at", "-pk")
    page_obj = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page_obj.object_list)
    shown = _decorate(user, rows)
    record_access(request, action=Action.LIST, objects=shown)
    context = {"rows": rows, "page_obj": page_obj, "show": show, "title": title, "tabs": SHOW, "now": timezone.now()}
    return page(request, "inbox/list.html", context)


def _visible_item(user, pk) -> Item:
    item = Item.objects.visible_to(user).select_related("recipient", "referral", "resolved_by").filter(pk=pk).first()
    if item is None:
        raise Http404
    return item


@staff_form_page
def item_detail(request, pk: int):
    user = request.user
    item = _visible_item(user, pk)
    resolve_form = ResolveItemForm(prefix="resolve")
    snooze_form = SnoozeItemForm(prefix="snooze")
    may_reassign = may_oversee_inbox(user)
    reassign_form = ReassignItemForm(prefix="reassign", colleagues=services.colleagues(user)) if may_reassign else None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "acknowledge":
                services.acknowledge_item(item, by=user)
                messages.success(request, "Acknowledged.")
                return redirect("inbox:item", pk=item.pk)
            if action == "resolve":
                resolve_form = ResolveItemForm(request.POST, prefix="resolve")
                if resolve_form.is_valid():
                    services.resolve_item(item, by=user, note=resolve_form.cleaned_data["note"])
                    messages.success(request, "Resolved.")
                    return redirect("inbox:list")
            elif action == "snooze":
                snooze_form = SnoozeItemForm(request.POST, prefix="snooze")
                if snooze_form.is_valid():
                    services.snooze_item(item, by=user, until=snooze_form.cleaned_data["until"])
                    messages.success(request, "Snoozed.")
                    return redirect("inbox:list")
            elif action == "reassign" and may_reassign:
                reassign_form = ReassignItemForm(request.POST, prefix="reassign", colleagues=services.colleagues(user))
                if reassign_form.is_valid():
                    services.reassign_item(item, by=user, to=reassign_form.cleaned_data["to"])
                    messages.success(request, "Reassigned.")
                    return redirect("inbox:item", pk=item.pk)
            else:
                messages.error(request, "Choose what to do with the item.")
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        status = 400
        item = _visible_item(user, pk)
    else:
        status = 200
        item = services.open_item(item, by=user)
        item = _visible_item(user, pk)
    shown = _decorate(user, [item])
    record_access(request, action=Action.VIEW, objects=shown)
    events = list(item.events.select_related("by", "to_user"))
    context = {
        "item": item,
        "events": events,
        "resolve_form": resolve_form,
        "snooze_form": snooze_form,
        "reassign_form": reassign_form,
        "referral": item.referral if item.referral_shown else None,
    }
    return page(request, "inbox/item.html", context, status=status)


@staff_page
@audited
def team(request):
    """The supervisor's view: the program's unresolved items by kind and age; escalations they own."""
    user = request.user
    if not may_oversee_inbox(user):
        raise Http404
    now = timezone.now()
    team_items = Item.objects.visible_to(user).unresolved()
    table = defaultdict(lambda: [0] * (len(AGE_BUCKETS) + 1))
    aggregates = {f"b{i}": Count("pk", filter=_age_filter(i, now)) for i in range(len(AGE_BUCKETS) + 1)}
    for row in team_items.order_by().values("kind").annotate(**aggregates):
        table[row["kind"]] = [row[f"b{i}"] for i in range(len(AGE_BUCKETS) + 1)]
    by_kind = [(Kind(kind).label, counts, sum(counts)) for kind, counts in sorted(table.items())]
    escalated = list(team_items.filter(ESCALATED, recipient=user).order_by("created_at", "pk")[:PAGE_SIZE])
    oldest = list(team_items.select_related("recipient").order_by("created_at", "pk")[:PAGE_SIZE])
    shown = _decorate(user, [*escalated, *oldest])
    record_access(request, action=Action.LIST, objects=shown)
    context = {
        "by_kind": by_kind,
        "buckets": [label for label, _ in AGE_BUCKETS] + ["over 7 days"],
        "escalated": escalated,
        "oldest": oldest,
        "now": now,
    }
    return page(request, "inbox/team.html", context)


def _age_filter(index: int, now):
    edges = [now] + [now - age for _, age in AGE_BUCKETS]
    if index == len(AGE_BUCKETS):
        return Q(created_at__lte=edges[-1])
    return Q(created_at__gt=edges[index + 1], created_at__lte=edges[index]) if index else Q(created_at__gt=edges[1])


@staff_page
@require_POST
def preferences(request):
    instance = NotificationPreference.objects.filter(user=request.user).first() or NotificationPreference(
        user=request.user
    )
    form = NotificationPreferenceForm(request.POST, instance=instance)
    if form.is_valid():
        form.save()
        messages.success(request, "Email settings saved.")
    else:
        messages.error(request, "The email settings were not saved.")
    return redirect("accounts:home")
