"""Staff API serializers for people and case work. Every field listed; input serializers only validate."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.models import Case, Consent, Contact, Encounter, FollowUp, Individual
from cases.services import ReferralDecision
from crt.api import StrictSerializer
from crt.validators import validate_consent_expiry, validate_date_of_birth, validate_happened
from providers.models import NeedDomain


class IndividualSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    safe_contact_channels = serializers.ListField(child=serializers.CharField(), read_only=True)
    email = serializers.CharField(read_only=True, help_text="Empty when unknown.")

    class Meta:
        model = Individual
        fields = [
            "id",
            "display_name",
            "legal_first_name",
            "legal_last_name",
            "preferred_name",
            "pronouns",
            "date_of_birth",
            "phone",
            "email",
            "address",
            "where_staying",
            "housing_status",
            "primary_language",
            "needs_interpreter",
            "cad_person_id",
            "is_do_not_contact",
            "safe_contact_channels",
            "safe_contact_times",
            "responder_safety_notes",
            "risk_level",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EncounterSerializer(serializers.ModelSerializer):
    individual_id = serializers.IntegerField(read_only=True, allow_null=True)
    disposition = serializers.ChoiceField(choices=Encounter.Disposition.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Encounter
        fields = [
            "id",
            "individual_id",
            "cad_incident_number",
            "call_source",
            "call_type",
            "call_received_at",
            "dispatched_at",
            "on_scene_at",
            "cleared_at",
            "location_text",
            "reason_for_call",
            "disposition",
            "created_at",
        ]
        read_only_fields = fields


class IntakeResultSerializer(serializers.Serializer):
    encounter = EncounterSerializer()
    individual_id = serializers.IntegerField(allow_null=True)
    created_individual = serializers.BooleanField(help_text="False when the caller matched someone already known.")
    created_encounter = serializers.BooleanField(help_text="False when this incident number was already recorded.")
    possible_duplicates = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="When a person was created: ids of people you may see who are likely the same person "
        "(cases.matching), for someone to look at and a supervisor to merge. Empty otherwise.",
    )


class CaseSerializer(serializers.ModelSerializer):
    individual_id = serializers.IntegerField(read_only=True)
    encounter_id = serializers.IntegerField(read_only=True, allow_null=True)
    navigator_id = serializers.IntegerField(read_only=True, allow_null=True)
    peer_id = serializers.IntegerField(read_only=True, allow_null=True)
    previous_case_id = serializers.IntegerField(read_only=True, allow_null=True)
    closed_reason = serializers.ChoiceField(choices=Case.ClosedReason.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "individual_id",
            "encounter_id",
            "navigator_id",
            "peer_id",
            "status",
            "closed_reason",
            "closed_at",
            "risk_level",
            "opened_at",
            "updated_at",
            "times_reopened",
            "previous_case_id",
        ]
        read_only_fields = fields


class CaseOpenInput(StrictSerializer):
    individual = serializers.IntegerField(min_value=1)
    encounter = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    navigator = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None, help_text="Defaults to you, if you are one."
    )
    peer = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)


class ReferralDecisionInput(StrictSerializer):
    referral = serializers.IntegerField(min_value=1)
    decision = serializers.ChoiceField(choices=ReferralDecision.choices)


class CaseCloseInput(StrictSerializer):
    reason = serializers.ChoiceField(choices=Case.ClosedReason.choices)
    referrals = ReferralDecisionInput(
        many=True,
        required=False,
        default=list,
        help_text="One decision for each referral of the case that is still open (or a draft): keep or cancel.",
    )

    def validate_referrals(self, value):
        ids = [row["referral"] for row in value]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError("One decision per referral.")
        return value


class FollowUpDismissInput(StrictSerializer):
    reason = serializers.CharField(max_length=300)


class ContactSerializer(serializers.ModelSerializer):
    case_id = serializers.IntegerField(read_only=True)
    made_by_id = serializers.IntegerField(read_only=True)
    follow_up_id = serializers.IntegerField(read_only=True, allow_null=True)
    needs_identified = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "case_id",
            "made_by_id",
            "occurred_at",
            "method",
            "outcome",
            "duration_minutes",
            "note",
            "needs_identified",
            "next_step",
            "follow_up_id",
            "created_at",
        ]
        read_only_fields = fields


class FollowUpSerializer(serializers.ModelSerializer):
    case_id = serializers.IntegerField(read_only=True)
    owner_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "case_id",
            "label",
            "owner_id",
            "due_at",
            "done_at",
            "is_missed",
            "missed_at",
            "dismissed_at",
            "dismissed_reason",
            "escalation_level",
        ]
        read_only_fields = fields


class ConsentSerializer(serializers.ModelSerializer):
    individual_id = serializers.IntegerField(read_only=True)
    recipient_organization_id = serializers.IntegerField(read_only=True, allow_null=True)
    recipient_category = serializers.ChoiceField(choices=NeedDomain.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Consent
        fields = [
            "id",
            "individual_id",
            "recipient_organization_id",
            "recipient_category",
            "purpose",
            "covers_part2",
            "method",
            "witness_name",
            "given_at",
            "expires_at",
            "revoked_at",
            "created_at",
        ]
        read_only_fields = fields


# --- input --------------------------------------------------------------------------------------


class IntakePersonInput(StrictSerializer):
    legal_first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    legal_last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    date_of_birth = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[validate_date_of_birth]
    )
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    cad_person_id = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")


@extend_schema_field({"type": ["number", "string"], "format": "decimal", "pattern": r"^-?\d{0,3}(?:\.\d{0,6})?$"})
class CoordinateField(serializers.DecimalField):
    """A latitude or longitude, which CAD systems send as a JSON number or as a decimal string: the
    schema says both, as the field accepts both (bounds and places are checked by the field)."""


class IntakeInput(StrictSerializer):
    cad_incident_number = serializers.CharField(max_length=50)
    call_received_at = serializers.DateTimeField()
    dispatched_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    call_source = serializers.ChoiceField(choices=Encounter.CallSource.choices, default=Encounter.CallSource.CALL_911)
    call_type = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    location_text = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    latitude = CoordinateField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True, default=None
    )
    longitude = CoordinateField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False, allow_null=True, default=None
    )
    reason_for_call = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    person = IntakePersonInput(required=False, default=None, allow_null=True)


class ContactInput(StrictSerializer):
    case = serializers.IntegerField(min_value=1)
    occurred_at = serializers.DateTimeField(validators=[validate_happened])
    method = serializers.ChoiceField(choices=Contact.Method.choices)
    outcome = serializers.ChoiceField(choices=Contact.Outcome.choices)
    duration_minutes = serializers.IntegerField(min_value=0, max_value=1440, required=False, allow_null=True)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    needs_identified = serializers.ListField(
        child=serializers.ChoiceField(choices=NeedDomain.choices), required=False, default=list, max_length=20
    )
    next_step = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ConsentInput(StrictSerializer):
    individual = serializers.IntegerField(min_value=1)
    recipient_organization = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    recipient_category = serializers.ChoiceField(
        choices=NeedDomain.choices, required=False, allow_blank=True, default=""
    )
    purpose = serializers.ChoiceField(choices=Consent.Purpose.choices, default=Consent.Purpose.REFERRAL)
    covers_part2 = serializers.BooleanField(default=False)
    method = serializers.ChoiceField(choices=Consent.RECORDABLE_METHODS)
    witness_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    given_at = serializers.DateTimeField(validators=[validate_happened])
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, validators=[validate_consent_expiry]
    )
