"""Partners keep their own services, capacity and webhook endpoint current through the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from providers.models import Organization, ServiceCapacity
from tests import factories as f

pytestmark = pytest.mark.django_db
URL = "/api/v1/partner/services/"


@pytest.fixture
def service(partner_org):
    service = f.ServiceFactory(organization=partner_org, name="Shelter beds")
    f.ServiceCapacityFactory(service=service, unit="beds", available=3, maximum=20)
    return service


def test_partner_lists_only_its_own_services(api_client, partner_credential, service, other_partner_org):
    f.ServiceFactory(organization=other_partner_org)

    rows = api_client(partner_credential).get(URL).json()["results"]

    assert [row["id"] for row in rows] == [service.pk]
    assert rows[0]["capacity"][0]["available"] == 3


def test_partner_updates_available_and_maximum_in_one_call(api_client, partner_credential, service):
    client = api_client(partner_credential)
    tag = client.get(f"{URL}{service.pk}/")["ETag"]

    response = client.post(
        f"{URL}{service.pk}/capacity/",
        {"unit": "beds", "available": 5, "maximum": 25},
        format="json",
        HTTP_IF_MATCH=tag,
    )

    assert response.status_code == 200
    capacity = ServiceCapacity.objects.get(service=service, unit="beds")
    assert (capacity.available, capacity.maximum) == (5, 25)
    assert response["ETag"] != tag


def test_capacity_update_needs_if_match_and_a_current_one(api_client, partner_credential, service):
    client = api_client(partner_credential)
    body = {"unit": "beds", "available": 5, "maximum": 25}

    missing = client.post(f"{URL}{service.pk}/capacity/", body, format="json")
    stale = client.post(f"{URL}{service.pk}/capacity/", body, format="json", HTTP_IF_MATCH='"nope"')

    assert (missing.status_code, stale.status_code) == (428, 412)
    assert ServiceCapacity.objects.get(service=service).available == 3


def test_available_above_maximum_is_refused(api_client, partner_credential, service):
    client = api_client(partner_credential)
    tag = client.get(f"{URL}{service.pk}/")["ETag"]

    response = client.post(
        f"{URL}{service.pk}/capacity/",
        {"unit": "beds", "available": 30, "maximum": 20},
        format="json",
        HTTP_IF_MATCH=tag,
    )

    assert response.status_code == 422
    assert ServiceCapacity.objects.get(service=service).available == 3


def test_other_partners_service_is_a_404(api_client, other_partner_credential, service):
    client = api_client(other_partner_credential)

    assert client.get(f"{URL}{service.pk}/").status_code == 404
    response = client.post(
        f"{URL}{service.pk}/capacity/", {"unit": "beds", "available": 0, "maximum": 1}, format="json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 404


def test_partner_sets_its_webhook_and_gets_a_secret_once(api_client, partner_credential):
    client = api_client(partner_credential)
    tag = client.get("/api/v1/partner/webhook/")["ETag"]

    response = client.put(
        "/api/v1/partner/webhook/",
        {"webhook_url": "https://partner.example.org/hooks"},
        format="json",
        HTTP_IF_MATCH=tag,
    )

    assert response.status_code == 200
    secret = response.json()["new_secret"]
    assert secret.startswith("whsec_")
    organization = Organization.objects.get(pk=partner_credential.organization_id)
    assert (organization.channel, organization.webhook_secret) == ("webhook", secret)
    assert client.get("/api/v1/partner/webhook/").json()["has_secret"] is True
    assert "whsec_" not in client.get("/api/v1/partner/webhook/").content.decode()


def test_plain_http_webhook_is_refused(api_client, partner_credential):
    client = api_client(partner_credential)
    tag = client.get("/api/v1/partner/webhook/")["ETag"]

    response = client.put(
        "/api/v1/partner/webhook/",
        {"webhook_url": "http://partner.example.org/hooks"},
        format="json",
        HTTP_IF_MATCH=tag,
    )

    assert response.status_code == 422


def test_rotating_the_secret_keeps_the_old_one_signing_for_a_day(api_client, partner_credential):
    Organization.objects.filter(pk=partner_credential.organization_id).update(
        channel="webhook", webhook_url="https://partner.example.org/hooks", webhook_secret="whsec_old"
    )
    client = api_client(partner_credential)
    tag = client.get("/api/v1/partner/webhook/")["ETag"]

    response = client.post("/api/v1/partner/webhook/rotate-secret/", HTTP_IF_MATCH=tag)

    assert response.status_code == 200
    organization = Organization.objects.get(pk=partner_credential.organization_id)
    assert organization.webhook_secret == response.json()["secret"] != "whsec_old"
    assert organization.webhook_previous_secret == "whsec_old"
    assert organization.webhook_previous_secret_expires_at > timezone.now() + timedelta(hours=23)


def test_directory_search_by_need_language_age_capacity_and_distance(api_client, navigator, partner_org):
    near = f.ServiceFactory(organization=partner_org, need_domain="housing", languages=["en", "es"], min_age=18)
    f.ServiceAtLocationFactory(service=near, location__latitude="35.470000", location__longitude="-97.520000")
    f.ServiceCapacityFactory(service=near, available=2)
    far = f.ServiceFactory(organization=partner_org, need_domain="housing", languages=["en"])
    f.ServiceAtLocationFactory(service=far, location__latitude="36.150000", location__longitude="-95.990000")
    f.ServiceFactory(organization=partner_org, need_domain="food")
    client = api_client(navigator)

    def ids(**params):
        response = client.get("/api/v1/directory/services/", params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids(need_domain="housing") == {near.pk, far.pk}
    assert ids(language="es") == {near.pk}
    assert ids(age=16, need_domain="housing") == {far.pk}
    assert ids(capacity_available="true") == {near.pk}
    assert ids(near="35.4676,-97.5164", within_km=5) == {near.pk}
    assert client.get("/api/v1/directory/services/", {"near": "north"}).status_code == 400


def test_directory_hides_confidential_addresses(api_client, navigator, partner_org):
    service = f.ServiceFactory(organization=partner_org)
    f.ServiceAtLocationFactory(service=service, location__is_confidential=True, location__address_1="9 Hidden Rd")

    body = api_client(navigator).get(f"/api/v1/directory/services/{service.pk}/").json()

    assert body["locations"][0]["address_1"] is None
    assert "Hidden" not in str(body)
