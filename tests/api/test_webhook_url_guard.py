"""A webhook URL the send-time guard would block is refused when it is set (issue 14, item 7): on the
model, in the admin and through the partner API, with the reason, by the one rule of
crt.netguard."""

import pytest
from django.core.exceptions import ValidationError

from crt import netguard
from providers.models import Organization
from tests import factories as f
from tests.admin.test_admin import admin_url, post_form

pytestmark = pytest.mark.django_db

BLOCKED = {
    "https://127.0.0.1/hooks": "loopback",
    "https://169.254.169.254/latest/meta-data/": "link-local",
    "https://[::ffff:127.0.0.1]/hooks": "loopback",
    "https://10.0.0.7/hooks": "private",
    "https://[fe80::1]/hooks": "link-local",
    "https://localhost/hooks": "loopback",
    "https://2130706433/hooks": "loopback",  # 127.0.0.1 as one number
    "https://[64:ff9b::a9fe:a9fe]/hooks": "link-local",  # 169.254.169.254 through NAT64
}


@pytest.mark.parametrize(("url", "why"), BLOCKED.items())
def test_the_rule_refuses_non_public_addresses_with_the_reason(url, why):
    with pytest.raises(ValidationError) as refused:
        netguard.validate_webhook_url(url)
    assert why in refused.value.messages[0]
    with pytest.raises(netguard.BlockedURL):  # the send-time guard says the same
        netguard.check_url(url)


def test_a_public_address_and_a_name_not_yet_in_dns_are_accepted():
    netguard.validate_webhook_url("https://93.184.215.14/hooks")
    netguard.validate_webhook_url("https://hooks.partner.example.org/crt")  # checked again at every send


def test_the_model_refuses_a_loopback_webhook(partner_org):
    partner_org.channel = Organization.Channel.WEBHOOK
    partner_org.webhook_url = "https://127.0.0.1/hooks"
    partner_org.webhook_secret = "whsec_x"
    with pytest.raises(ValidationError) as refused:
        partner_org.full_clean()
    assert "webhook_url" in refused.value.message_dict


@pytest.mark.parametrize("url", ["https://127.0.0.1/hooks", "https://[::ffff:127.0.0.1]/hooks"])
def test_the_admin_refuses_a_non_public_webhook_with_a_field_error(network_client, url):
    organization = f.OrganizationFactory(channel=Organization.Channel.PULL)
    response = post_form(
        network_client, admin_url(Organization, "change", organization.pk), channel="webhook", webhook_url=url
    )
    assert response.status_code == 200
    assert "cannot receive webhooks" in str(response.context["adminform"].form.errors["webhook_url"])
    organization.refresh_from_db()
    assert (organization.channel, organization.webhook_url) == ("pull", "")


@pytest.mark.parametrize("url", ["https://169.254.169.254/", "https://[::ffff:127.0.0.1]/hooks"])
def test_the_partner_api_refuses_a_non_public_webhook(api_client, partner_credential, url):
    client = api_client(partner_credential)
    tag = client.get("/api/v1/partner/webhook/")["ETag"]

    response = client.put("/api/v1/partner/webhook/", {"webhook_url": url}, format="json", HTTP_IF_MATCH=tag)

    assert 400 <= response.status_code < 500
    assert "cannot receive webhooks" in response.content.decode()
    organization = Organization.objects.get(pk=partner_credential.organization_id)
    assert (organization.webhook_url, organization.webhook_secret) == ("", "")
