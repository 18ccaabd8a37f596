"""Referral serializers. Output ones list every field; input ones only validate (views call services).

Minimum necessary for partners (DESIGN.md §8): a partner sees who the person is, how to reach them
safely, and what the referral asks. Never assessments, encounter narrative, safety notes, risk, or
identifiers. A person marked do-not-contact, or a referral that does not share contact details,
carries no phone, email or address; safe channels and times always travel. A referral that includes
42 CFR Part 2 information was sent under a consent covering it (referrals.services checks at send)
and carries the redisclosure notice.
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crt.api import StrictSerializer
from crt.validators import validate_planned
from referrals.consent import PART2_REDISCLOSURE_NOTICE, person_withheld
from referrals.models import Referral

# What a partner read discloses, in words, for the audit row (never the values).
PARTNER_DISCLOSURE = "name, date of birth, language, safe-contact preferences, contact details, need, urgency, reason"


class PartnerPersonSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Preferred name if given, else the legal first name, and last name.")
    legal_first_name = serializers.CharField()
    legal_last_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    pronouns = serializers.CharField(allow_blank=True)
    primary_language = serializers.CharField()
    needs_interpreter = serializers.BooleanField()
    is_do_not_contact = serializers.BooleanField(help_text="True: do not contact the person directly.")
    phone = serializers.CharField(allow_null=True, help_text="Null when do-not-contact or not shared.")
    email = serializers.CharField(allow_null=True, help_text="Null when do-not-contact or not shared.")
    address = serializers.CharField(allow_null=True, help_text="Null when do-not-contact or not shared.")
    safe_contact_channels = serializers.ListField(child=serializers.CharField())
    safe_contact_times = serializers.CharField(allow_blank=True)


# The columns a partner's view of a referral is made from (values() names): no more. The audit row
# needs individual_id and program_id; disclosure_allowed_now comes from consent.with_disclosure_allowed.
_PERSON_COLUMNS = [
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "date_of_birth",
    "pronouns",
    "primary_language",
    "needs_interpreter",
    "is_do_not_contact",
    "phone",
    "email",
    "address",
    "safe_contact_channels",
    "safe_contact_times",
]
PARTNER_COLUMNS = [
    "id",
    "program_id",
    "individual_id",
    "service_id",
    "organization_id",
    "status",
    "status_reason",
    "business_status",
    "need_domain",
    "urgency",
    "reason",
    "includes_part2",
    "shares_contact_details",
    "appointment_at",
    "outcome_note",
    "requested_at",
    "updated_at",
    "version",
    "service__name",
    *(f"individual__{name}" for name in _PERSON_COLUMNS),
]


def partner_person(referral: Referral) -> dict | None:
    """What the partner may know of the person; None once consent no longer covers the referral
    (revocation takes effect for everything not yet disclosed, reads included)."""
    return _person(_flat(referral))


def _flat(referral: Referral) -> dict:
    """A referral as the row of values(*PARTNER_COLUMNS, "disclosure_allowed_now") would give it."""
    row = {name: getattr(referral, name) for name in PARTNER_COLUMNS if "__" not in name}
    row["service__name"] = referral.service.name
    person = referral.individual
    row.update({f"individual__{name}": getattr(person, name) for name in _PERSON_COLUMNS})
    row["disclosure_allowed_now"] = not person_withheld(referral)
    return row


def _person(row: dict) -> dict | None:
    if not row["disclosure_allowed_now"]:
        return None
    shares = row["shares_contact_details"] and not row["individual__is_do_not_contact"]
    born = row["individual__date_of_birth"]
    return {
        "name": f"{row['individual__preferred_name'] or row['individual__legal_first_name']} "
        f"{row['individual__legal_last_name']}",
        "legal_first_name": row["individual__legal_first_name"],
        "legal_last_name": row["individual__legal_last_name"],
        "date_of_birth": born.isoformat() if born else None,
        "pronouns": row["individual__pronouns"],
        "primary_language": row["individual__primary_language"],
        "needs_interpreter": row["individual__needs_interpreter"],
        "is_do_not_contact": row["individual__is_do_not_contact"],
        "phone": (row["individual__phone"] or None) if shares else None,
        "email": (row["individual__email"] or None) if shares else None,
        "address": (row["individual__address"] or None) if shares else None,
        "safe_contact_channels": list(row["individual__safe_contact_channels"] or []),
        "safe_contact_times": row["individual__safe_contact_times"],
    }


def partner_referrals(rows: list[dict]) -> list[dict]:
    """A partner's view of each referral from its values() row: the partner list builds its 100 rows
    per page with this, without model instances (docs/performance.md, "Partner API")."""
    zone = timezone.get_current_timezone()
    return [partner_referral(row, zone) for row in rows]


# What a partner no longer reads once consent no longer covers the referral, besides the person: the
# free text and the plans (issue 14, item 4). Only the withdrawal itself is left to see, and act on.
WITHHELD_AFTER_WITHDRAWAL = {
    "reason": "",
    "status_reason": "",
    "business_status": "",
    "appointment_at": None,
    "outcome_note": "",
}


def partner_referral(row: dict, zone) -> dict:
    view = {
        "id": row["id"],
        "status": row["status"],
        "status_reason": row["status_reason"],
        "business_status": row["business_status"],
        "need_domain": row["need_domain"],
        "urgency": row["urgency"],
        "reason": row["reason"],
        "includes_part2": row["includes_part2"],
        "part2_notice": PART2_REDISCLOSURE_NOTICE if row["includes_part2"] else None,
        "appointment_at": _instant(row["appointment_at"], zone),
        "outcome_note": row["outcome_note"],
        "service": {"id": row["service_id"], "name": row["service__name"]},
        "person": _person(row),
        "requested_at": _instant(row["requested_at"], zone),
        "updated_at": _instant(row["updated_at"], zone),
        "version": row["version"],
        "etag": f'"{row["id"]}-{row["version"]}"',
        "consent_withdrawn": not row["disclosure_allowed_now"],
    }
    if view["consent_withdrawn"]:
        view.update(WITHHELD_AFTER_WITHDRAWAL)
    return view


class ServiceRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PartnerReferralSerializer(serializers.ModelSerializer):
    person = serializers.SerializerMethodField(
        help_text="Null once the person's consent no longer covers this referral: their details are withheld."
    )
    service = ServiceRefSerializer()
    part2_notice = serializers.SerializerMethodField(
        help_text="The 42 CFR Part 2 redisclosure notice; present (non-null) when the referral includes "
        "substance-use information."
    )
    etag = serializers.SerializerMethodField(help_text="The value to send as If-Match to change this referral.")
    business_status = serializers.ChoiceField(
        choices=Referral.BusinessStatus.choices, allow_blank=True, read_only=True, help_text="Empty when none."
    )
    consent_withdrawn = serializers.SerializerMethodField(
        help_text="True once the person's consent no longer covers this referral: the person, the reason, "
        "status reason, business status, appointment and outcome note are withheld (empty or null). Stop work."
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "status",
            "status_reason",
            "business_status",
            "need_domain",
            "urgency",
            "reason",
            "includes_part2",
            "part2_notice",
            "appointment_at",
            "outcome_note",
            "service",
            "person",
            "requested_at",
            "updated_at",
            "version",
            "etag",
            "consent_withdrawn",
        ]
        read_only_fields = fields

    @extend_schema_field(PartnerPersonSerializer(allow_null=True))
    def get_person(self, referral) -> dict | None:
        return partner_person(referral)

    def get_part2_notice(self, referral) -> str | None:
        return PART2_REDISCLOSURE_NOTICE if referral.includes_part2 else None

    def get_etag(self, referral) -> str:
        return f'"{referral.pk}-{referral.version}"'

    def get_consent_withdrawn(self, referral) -> bool:
        return person_withheld(referral)

    def to_representation(self, referral) -> dict:
        """The fields of Meta.fields, built directly (partner_referral): DRF's field-by-field machinery
        was most of the partner list's time (docs/performance.md)."""
        return partner_referral(_flat(referral), timezone.get_current_timezone())


def _instant(value, zone) -> str | None:
    """As DRF's DateTimeField writes it: ISO 8601 in the current time zone (`zone`, looked up once
    per page: the lookup cost more than the conversion)."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class StaffReferralSerializer(serializers.ModelSerializer):
    service = ServiceRefSerializer()
    organization = ServiceRefSerializer()
    etag = serializers.SerializerMethodField()
    business_status = serializers.ChoiceField(choices=Referral.BusinessStatus.choices, allow_blank=True, read_only=True)
    next_action_owner = serializers.ChoiceField(
        choices=Referral.NextActionOwner.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "individual_id",
            "case_id",
            "service",
            "organization",
            "status",
            "status_reason",
            "business_status",
            "need_domain",
            "urgency",
            "reason",
            "shares_contact_details",
            "includes_part2",
            "consent_id",
            "appointment_at",
            "outcome_note",
            "next_action_owner",
            "next_action_due_at",
            "chase_level",
            "created_by_id",
            "created_at",
            "requested_at",
            "updated_at",
            "version",
            "etag",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "individual_id": {"read_only": True},
        }

    def get_etag(self, referral) -> str:
        return f'"{referral.pk}-{referral.version}"'

    def get_fields(self):
        fields = super().get_fields()
        for name in ("individual_id", "case_id", "consent_id", "created_by_id"):
            fields[name] = serializers.IntegerField(read_only=True, allow_null=name in ("case_id", "consent_id"))
        return fields


# --- input --------------------------------------------------------------------------------------


class NoteInput(StrictSerializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class ReasonInput(StrictSerializer):
    reason = serializers.CharField(max_length=500)
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class CompleteInput(StrictSerializer):
    outcome_note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class FailInput(StrictSerializer):
    reason = serializers.CharField(max_length=500)
    outcome_note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class AppointmentInput(StrictSerializer):
    appointment_at = serializers.DateTimeField(
        help_text="With a time zone, e.g. 2026-12-01T14:30:00-06:00.",
        validators=[validate_planned],
    )


class BusinessStatusInput(StrictSerializer):
    business_status = serializers.ChoiceField(choices=Referral.BusinessStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class ReferralCreateInput(StrictSerializer):
    individual = serializers.IntegerField(min_value=1)
    service = serializers.IntegerField(min_value=1)
    case = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=10_000)
    urgency = serializers.ChoiceField(choices=Referral.Urgency.choices, default=Referral.Urgency.ROUTINE)
    shares_contact_details = serializers.BooleanField(default=True)
    includes_part2 = serializers.BooleanField(default=False)


class CancelInput(StrictSerializer):
    reason = serializers.CharField(max_length=500)
