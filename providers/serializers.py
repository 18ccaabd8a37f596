"""Directory serializers (no personal data here): services with their capacity and freshness."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crt.api import StrictSerializer
from providers.models import DEFAULT_STALE_AFTER, Organization, Service


class OrganizationRefSerializer(serializers.ModelSerializer):
    website = serializers.CharField(read_only=True, help_text="Empty when unknown.")
    email = serializers.CharField(read_only=True, help_text="Empty when unknown.")

    class Meta:
        model = Organization
        fields = ["id", "name", "website", "phone", "email"]
        read_only_fields = fields


class CapacitySerializer(serializers.Serializer):
    unit = serializers.CharField()
    available = serializers.IntegerField()
    maximum = serializers.IntegerField()
    description = serializers.CharField(allow_blank=True)
    updated_at = serializers.DateTimeField()
    is_stale = serializers.BooleanField(help_text="Older than the program's stale-capacity age (7 days by default).")


class LocationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    address_1 = serializers.CharField(allow_null=True, help_text="Null for a confidential location.")
    city = serializers.CharField(allow_blank=True)
    state_province = serializers.CharField(allow_blank=True)
    postal_code = serializers.CharField(allow_null=True)
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    is_confidential = serializers.BooleanField()
    hours = serializers.CharField(allow_blank=True)


class ServiceSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer()
    status = serializers.ChoiceField(choices=Service.Status.choices, read_only=True)
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)
    locations = serializers.SerializerMethodField()
    capacity = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "description",
            "need_domain",
            "status",
            "eligibility",
            "min_age",
            "max_age",
            "languages",
            "fees",
            "application_process",
            "assured_at",
            "updated_at",
            "organization",
            "locations",
            "capacity",
        ]
        read_only_fields = fields

    def _stale_after(self) -> timedelta:
        request = self.context.get("request")
        program = getattr(getattr(request, "user", None), "program", None)
        return getattr(program, "stale_capacity_after", DEFAULT_STALE_AFTER)

    @extend_schema_field(LocationSerializer(many=True))
    def get_locations(self, service) -> list[dict]:
        return LocationSerializer([location_view(sal) for sal in service.service_at_locations.all()], many=True).data

    @extend_schema_field(CapacitySerializer(many=True))
    def get_capacity(self, service) -> list[dict]:
        cutoff = timezone.now() - self._stale_after()
        rows = [
            {
                "unit": c.unit,
                "available": c.available,
                "maximum": c.maximum,
                "description": c.description,
                "updated_at": c.updated_at,
                "is_stale": c.updated_at < cutoff,
            }
            for c in service.capacities.all()
        ]
        return CapacitySerializer(rows, many=True).data


def location_view(service_at_location) -> dict:
    location = service_at_location.location
    hidden = location.is_confidential
    return {
        "id": location.pk,
        "name": location.name,
        "address_1": None if hidden else location.address_1,
        "city": location.city,
        "state_province": location.state_province,
        "postal_code": None if hidden else location.postal_code,
        "latitude": None if hidden or location.latitude is None else float(location.latitude),
        "longitude": None if hidden or location.longitude is None else float(location.longitude),
        "is_confidential": hidden,
        "hours": service_at_location.hours,
    }


class CapacityInput(StrictSerializer):
    unit = serializers.CharField(max_length=50, help_text="beds, intake slots, appointments...")
    available = serializers.IntegerField(min_value=0, max_value=1_000_000)
    maximum = serializers.IntegerField(min_value=0, max_value=1_000_000)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class WebhookSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Organization.Channel.choices)
    webhook_url = serializers.CharField(allow_blank=True)
    has_secret = serializers.BooleanField()
    webhook_disabled_at = serializers.DateTimeField(allow_null=True)
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)
    new_secret = serializers.CharField(
        allow_null=True, required=False, help_text="Set once, when the endpoint gets its first secret: keep it."
    )


class WebhookInput(StrictSerializer):
    webhook_url = serializers.CharField(max_length=500, help_text="https:// URL that receives signed events.")


class WebhookSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Shown once. The previous secret keeps signing for 24 hours.")
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)


def webhook_view(organization: Organization) -> dict:
    return {
        "channel": organization.channel,
        "webhook_url": organization.webhook_url,
        "has_secret": bool(organization.webhook_secret),
        "webhook_disabled_at": organization.webhook_disabled_at,
        "previous_secret_expires_at": organization.webhook_previous_secret_expires_at,
    }
