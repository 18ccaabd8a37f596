"""The layout around every page: the navigation of whoever is looking, links only where they lead."""

import pytest

from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_the_account_page_shows_the_staff_navigation(client, supervisor):
    html = signed_in(client, supervisor).get("/accounts/").content.decode()

    assert 'href="/cases/team/"' in html and 'href="/metrics/"' in html


def test_the_account_page_shows_the_partner_navigation_to_a_partner(client, partner_user):
    html = signed_in(client, partner_user).get("/accounts/").content.decode()

    assert 'href="/partner/"' in html and 'href="/cases/people/"' not in html
    assert 'href="/api/docs/"' in html


@pytest.mark.parametrize(("role", "shown"), [("staff_admin", False), ("navigator", False), ("paramedic", True)])
def test_new_encounter_is_offered_only_to_who_records_encounters(client, request, person, role, shown):
    client = signed_in(client, request.getfixturevalue(role))

    people = client.get("/cases/people/?q=Reyes").content.decode()
    record = client.get(f"/cases/people/{person.pk}/").content.decode()

    assert ("New encounter" in people) is shown
    assert ("New encounter" in record) is shown
