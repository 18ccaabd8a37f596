"""Supervisors and staff admins reach the program metrics from the staff pages; others see no link."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("who", "shown"), [("supervisor", True), ("navigator", False), ("paramedic", False)])
def test_the_metrics_link_is_offered_to_those_who_may_open_it(client, request, who, shown):
    client.force_login(request.getfixturevalue(who))
    page = client.get("/cases/people/")
    assert page.status_code == 200
    assert ('href="/metrics/"' in page.content.decode()) is shown
