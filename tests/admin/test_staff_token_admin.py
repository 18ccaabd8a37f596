"""Staff API tokens in the admin: made by a staff admin for their own program's staff, shown once,
revoked at once; the hash is never shown."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.credentials import hash_key
from accounts.models import StaffToken
from accounts.roles import Role
from accounts.tokens import issue_token
from tests import factories as f
from tests.admin.test_admin import admin_url, form_errors, post_form

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r"crts_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def api_get_people(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client.get("/api/v1/individuals/").status_code


@pytest.fixture
def cad(program):
    return f.UserFactory(username="cad.integration", program=program, roles=[Role.CLINICIAN])


def test_new_token_is_shown_once_and_only_its_hash_is_stored(staff_client, staff_admin, cad):
    response = post_form(staff_client, admin_url(StaffToken, "add"), user=cad.pk, name="CAD integration")
    assert response.status_code == 302, form_errors(response)

    assert "messages" not in response.cookies  # the message holding the secret stays server-side
    shown = " ".join(messages_of(staff_client.get(response.url)))
    keys = TOKEN.findall(shown)
    assert len(keys) == 1
    key = keys[0]
    token = StaffToken.objects.get()
    assert (token.user, token.created_by, token.expires_at) == (cad, staff_admin, None)
    assert token.key_hash == hash_key(key)
    stored = [str(getattr(token, field.attname)) for field in StaffToken._meta.concrete_fields]
    assert not any(key in value for value in stored)
    for url in (admin_url(StaffToken, "changelist"), admin_url(StaffToken, "change", token.pk)):
        page = staff_client.get(url)
        assert key not in page.text  # the message was shown once, on the page after the add
        assert token.key_hash not in page.text
    assert api_get_people(key) == 200


def test_revoke_action_ends_the_token_on_its_next_request(staff_client, cad):
    token, key = issue_token(cad, name="CAD integration", by=None)
    assert api_get_people(key) == 200

    staff_client.post(admin_url(StaffToken, "changelist"), {"action": "revoke", "_selected_action": [token.pk]})

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_get_people(key) == 401


def test_staff_admin_sees_their_own_programs_tokens_only(staff_client, cad, navigator_elsewhere):
    mine, _ = issue_token(cad, name="CAD integration", by=None)
    theirs, _ = issue_token(navigator_elsewhere, name="scripts", by=None)

    listed = {token.pk for token in staff_client.get(admin_url(StaffToken, "changelist")).context["cl"].result_list}

    assert listed == {mine.pk}
    assert staff_client.get(admin_url(StaffToken, "change", theirs.pk)).status_code == 404
    staff_client.post(admin_url(StaffToken, "changelist"), {"action": "revoke", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_a_token_is_only_for_active_staff_of_the_admins_program(
    staff_client, program, partner_user, navigator_elsewhere
):
    in_partner_role = f.UserFactory(program=program, roles=[Role.NAVIGATOR])
    in_partner_role.groups.add(Group.objects.get(name=Role.PARTNER.label))
    for user in (partner_user, navigator_elsewhere, in_partner_role):
        response = post_form(staff_client, admin_url(StaffToken, "add"), user=user.pk, name="sync")
        assert response.status_code == 200
        assert "user" in response.context["adminform"].form.errors
    assert not StaffToken.objects.exists()


@pytest.mark.parametrize("day", ["9999-12-31", "2200-01-01"])
def test_an_expiry_in_a_mistyped_year_is_a_field_error(staff_client, cad, day):
    response = post_form(
        staff_client,
        admin_url(StaffToken, "add"),
        user=cad.pk,
        name="CAD integration",
        expires_at_0=day,
        expires_at_1="23:59:00",
    )

    assert response.status_code == 200
    assert "expires_at" in response.context["adminform"].form.errors
    assert not StaffToken.objects.exists()


def test_an_expiry_in_the_past_is_refused(staff_client, cad):
    response = post_form(
        staff_client,
        admin_url(StaffToken, "add"),
        user=cad.pk,
        name="CAD integration",
        expires_at_0="2020-01-01",
        expires_at_1="10:00:00",
    )

    assert response.status_code == 200
    assert "expires_at" in response.context["adminform"].form.errors
    assert not StaffToken.objects.exists()


def test_tokens_are_revoked_never_deleted(staff_client, cad):
    token, _ = issue_token(cad, name="CAD integration", by=None)

    assert staff_client.get(admin_url(StaffToken, "delete", token.pk)).status_code == 403


def test_a_supervisor_with_admin_access_cannot_manage_tokens(client, program, cad):
    supervisor = f.UserFactory(program=program, roles=[Role.SUPERVISOR], is_staff=True)
    client.force_login(supervisor)

    # The admin is the staff admins' console only: a supervisor is sent to sign in as someone who may.
    for url in (admin_url(StaffToken, "changelist"), admin_url(StaffToken, "add")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
