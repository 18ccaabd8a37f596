"""Partner access is a network admin's (docs/decisions/014): a program's staff admin cannot make or
revoke a partner's API keys, see, add, change or reset its users, reset their second factor, or change
how it receives referrals. A partner serves every program: whoever controls its keys or its users
reads every program's referrals to it (issue 14, item 1)."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import TwoFactorDevice, User
from accounts.roles import Role, is_network_admin
from providers.models import Organization, PartnerCredential
from tests import factories as f
from tests.admin.test_admin import admin_url, form_errors, post_form

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + "A" * 43 + "="


def test_only_an_active_superuser_is_a_network_admin(staff_admin, network_admin, partner_user):
    assert is_network_admin(network_admin)
    assert not is_network_admin(staff_admin)
    assert not is_network_admin(partner_user)
    network_admin.is_active = False
    assert not is_network_admin(network_admin)


def test_staff_admin_cannot_make_an_api_key_for_a_partner(staff_client, partner_org):
    assert staff_client.get(admin_url(PartnerCredential, "add")).status_code == 403
    response = staff_client.post(admin_url(PartnerCredential, "add"), {"organization": partner_org.pk, "name": "Mine"})
    assert response.status_code == 403
    assert not PartnerCredential.objects.exists()


def test_staff_admin_neither_lists_nor_opens_nor_revokes_partner_keys(staff_client, partner_org):
    credential = f.PartnerCredentialFactory(organization=partner_org)
    assert staff_client.get(admin_url(PartnerCredential, "changelist")).status_code == 403
    assert staff_client.get(admin_url(PartnerCredential, "change", credential.pk)).status_code == 403
    staff_client.post(
        admin_url(PartnerCredential, "changelist"), {"action": "revoke", "_selected_action": [credential.pk]}
    )
    credential.refresh_from_db()
    assert credential.revoked_at is None
    index = staff_client.get("/admin/")
    assert "partnercredential" not in index.text


def test_staff_admin_cannot_reset_a_partner_users_password(staff_client, partner_user):
    url = f"/admin/accounts/user/{partner_user.pk}/password/"
    assert staff_client.get(url).status_code == 404
    response = staff_client.post(url, {"password1": "a brand new passphrase", "password2": "a brand new passphrase"})
    assert response.status_code == 404
    partner_user.refresh_from_db()
    assert partner_user.check_password("correct horse battery staple")
    assert not partner_user.check_password("a brand new passphrase")


def test_staff_admin_cannot_open_or_change_a_partner_user(staff_client, partner_user):
    assert staff_client.get(admin_url(User, "change", partner_user.pk)).status_code == 404
    response = staff_client.post(admin_url(User, "change", partner_user.pk), {"username": "taken.over"})
    assert response.status_code == 404
    partner_user.refresh_from_db()
    assert partner_user.username == "hal.housing"


def test_staff_admin_cannot_add_a_user_to_a_partner(staff_client, program, partner_org):
    partners = Group.objects.get(name=Role.PARTNER.label)
    response = post_form(
        staff_client,
        admin_url(User, "add"),
        username="sneaky.partner",
        usable_password="true",
        password1="a long and unusual passphrase",
        password2="a long and unusual passphrase",
        partner_organization=partner_org.pk,
        groups=[partners.pk],
    )
    assert response.status_code == 302, form_errors(response)
    user = User.objects.get(username="sneaky.partner")
    assert user.partner_organization is None  # the field is not the staff admin's to set
    assert user.program == program


def test_staff_admin_cannot_reset_a_partner_users_second_factor(staff_client, partner_user):
    device = TwoFactorDevice.objects.create(user=partner_user, secret="JBSWY3DPEHPK3PXP", enrolled_at=timezone.now())
    listed = staff_client.get(admin_url(TwoFactorDevice, "changelist")).context["cl"].result_list
    assert device.pk not in {row.pk for row in listed}
    assert staff_client.get(admin_url(TwoFactorDevice, "delete", device.pk)).status_code == 404
    staff_client.post(admin_url(TwoFactorDevice, "delete", device.pk), {"post": "yes"})
    assert TwoFactorDevice.objects.filter(pk=device.pk).exists()


def test_staff_admin_edits_the_directory_entry_but_not_how_the_partner_receives_referrals(staff_client):
    organization = f.OrganizationFactory(
        channel=Organization.Channel.WEBHOOK, webhook_url="https://partner.example.org/hooks", webhook_secret=SECRET
    )
    response = post_form(
        staff_client,
        admin_url(Organization, "change", organization.pk),
        description="Beds for adults.",
        webhook_url="https://attacker.example.net/hooks",
        channel=Organization.Channel.EMAIL,
        notification_email="me@attacker.example.net",
        may_receive_part2="on",
    )
    assert response.status_code == 302, form_errors(response)
    organization.refresh_from_db()
    assert organization.description == "Beds for adults."
    assert organization.webhook_url == "https://partner.example.org/hooks"
    assert organization.channel == Organization.Channel.WEBHOOK
    assert organization.notification_email == ""
    assert organization.may_receive_part2 is False

    staff_client.post(
        admin_url(Organization, "changelist"),
        {"action": "rotate_webhook_secret", "_selected_action": [organization.pk]},
    )
    organization.refresh_from_db()
    assert organization.webhook_secret == SECRET


def test_network_admin_resets_a_partner_users_password(network_client, partner_user):
    url = f"/admin/accounts/user/{partner_user.pk}/password/"
    response = network_client.post(
        url, {"password1": "a brand new passphrase", "password2": "a brand new passphrase", "usable_password": "true"}
    )
    assert response.status_code == 302
    partner_user.refresh_from_db()
    assert partner_user.check_password("a brand new passphrase")
