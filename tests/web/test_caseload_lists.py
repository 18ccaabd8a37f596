"""The caseload's three lists read with hand-written SQL (cases.caseload, referrals.caseload): each must
hold exactly the rows, in the order, that the querysets it replaced return, for every role and filter;
and visible_where, the SQL form of visible_to they stand on, must let through what visible_to does."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.urls import reverse

from accounts.breakglass import start_break_glass
from accounts.models import User
from accounts.roles import Kind, Role
from cases import caseload
from cases.models import Case, Contact, FollowUp, Individual, visible_where
from cases.views import missed_first
from referrals.caseload import waiting_on_partner
from referrals.models import OPEN, Referral
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)  # 3 p.m. in Chicago: "+2 h" is still today


# --- the oracle: the querysets the page used before (stop 12) ---------------------------------------


def my_cases(user):
    return Case.objects.visible_to(user).open().filter(Q(navigator=user) | Q(peer=user))


def caseload_oracle(user, *, q="", risk="", due=""):
    open_follow_ups = FollowUp.objects.filter(case=OuterRef("pk"), done_at__isnull=True, is_missed=False)
    missed = FollowUp.objects.missed().filter(case=OuterRef("pk"))
    cases = my_cases(user).annotate(
        next_follow_up_at=Subquery(open_follow_ups.order_by("due_at").values("due_at")[:1]),
        has_missed=Exists(missed),
    )
    cases = missed_first(cases, missed=Q(has_missed=True), risk_field="risk_level")
    for word in q.split():
        cases = cases.filter(
            Q(individual__legal_first_name__icontains=word)
            | Q(individual__legal_last_name__icontains=word)
            | Q(individual__preferred_name__icontains=word)
        )
    if risk:
        cases = cases.filter(risk_level=risk)
    if due:
        before = NOW if due == "overdue" else caseload.end_of_today(NOW)
        cases = cases.filter(Q(next_follow_up_at__lt=before) | Q(has_missed=True))
    ordered = cases.order_by("missed_rank", F("next_follow_up_at").asc(nulls_last=True), "pk")
    return list(ordered.values_list("pk", flat=True))


def due_oracle(user):
    follow_ups = FollowUp.objects.visible_to(user).outstanding()
    follow_ups = follow_ups.filter(case__in=my_cases(user), due_at__lt=caseload.end_of_today(NOW))
    ranked = missed_first(follow_ups, missed=Q(is_missed=True), risk_field="case__risk_level")
    return list(ranked.order_by("missed_rank", "due_at", "pk").values_list("pk", flat=True)[: caseload.PAGE])


def waiting_oracle(user):
    referrals = Referral.objects.visible_to(user).filter(
        case__in=my_cases(user), status__in=OPEN, next_action_owner=Referral.NextActionOwner.PARTNER
    )
    return list(referrals.order_by("requested_at", "pk").values_list("pk", flat=True)[: caseload.PAGE])


def shown_cases(user, **filters):
    people = caseload.Caseload(user, caseload.Links(back="next=/", user=user), now=NOW, **filters)
    rows = people[0 : people.count()]
    return [row.obj.pk for row in rows]


# --- a caseload with a bit of everything ---------------------------------------------------------


def a_case(program, user, *, as_peer=False, risk="moderate", name=("Ana", "Reyes"), status=Case.Status.OPEN):
    person = f.IndividualFactory(program=program, legal_first_name=name[0], legal_last_name=name[1])
    fields = {"peer": user} if as_peer else {"navigator": user}
    if status == Case.Status.CLOSED:
        fields.update(closed_reason=Case.ClosedReason.GOALS_MET, closed_at=NOW)
    return f.CaseFactory(program=program, individual=person, risk_level=risk, status=status, **fields)


def follow_up(case, hours: float, *, missed=False, done=False, dismissed=False, **label):
    return f.FollowUpFactory(
        case=case,
        **label,
        due_at=NOW + timedelta(hours=hours),
        is_missed=missed,
        done_at=NOW if done else None,
        **(
            {"dismissed_at": NOW, "dismissed_by": case.navigator or case.peer, "dismissed_reason": "Moved away."}
            if dismissed
            else {}
        ),
    )


def waiting_referral(case, hours_ago: float, *, status="requested", owner="partner"):
    return f.ReferralFactory(
        program=case.program,
        individual=case.individual,
        case=case,
        status=status,
        requested_at=NOW - timedelta(hours=hours_ago),
        next_action_owner=owner,
        status_reason="Waiting list." if status == "on-hold" else "",
    )


def fill(program, other_program, user, someone_else):
    cases = [
        a_case(program, user, risk="high", name=("Ana", "Reyes")),
        a_case(program, user, risk="low", name=("Bo", "Chen")),
        a_case(program, user, as_peer=True, name=("Cy", "100%_sure")),
        a_case(program, user, risk="high", name=("Di", "Okafor")),
        a_case(program, user, name=("Eve", "Adams")),
        a_case(program, user, name=("Fay", "Ng"), status=Case.Status.CLOSED),
        a_case(program, someone_else, risk="high", name=("Gus", "Reyes")),
    ]
    elsewhere = f.CaseFactory(program=other_program, navigator=f.UserFactory(program=other_program))
    high, low, as_peer, high_missed, plain, closed, theirs = cases
    follow_up(high, -30, missed=True, label="72h")
    follow_up(high, 2)
    follow_up(low, -1)
    follow_up(low, 3, done=True)
    follow_up(as_peer, 30)
    follow_up(as_peer, -50, missed=True, dismissed=True)
    follow_up(high_missed, -5, missed=True)
    follow_up(plain, 2)  # the same time as high's next one: the id decides
    follow_up(plain, 200)
    follow_up(closed, -1)
    follow_up(theirs, -1, missed=True)
    f.FollowUpFactory(case=elsewhere, due_at=NOW - timedelta(hours=1))
    f.ContactFactory(case=high, made_by=someone_else, occurred_at=NOW - timedelta(days=2))
    f.ContactFactory(case=high, made_by=someone_else, occurred_at=NOW - timedelta(hours=3))
    waiting_referral(high, 30)
    waiting_referral(low, 40, status="accepted")
    waiting_referral(as_peer, 10, status="on-hold")
    waiting_referral(plain, 5, owner="navigator")
    waiting_referral(plain, 6, status="completed", owner="")
    waiting_referral(theirs, 50)
    # a referral of my case filed for another person (a merge moves referrals, not cases)
    f.ReferralFactory(
        program=program, individual=theirs.individual, case=plain, status="requested", next_action_owner="partner"
    )
    return cases


ROLES = {
    "navigator": [Role.NAVIGATOR],
    "peer": [Role.PEER],
    "supervisor": [Role.SUPERVISOR],
    "paramedic": [Role.PARAMEDIC],
    "paramedic and peer": [Role.PARAMEDIC, Role.PEER],
}
FILTERS = [
    {},
    {"q": "reyes"},
    {"q": "ana REY"},
    {"q": "100%_"},
    {"q": "%"},
    {"risk": "high"},
    {"due": "overdue"},
    {"due": "today"},
    {"q": "a", "risk": "low", "due": "today"},
]


@pytest.mark.parametrize("role", ROLES)
def test_the_lists_hold_the_rows_the_querysets_held(role, program, other_program, navigator, time_machine):
    time_machine.move_to(NOW, tick=False)
    user = f.UserFactory(program=program, roles=ROLES[role])
    fill(program, other_program, user, navigator)
    user = User.objects.get(pk=user.pk)
    for filters in FILTERS:
        assert shown_cases(user, **filters) == caseload_oracle(user, **filters), filters
    assert [
        row.obj.pk for row in caseload.due_today(user, caseload.Links(back="next=/", user=user), now=NOW)
    ] == due_oracle(user)
    assert [row.obj.pk for row in waiting_on_partner(user, now=NOW)] == waiting_oracle(user)


def test_the_oracle_is_not_empty_for_a_navigator(program, other_program, navigator, time_machine):
    """The comparison above compares something: a navigator's lists have rows of every kind."""
    time_machine.move_to(NOW, tick=False)
    user = f.UserFactory(program=program, roles=[Role.NAVIGATOR])
    high, low, as_peer, high_missed, plain, *_ = fill(program, other_program, user, navigator)
    assert caseload_oracle(user) == [high.pk, high_missed.pk, low.pk, plain.pk, as_peer.pk]
    assert len(due_oracle(user)) == 5 and len(waiting_oracle(user)) == 4
    assert caseload_oracle(user, q="100%_") == [as_peer.pk]


def test_a_page_of_the_caseload_is_a_window_of_the_whole(program, other_program, navigator, time_machine):
    time_machine.move_to(NOW, tick=False)
    user = f.UserFactory(program=program, roles=[Role.NAVIGATOR])
    fill(program, other_program, user, navigator)
    people = caseload.Caseload(user, caseload.Links(back="next=/", user=user), now=NOW)
    whole = [row.obj.pk for row in people[0:5]]
    assert people.count() == 5
    assert [row.obj.pk for row in people[1:3]] == whole[1:3]


def test_the_rows_are_audited_as_the_records_they_are(program, other_program, navigator, time_machine):
    time_machine.move_to(NOW, tick=False)
    user = f.UserFactory(program=program, roles=[Role.NAVIGATOR])
    high, *_ = fill(program, other_program, user, navigator)
    (row,) = [
        row
        for row in caseload.Caseload(user, caseload.Links(back="next=/", user=user), now=NOW)[0:5]
        if row.obj.pk == high.pk
    ]
    assert (row.obj.model, row.obj.individual_id, row.obj.program_id) == (Case, high.individual_id, program.pk)
    due = caseload.due_today(user, caseload.Links(back="next=/", user=user), now=NOW)
    assert {row.obj.model for row in due} == {FollowUp}
    assert all(
        FollowUp.objects.system("test").get(pk=row.obj.pk).case.individual_id == row.obj.individual_id for row in due
    )
    waiting = waiting_on_partner(user, now=NOW)
    assert {row.obj.model for row in waiting} == {Referral}
    assert all(
        Referral.objects.system("test").get(pk=row.obj.pk).individual_id == row.obj.individual_id for row in waiting
    )


# --- visible_where is visible_to --------------------------------------------------------------------

WHERE = {
    # model: (kind, table and alias, person column, program column)
    Individual: (Kind.PERSON, "cases_individual t", "t.id", "t.program_id"),
    Case: (Kind.CARE, "cases_case t", "t.individual_id", "t.program_id"),
    Contact: (Kind.CARE, "cases_contact t JOIN cases_case c ON c.id = t.case_id", "c.individual_id", "c.program_id"),
    Referral: (Kind.REFERRAL, "referrals_referral t", "t.individual_id", "t.program_id"),
}
SETUPS = {
    # name: (roles, peer on one person's case, break-glass grant for another person)
    "navigator": ([Role.NAVIGATOR], False, False),
    "supervisor": ([Role.SUPERVISOR], False, False),
    "paramedic": ([Role.PARAMEDIC], False, False),
    "paramedic with a grant": ([Role.PARAMEDIC], False, True),
    "peer with a caseload": ([Role.PEER], True, False),
    "peer with a caseload and a grant": ([Role.PEER], True, True),
    "peer with nothing": ([Role.PEER], False, False),
    "partner user": ([Role.PARTNER], False, False),
}


def where_ids(user, model) -> set:
    kind, table, person, program = WHERE[model]
    condition, params = visible_where(user, kind, person=person, program=program)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t.id FROM {table} WHERE {condition}", params)  # noqa: S608 (test constants)
        return {pk for (pk,) in cursor.fetchall()}


@pytest.mark.parametrize("setup", SETUPS)
def test_visible_where_lets_through_what_visible_to_does(setup, program, other_program, navigator, time_machine):
    time_machine.move_to(NOW, tick=False)
    roles, on_caseload, granted = SETUPS[setup]
    user = f.UserFactory(program=program, roles=roles)
    mine, other, granted_person = (f.IndividualFactory(program=program) for _ in range(3))
    for person in (mine, other, granted_person):
        case = f.CaseFactory(program=program, individual=person, navigator=navigator)
        f.ContactFactory(case=case, made_by=navigator)
        f.ReferralFactory(program=program, individual=person, case=case)
        if person is mine and on_caseload:
            f.CaseFactory(
                program=program,
                individual=person,
                peer=user,
                status=Case.Status.CLOSED,
                closed_reason=Case.ClosedReason.GOALS_MET,
                closed_at=NOW,
            )
    elsewhere = f.CaseFactory(program=other_program, individual=f.IndividualFactory(program=other_program))
    f.ContactFactory(case=elsewhere)
    if granted:
        start_break_glass(User.objects.get(pk=user.pk), granted_person, reason="Crisis call; need the history now.")
    user = User.objects.get(pk=user.pk)
    for model in WHERE:
        expected = set(model.objects.visible_to(user).values_list("pk", flat=True))
        assert where_ids(user, model) == expected, model
    if granted:
        # an expired grant lets nothing more through, as visible_to says
        time_machine.move_to(NOW + timedelta(days=2), tick=False)
        user = User.objects.get(pk=user.pk)
        for model in WHERE:
            assert where_ids(user, model) == set(model.objects.visible_to(user).values_list("pk", flat=True))


# --- every value shown is escaped ---------------------------------------------------------------


def test_markup_in_any_value_shown_is_escaped(client, program, time_machine):
    """The rows are written as f-strings (cases.caseload): each value a user or a partner can type
    comes back as text, never as markup."""
    time_machine.move_to(NOW, tick=False)
    mark = '<b id="x{}">'
    user = f.UserFactory(program=program, roles=[Role.NAVIGATOR], first_name=mark.format(1), last_name=mark.format(2))
    person = f.IndividualFactory(
        program=program,
        legal_first_name=mark.format(3),
        preferred_name=mark.format(4),
        legal_last_name=mark.format(5),
    )
    case = f.CaseFactory(program=program, individual=person, navigator=user, risk_level="high")
    follow_up(case, -3, missed=True, label=mark.format(6))
    follow_up(case, 1, label=mark.format(7))
    service = f.ServiceFactory(name=mark.format(8), organization=f.OrganizationFactory(name=mark.format(9)))
    f.ReferralFactory(
        program=program,
        individual=person,
        case=case,
        service=service,
        requested_at=NOW - timedelta(days=1),
        next_action_owner="partner",
    )
    client.force_login(user)
    body = client.get(reverse("cases:caseload"), {"next": '"><b id="x0">'}).content.decode()
    assert '<b id="x' not in body
    shown = {n for n in range(10) if f"&lt;b id=&quot;x{n}&quot;&gt;" in body}
    assert shown == {1, 2, 4, 5, 6, 7, 8, 9}  # the preferred name stands for the legal first name
