"""Every database constraint of the partner directory rejects what it should and accepts its valid neighbour."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from providers.models import IdempotencyRecord, Organization
from tests import factories as f
from tests.cases.test_constraints import (
    accepts,
    assert_accepted,
    assert_database_rejects,
    assert_every_constraint_tested,
    assert_full_clean_rejects,
    rejects,
)

WEBHOOK_URL = "https://partner.example.org/hooks/crt"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def organization(**fields) -> Organization:
    return f.OrganizationFactory.build(**fields)


def service(**fields):
    return f.ServiceFactory.build(organization=f.OrganizationFactory(), **fields)


def location(**fields):
    return f.LocationFactory.build(organization=f.OrganizationFactory(), **fields)


def service_at_location_again(*, same_location: bool):
    first = f.ServiceAtLocationFactory()
    place = first.location if same_location else f.LocationFactory(organization=first.service.organization)
    return f.ServiceAtLocationFactory.build(service=first.service, location=place)


def capacity(**fields):
    return f.ServiceCapacityFactory.build(service=f.ServiceFactory(), **fields)


def idempotency_key_again(*, owner: str):
    fields = {"key": "retry-1", "method": "POST", "path": "/api/v1/referrals/", "request_hash": "0" * 64}
    IdempotencyRecord.objects.create(owner="user:1", created_at=timezone.now(), **fields)
    return IdempotencyRecord(owner=owner, created_at=timezone.now(), **fields)


def capacity_again(*, unit: str):
    first = f.ServiceCapacityFactory(unit="beds")
    return f.ServiceCapacityFactory.build(service=first.service, unit=unit)


REJECTED = [
    rejects(
        "organization_webhook_channel_has_url_and_secret",
        "neither",
        lambda: organization(channel=Organization.Channel.WEBHOOK),
    ),
    rejects(
        "organization_webhook_channel_has_url_and_secret",
        "url-without-secret",
        lambda: organization(channel=Organization.Channel.WEBHOOK, webhook_url=WEBHOOK_URL),
    ),
    rejects(
        "organization_webhook_channel_has_url_and_secret",
        "secret-without-url",
        lambda: organization(channel=Organization.Channel.WEBHOOK, webhook_secret=SECRET),
    ),
    rejects(
        "organization_email_channel_has_address",
        "no-notification-address",
        lambda: organization(channel=Organization.Channel.EMAIL),
    ),
    rejects("service_age_range_ordered", "min-above-max", lambda: service(min_age=65, max_age=18)),
    rejects("location_latitude_range", "north-of-the-pole", lambda: location(latitude="90.000001")),
    rejects("location_latitude_range", "south-of-the-pole", lambda: location(latitude="-90.5")),
    rejects("location_longitude_range", "east-of-180", lambda: location(longitude="180.000001")),
    rejects("location_longitude_range", "west-of-minus-180", lambda: location(longitude="-181")),
    rejects("service_at_location_unique", "same-pair-twice", lambda: service_at_location_again(same_location=True)),
    rejects("service_capacity_one_per_unit", "same-unit-twice", lambda: capacity_again(unit="beds")),
    rejects(
        "service_capacity_available_le_maximum", "more-free-than-exist", lambda: capacity(available=21, maximum=20)
    ),
    rejects("idempotency_key_once_per_owner", "same-caller-same-key", lambda: idempotency_key_again(owner="user:1")),
]

ACCEPTED = [
    accepts(
        "organization_webhook_channel_has_url_and_secret",
        "webhook-with-both",
        lambda: organization(channel=Organization.Channel.WEBHOOK, webhook_url=WEBHOOK_URL, webhook_secret=SECRET),
    ),
    accepts(
        "organization_webhook_channel_has_url_and_secret",
        "pull-without-either",
        lambda: organization(channel=Organization.Channel.PULL),
    ),
    accepts(
        "organization_email_channel_has_address",
        "email-with-address",
        lambda: organization(channel=Organization.Channel.EMAIL, notification_email="intake@partner.example.org"),
    ),
    accepts(
        "organization_email_channel_has_address",
        "webhook-without-address",
        lambda: organization(channel=Organization.Channel.WEBHOOK, webhook_url=WEBHOOK_URL, webhook_secret=SECRET),
    ),
    accepts("service_age_range_ordered", "one-age-only", lambda: service(min_age=18, max_age=18)),
    accepts("service_age_range_ordered", "open-ended", lambda: service(min_age=65, max_age=None)),
    accepts("location_latitude_range", "the-poles", lambda: location(latitude="-90", longitude="0")),
    accepts("location_latitude_range", "unknown", lambda: location(latitude=None, longitude=None)),
    accepts("location_longitude_range", "the-antimeridian", lambda: location(longitude="-180")),
    accepts("location_longitude_range", "east-edge", lambda: location(longitude="180")),
    accepts("service_at_location_unique", "second-site", lambda: service_at_location_again(same_location=False)),
    accepts("service_capacity_one_per_unit", "another-unit", lambda: capacity_again(unit="intake slots")),
    accepts("service_capacity_available_le_maximum", "full-house-free", lambda: capacity(available=20, maximum=20)),
    accepts("service_capacity_available_le_maximum", "none-free", lambda: capacity(available=0, maximum=20)),
    accepts("idempotency_key_once_per_owner", "another-caller-same-key", lambda: idempotency_key_again(owner="user:2")),
]


@pytest.mark.parametrize(("name", "build", "clean_error_on"), REJECTED)
def test_database_rejects_invalid_row(db, name, build, clean_error_on):
    assert_database_rejects(build(), name)


@pytest.mark.parametrize(("name", "build", "clean_error_on"), REJECTED)
def test_full_clean_rejects_invalid_row(db, name, build, clean_error_on):
    assert_full_clean_rejects(build(), name, clean_error_on)


@pytest.mark.parametrize(("name", "build"), ACCEPTED)
def test_valid_row_is_accepted(db, name, build):
    assert_accepted(build(), name)


def test_every_constraint_of_providers_has_a_rejected_and_an_accepted_row():
    assert_every_constraint_tested(("providers",), REJECTED, ACCEPTED)


def test_two_credentials_cannot_share_a_lookup_prefix(db):
    first = f.PartnerCredentialFactory()
    again = f.PartnerCredentialFactory.build(organization=f.OrganizationFactory(), prefix=first.prefix)
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        again.save()
    assert "prefix" in str(caught.value)
