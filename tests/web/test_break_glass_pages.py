"""Break-glass from the people search (issue 12 item 7): a peer finds someone outside their caseload,
gives a reason, opens the record for a limited time; a banner is on every page while it lasts, the
access ends by itself at the time limit, supervisors are emailed and review every use on their page."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.breakglass import start_break_glass
from accounts.models import BreakGlassGrant
from accounts.roles import Role
from audit.models import AccessLog, Action
from tests import factories as f

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)
REASON = "Family called at 2 a.m.: he is missing and his navigator is off shift."


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(T0, tick=False)
    return time_machine


@pytest.fixture
def stranger(program):
    """A person of the program on nobody's caseload."""
    return f.IndividualFactory(program=program, legal_first_name="Zelda", legal_last_name="Quartermaine")


@pytest.fixture
def supervisor_with_email(program):
    return f.UserFactory(program=program, roles=[Role.SUPERVISOR], email="sup@crt.example.org")


def selects(captured) -> int:
    """SELECTs only: the audit rows of a page go in one bulk insert (on SQLite an executemany, one
    captured entry per row)."""
    return sum(q["sql"].startswith("SELECT") for q in captured)


def search(client, q):
    return client.post("/cases/people/", {"q": q})


def start(client, person, reason=REASON, minutes=30):
    return client.post(f"/cases/people/{person.pk}/emergency-access/", {"reason": reason, "minutes": minutes})


def test_a_peer_finds_someone_outside_the_caseload_with_emergency_access_offered(client, peer, stranger):
    client.force_login(peer)
    page = search(client, "Quartermaine").content.decode()
    assert "Outside your caseload" in page
    assert f"/cases/people/{stranger.pk}/emergency-access/" in page
    assert f'href="/cases/people/{stranger.pk}/"' not in page  # not a link to the record itself
    assert "Zelda" not in page  # its number only: nothing of the record is shown before a grant
    assert not AccessLog.objects.filter(actor=peer, object_id=str(stranger.pk)).exists()


@pytest.mark.parametrize("who", ["navigator", "supervisor", "clinician"])
def test_roles_that_see_the_program_get_no_emergency_offer(client, request, who, stranger):
    client.force_login(request.getfixturevalue(who))
    page = search(client, "Quartermaine").content.decode()
    assert "Outside your caseload" not in page
    assert f'href="/cases/people/{stranger.pk}/"' in page
    response = client.get(f"/cases/people/{stranger.pk}/emergency-access/")
    assert response.status_code == 302 and response["Location"] == f"/cases/people/{stranger.pk}/"


def test_a_reason_is_required_and_nothing_starts_without_one(client, peer, stranger, supervisor_with_email):
    client.force_login(peer)
    assert client.get(f"/cases/people/{stranger.pk}/emergency-access/").status_code == 200
    response = start(client, stranger, reason="  ")
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    response = start(client, stranger, reason="urgent")  # too short to say why
    assert response.status_code == 200
    assert not BreakGlassGrant.objects.exists()
    assert mail.outbox == []
    assert client.get(f"/cases/people/{stranger.pk}/").status_code == 404


@pytest.mark.parametrize("who", ["partner_user", "navigator_elsewhere"])
def test_someone_outside_the_program_gets_a_404(client, request, who, stranger):
    client.force_login(request.getfixturevalue(who))
    response = client.get(f"/cases/people/{stranger.pk}/emergency-access/")
    assert response.status_code in (404, 302)  # a partner user is sent to the partner area
    assert start(client, stranger).status_code in (404, 302)
    assert not BreakGlassGrant.objects.exists()


def test_emergency_access_opens_the_record_shows_a_banner_everywhere_and_ends_at_the_limit(
    client, peer, stranger, supervisor_with_email, frozen, django_capture_on_commit_callbacks
):
    client.force_login(peer)
    with django_capture_on_commit_callbacks(execute=True):
        response = start(client, stranger, minutes=30)
    assert response.status_code == 302 and response["Location"] == f"/cases/people/{stranger.pk}/"
    grant = BreakGlassGrant.objects.get()
    assert (grant.user, grant.individual, grant.reason) == (peer, stranger, REASON)
    assert grant.expires_at == T0 + timedelta(minutes=30)
    # Supervisors are emailed (no name or reason in it), and the start is in the audit log.
    assert [m.to for m in mail.outbox] == [["sup@crt.example.org"]]
    assert "Quartermaine" not in mail.outbox[0].body and REASON not in mail.outbox[0].body
    assert AccessLog.objects.filter(action=Action.BREAK_GLASS, object_id=str(stranger.pk)).exists()

    assert client.get(f"/cases/people/{stranger.pk}/").status_code == 200
    for path in ("/cases/people/", "/cases/", "/accounts/"):
        page = client.get(path).content.decode()
        until = f"{timezone.localtime(grant.expires_at):%H:%M}"
        assert "Emergency access" in page and f"record #{stranger.pk}" in page and until in page, path

    frozen.move_to(T0 + timedelta(minutes=14))
    assert client.get(f"/cases/people/{stranger.pk}/").status_code == 200
    frozen.move_to(T0 + timedelta(minutes=28))
    assert client.get(f"/cases/people/{stranger.pk}/").status_code == 200
    frozen.move_to(T0 + timedelta(minutes=30, seconds=1))
    assert client.get(f"/cases/people/{stranger.pk}/").status_code == 404
    assert "break-glass-banner" not in client.get("/cases/people/").content.decode()


def test_the_holder_can_end_it_from_the_banner(client, peer, stranger):
    client.force_login(peer)
    start(client, stranger)
    grant = BreakGlassGrant.objects.get()
    response = client.post(f"/audit/break-glass/{grant.pk}/end/")
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.ended_by == peer
    assert client.get(f"/cases/people/{stranger.pk}/").status_code == 404
    assert "break-glass-banner" not in client.get("/cases/people/").content.decode()


def test_supervisors_review_every_use_from_their_navigation(client, program, peer, stranger, supervisor, other_program):
    others = f.IndividualFactory.create_batch(3, program=program)
    f.UserFactory(program=program, roles=[Role.PEER])
    client.force_login(peer)
    for person in [stranger, *others]:
        start(client, person)
    client.get(f"/cases/people/{stranger.pk}/")  # an access under the grant
    elsewhere = f.IndividualFactory(program=other_program, legal_last_name="Elsewhere-Grant")
    start_break_glass(f.UserFactory(program=other_program, roles=[Role.PEER]), elsewhere, reason=REASON)

    client.force_login(supervisor)
    assert "/audit/break-glass/" in client.get("/cases/team/").content.decode()
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/audit/break-glass/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("End now") == 4 and REASON in page and f'href="/cases/people/{stranger.pk}/"' in page
    assert f'href="/cases/people/{elsewhere.pk}/"' not in page
    assert AccessLog.objects.filter(actor=supervisor, action=Action.LIST, object_id=str(stranger.pk)).exists()
    assert "1 recorded access " in page

    # The number of statements does not grow with the grants shown.
    client.force_login(peer)
    f.IndividualFactory.create_batch(2, program=program)
    for person in f.IndividualFactory.create_batch(4, program=program):
        start(client, person)
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as again:
        assert client.get("/audit/break-glass/").status_code == 200
    assert selects(again) == selects(captured)

    grant = BreakGlassGrant.objects.filter(individual=stranger).get()
    assert client.post(f"/audit/break-glass/{grant.pk}/end/").status_code == 302
    grant.refresh_from_db()
    assert grant.ended_by == supervisor


@pytest.mark.parametrize("who", ["navigator", "peer", "clinician", "paramedic", "partner_user", "navigator_elsewhere"])
def test_only_supervisors_and_staff_admins_reach_the_review_page(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/audit/break-glass/").status_code in (403, 302)


def test_staff_admins_reach_the_review_page(client, staff_admin):
    client.force_login(staff_admin)
    assert client.get("/audit/break-glass/").status_code == 200


def test_a_supervisor_cannot_end_another_programs_grant(client, peer, stranger, other_program):
    client.force_login(peer)
    start(client, stranger)
    grant = BreakGlassGrant.objects.get()
    client.force_login(f.UserFactory(program=other_program, roles=[Role.SUPERVISOR]))
    assert client.post(f"/audit/break-glass/{grant.pk}/end/").status_code == 404
    grant.refresh_from_db()
    assert grant.ended_at is None
