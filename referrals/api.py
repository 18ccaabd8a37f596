"""Referrals over the API.

/api/v1/partner/referrals/  a partner credential's referrals (addressed to its organisation, once
                            sent): list, detail, and the partner's moves as actions.
/api/v1/referrals/          program staff: list, detail, create (a draft), send, cancel.

Every move goes through referrals.services; the view only validates input, checks If-Match against
the locked row, and records the access. Someone else's referral is a 404.
"""

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from audit.access import Seen
from audit.models import Action
from cases.models import Case, Individual
from crt.api import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    IsPartnerCredential,
    IsProgramStaff,
    StrictSerializer,
    actor,
    audit,
    check_if_match,
    error_responses,
    referenced,
    validated,
    with_etag,
)
from crt.idempotency import IdempotentMixin
from providers.models import Service
from referrals import moves, services
from referrals.filters import ReferralFilter, StaffReferralFilter
from referrals.models import Referral
from referrals.partner_list import LIST_COLUMNS, PartnerPage, partner_queryset
from referrals.serializers import (
    PARTNER_DISCLOSURE,
    AppointmentInput,
    BusinessStatusInput,
    CancelInput,
    CompleteInput,
    FailInput,
    NoteInput,
    PartnerReferralSerializer,
    ReasonInput,
    ReferralCreateInput,
    StaffReferralSerializer,
    partner_referrals,
)

READ_ERRORS = error_responses(400, 401, 403, 404, 429)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 429)


class _ReferralViewSet(IdempotentMixin, viewsets.GenericViewSet):
    lookup_value_regex = r"[0-9]+"
    audit_detail = ""

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = list(self.paginate_queryset(queryset))
        audit(request, page, action=Action.LIST, detail=self.audit_detail)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        referral = self.get_object()
        audit(request, [referral], action=Action.VIEW, detail=self.audit_detail)
        return with_etag(Response(self.get_serializer(referral).data), referral)

    def replayed_answer(self, obj, status):
        return with_etag(super().replayed_answer(obj, status), obj)

    def _require_visible(self, pk) -> None:
        if not self.get_queryset().filter(pk=pk).exists():
            raise NotFound("Referral not found.")

    def _move(self, request, pk, move, **arguments):
        """Lock the caller's view of the referral, check If-Match, make the move, answer with the result."""
        with transaction.atomic():
            locked = referenced(Referral.objects.visible_to(actor(request)).select_for_update(), pk, "Referral")
            check_if_match(request, locked)
            move(locked, by=actor(request), **arguments)
            referral = self.get_queryset().get(pk=pk)
            audit(request, [referral], action=Action.UPDATE)
            if request.auth is not None:
                audit(request, [referral], action=Action.VIEW, detail=self.audit_detail)
        return with_etag(Response(self.get_serializer(referral).data), referral)


# What each set of inputs is checked with (the serializers name the API's request bodies).
INPUTS = {
    (): StrictSerializer,  # no body fields: refuse any
    ("note",): NoteInput,
    ("reason", "note"): ReasonInput,
    ("reason",): CancelInput,
    ("outcome_note",): CompleteInput,
    ("reason", "outcome_note"): FailInput,
    ("appointment_at",): AppointmentInput,
    ("business_status", "note"): BusinessStatusInput,
}
EXAMPLES = {
    "accept": {"note": "We will call within two days."},
    "reject": {"reason": "No beds this month."},
    "hold": {"reason": "Person is in hospital."},
    "complete": {"outcome_note": "Enrolled in housing."},
    "fail": {"reason": "Could not reach the person.", "outcome_note": "Three calls, two texts."},
    "appointment": {"appointment_at": "2026-12-01T14:30:00-06:00"},
    "business-status": {"business_status": "waitlisted", "note": "Third on the list."},
}


def _move_attr(move: moves.Move) -> str:
    return move.verb.replace("-", "_")


def _move_action(move: moves.Move, response_serializer):
    """The POST action for one move: validate its inputs, then _move makes it through its service."""
    inputs = INPUTS[move.inputs]
    example = EXAMPLES.get(move.verb)

    def make(self, request, pk=None):
        self._require_visible(pk)  # someone else's referral is a 404 whatever the body says
        data = validated(inputs, request)
        return self._move(request, pk, move.make, **{name: data[name] for name in move.inputs})

    make.__name__ = _move_attr(move)
    make.__doc__ = f"Allowed when the referral is {', '.join(sorted(move.from_statuses))}."
    schema = extend_schema(
        summary=move.summary,
        request=None if inputs is StrictSerializer else inputs,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
        responses={200: response_serializer, **WRITE_ERRORS},
        examples=[OpenApiExample("Example", value=example, request_only=True)] if example else [],
    )
    return schema(action(detail=True, methods=["post"], url_path=move.verb)(make))


@extend_schema_view(
    list=extend_schema(
        summary="Referrals addressed to your organisation",
        description="Newest change first; cursor pagination (page_size up to 100). Only what the referral shares.",
        responses={200: PartnerReferralSerializer(many=True), **READ_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One referral addressed to your organisation",
        description="The ETag header (also the `etag` field) is what If-Match needs to change it.",
        responses={200: PartnerReferralSerializer, **READ_ERRORS},
    ),
)
class PartnerReferralViewSet(_ReferralViewSet):
    permission_classes = [IsPartnerCredential]
    queryset = Referral.objects.none()  # for the schema; get_queryset scopes every request
    serializer_class = PartnerReferralSerializer
    filterset_class = ReferralFilter
    audit_detail = PARTNER_DISCLOSURE

    def get_queryset(self):
        return partner_queryset(actor(self.request), at=timezone.now())

    def list(self, request, *args, **kwargs):
        """The page as values() rows, not model instances: partners poll this, 100 rows at a time.
        Without a filter, as a statement compiled once and prepared (referrals.partner_list)."""
        if any(name in request.query_params for name in self.filterset_class.base_filters):
            rows = self.filter_queryset(self.get_queryset()).values(*LIST_COLUMNS)
        else:
            rows = PartnerPage(request.auth, at=timezone.now())
        page = list(self.paginate_queryset(rows))
        seen = [Seen(Referral, row["id"], row["individual_id"], row["program_id"]) for row in page]
        audit(request, seen, action=Action.LIST, detail=self.audit_detail)
        return self.get_paginated_response(partner_referrals(page))


def _add_actions(viewset, table, response_serializer) -> None:
    for move in table:
        setattr(viewset, _move_attr(move), _move_action(move, response_serializer))


# Every partner move is an action (/api/v1/partner/referrals/<id>/<verb>/), made from the table.
_add_actions(PartnerReferralViewSet, moves.PARTNER_MOVES, PartnerReferralSerializer)


@extend_schema_view(
    list=extend_schema(
        summary="Referrals of your program (as your role allows)",
        responses={200: StaffReferralSerializer(many=True), **READ_ERRORS},
    ),
    retrieve=extend_schema(summary="One referral", responses={200: StaffReferralSerializer, **READ_ERRORS}),
)
class StaffReferralViewSet(mixins.CreateModelMixin, _ReferralViewSet):
    permission_classes = [IsProgramStaff]
    queryset = Referral.objects.none()
    serializer_class = StaffReferralSerializer
    filterset_class = StaffReferralFilter

    def get_queryset(self):
        return (
            Referral.objects.visible_to(self.request.user)
            .select_related("service", "organization")
            .order_by("-updated_at", "-id")
        )

    @extend_schema(
        summary="Make a draft referral (nothing is shared until it is sent)",
        request=ReferralCreateInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: StaffReferralSerializer, **error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429)},
        examples=[
            OpenApiExample(
                "Housing referral",
                value={"individual": 12, "service": 3, "reason": "Needs a shelter bed tonight.", "urgency": "urgent"},
                request_only=True,
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        data = validated(ReferralCreateInput, request)
        user = request.user
        individual = referenced(Individual.objects.visible_to(user), data["individual"], "Person")
        service = referenced(Service.objects.all(), data["service"], "Service")
        case = referenced(Case.objects.visible_to(user), data["case"], "Case")
        with transaction.atomic():
            referral = services.create_referral(
                individual=individual,
                service=service,
                case=case,
                by=user,
                reason=data["reason"],
                urgency=data["urgency"],
                shares_contact_details=data["shares_contact_details"],
                includes_part2=data["includes_part2"],
            )
            referral = self.get_queryset().get(pk=referral.pk)
            audit(request, [referral], action=Action.CREATE)
        response = Response(self.get_serializer(referral).data, status=status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/referrals/{referral.pk}/"
        return with_etag(response, referral)


# The sender's send and cancel (marking entered in error is on the referral page only).
_add_actions(StaffReferralViewSet, (moves.SENDER["send"], moves.SENDER["cancel"]), StaffReferralSerializer)
