"""The directory as Open Referral HSDS 3.1: bodies valid against the compiled HSDS JSON schemas."""

import json
from datetime import timedelta
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from django.utils import timezone

from providers.hsds import NEED_TERMS, TAXONOMY_ID, hsds_id
from providers.models import Service
from tests import factories as f

pytestmark = pytest.mark.django_db
# The HSDS 3.1 schemas live in the shared folder beside the checkout (../shared/standards).
_HSDS = Path("standards/hsds-3.1/schema/compiled")
_CANDIDATES = [Path(__file__).resolve().parents[3] / "shared" / _HSDS, Path("/work/shared") / _HSDS]
SCHEMAS = next((path for path in _CANDIDATES if path.is_dir()), _CANDIDATES[0])


@cache
def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.json").read_text())


def valid(body: dict, name: str) -> dict:
    jsonschema.Draft7Validator(schema(name), format_checker=jsonschema.FormatChecker()).validate(body)
    return body


@pytest.fixture
def directory(partner_org, other_partner_org):
    shelter = f.ServiceFactory(
        organization=partner_org, name="Shelter beds", need_domain="housing", languages=["en", "es"]
    )
    f.ServiceCapacityFactory(service=shelter, unit="beds", available=4, maximum=20)
    open_site = f.ServiceAtLocationFactory(service=shelter, location__address_1="1 Main St")
    hidden_site = f.ServiceAtLocationFactory(
        service=shelter, location__is_confidential=True, location__address_1="9 Hidden Rd"
    )
    pantry = f.ServiceFactory(organization=other_partner_org, name="Food pantry", need_domain="food")
    return {"shelter": shelter, "pantry": pantry, "open_site": open_site, "hidden_site": hidden_site}


def test_root_describes_the_api(client):
    body = client.get("/hsds/").json()

    assert body["version"] == "3.1"


def test_services_page_is_valid_hsds(client, directory):
    body = client.get("/hsds/services", {"per_page": 1}).json()

    assert (body["total_items"], body["total_pages"], body["size"], body["first_page"]) == (2, 2, 1, True)
    for item in body["contents"]:
        valid(item, "service_list")


def test_service_detail_is_valid_and_carries_capacity(client, directory):
    shelter = directory["shelter"]

    response = client.get(f"/hsds/services/{hsds_id('service', shelter.pk)}")

    body = valid(response.json(), "service")
    assert body["capacities"][0]["available"] == 4
    assert body["capacities"][0]["unit"]["name"] == "beds"
    assert [a["taxonomy_term"]["code"] for a in body["attributes"]] == ["housing"]
    assert response["Cache-Control"].startswith("public")


def test_confidential_locations_never_appear(client, directory):
    shelter = directory["shelter"]

    detail = client.get(f"/hsds/services/{hsds_id('service', shelter.pk)}").content.decode()
    listing = client.get("/hsds/service_at_locations").json()
    hidden = client.get(f"/hsds/service_at_locations/{hsds_id('service_at_location', directory['hidden_site'].pk)}")

    assert "Hidden" not in detail
    assert [row["id"] for row in listing["contents"]] == [hsds_id("service_at_location", directory["open_site"].pk)]
    assert hidden.status_code == 404


def test_service_at_locations_and_organizations_are_valid(client, directory, partner_org):
    for item in client.get("/hsds/service_at_locations").json()["contents"]:
        valid(item, "service_at_location_list")
    sal = client.get(f"/hsds/service_at_locations/{hsds_id('service_at_location', directory['open_site'].pk)}").json()
    valid(sal, "service_at_location")
    for item in client.get("/hsds/organizations").json()["contents"]:
        valid(item, "organization_list")
    organization = client.get(f"/hsds/organizations/{hsds_id('organization', partner_org.pk)}").json()
    valid(organization, "organization")
    assert [s["name"] for s in organization["services"]] == ["Shelter beds"]


def test_search_taxonomy_and_modified_after_filters(client, directory):
    pantry = directory["pantry"]
    Service.objects.filter(pk=pantry.pk).update(updated_at=timezone.now() + timedelta(days=1))

    def names(**params):
        return [row["name"] for row in client.get("/hsds/services", params).json()["contents"]]

    assert names(search="pantry") == ["Food pantry"]
    assert names(taxonomy_term_id=NEED_TERMS["housing"]) == ["Shelter beds"]
    assert names(taxonomy_id=TAXONOMY_ID, taxonomy_term_id=NEED_TERMS["food"]) == ["Food pantry"]
    assert names(modified_after=(timezone.now() + timedelta(hours=1)).isoformat()) == ["Food pantry"]
    assert client.get("/hsds/services", {"page": "0"}).status_code == 400
    assert client.get("/hsds/services", {"per_page": "1000"}).json()["size"] == 2


def test_inactive_organisations_are_not_published(client, directory, partner_org):
    partner_org.is_active = False
    partner_org.save()

    assert [row["name"] for row in client.get("/hsds/services").json()["contents"]] == ["Food pantry"]
    assert client.get(f"/hsds/organizations/{hsds_id('organization', partner_org.pk)}").status_code == 404


def test_unknown_id_is_a_problem_404(client):
    response = client.get("/hsds/services/not-a-uuid")

    assert response.status_code == 404
    assert response.json()["status"] == 404
