"""Staff and integrations over the API: people, case work, consents, and 911 call intake.

/api/v1/individuals/       people (as the role's scope allows)
/api/v1/encounters/        encounters; POST /api/v1/encounters/intake/ is the CAD system's new call
/api/v1/cases/             cases on caseloads; POST opens one (cases.services.open_case: the CAD
                           integration opens it from the encounter), POST …/close/ and …/reopen/
/api/v1/contacts/          logged contacts; POST logs one (cases.services.log_contact)
/api/v1/follow-ups/        due follow-ups; POST …/dismiss/ takes a missed one off the lists
/api/v1/consents/          consents; POST records one (cases.intake.record_consent)

Every list and detail records the access (audit.access.record_access) before answering; every write
goes through a service and is recorded too. Someone else's record is a 404.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from accounts.models import User
from audit.models import Action
from cases import intake
from cases.filters import CaseFilter, ConsentFilter, ContactFilter, FollowUpFilter, IndividualFilter
from cases.models import Case, Consent, Contact, Encounter, FollowUp, Individual
from cases.people import resolve_person, search_people
from cases.serializers import (
    CaseCloseInput,
    CaseOpenInput,
    CaseSerializer,
    ConsentInput,
    ConsentSerializer,
    ContactInput,
    ContactSerializer,
    EncounterSerializer,
    FollowUpDismissInput,
    FollowUpSerializer,
    IndividualSerializer,
    IntakeInput,
    IntakeResultSerializer,
)
from cases.services import close_case, dismiss_follow_up, log_contact, open_case, reopen_case
from crt.api import (
    IDEMPOTENCY_KEY,
    IsProgramStaff,
    StrictSerializer,
    audit,
    error_responses,
    paginated_by,
    referenced,
    validated,
)
from crt.idempotency import IdempotentMixin
from providers.models import Organization

READ_ERRORS = error_responses(400, 401, 403, 404, 429)
CREATE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429)


class AuditedViewSet(IdempotentMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsProgramStaff]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        """The rows of the model `queryset` names that the user may see."""
        return self.queryset.model.objects.visible_to(self.request.user)

    def list(self, request, *args, **kwargs):
        page = list(self.paginate_queryset(self.filter_queryset(self.get_queryset())))
        audit(request, page, action=Action.LIST)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        audit(request, [obj], action=Action.VIEW)
        return Response(self.get_serializer(obj).data)

    def created(self, request, obj, serializer_class=None) -> Response:
        audit(request, [obj], action=Action.CREATE)
        serializer_class = serializer_class or self.get_serializer_class()
        return Response(serializer_class(obj).data, status=status.HTTP_201_CREATED)

    def updated(self, request, obj) -> Response:
        audit(request, [obj], action=Action.UPDATE)
        return Response(self.get_serializer_class()(obj).data)


SEARCH_LIMIT = 50


class PersonSearchInput(StrictSerializer):
    q = serializers.CharField(required=False, min_length=2, max_length=100, help_text="Part of a name.")
    date_of_birth = serializers.DateField(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give a name (q), a date of birth, or both.")
        return attrs


class MergedPointerSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The id asked for: a record merged into another.")
    merged_into = serializers.IntegerField(help_text="The record it was merged into (followed to the last one).")
    url = serializers.CharField()
    detail = serializers.CharField()


class PersonSearchResult(serializers.Serializer):
    results = IndividualSerializer(many=True)
    truncated = serializers.BooleanField()


def _creates(summary: str, request, response):
    """The schema of a create: `request` in, `response` out with a 201, retried safely with an Idempotency-Key."""
    return extend_schema(
        summary=summary, request=request, parameters=[IDEMPOTENCY_KEY], responses={201: response, **CREATE_ERRORS}
    )


def _documented(noun: str, serializer):
    return extend_schema_view(
        list=extend_schema(summary=f"{noun} you may see", responses={200: serializer(many=True), **READ_ERRORS}),
        retrieve=extend_schema(summary=f"One of the {noun.lower()}", responses={200: serializer, **READ_ERRORS}),
    )


@_documented("People", IndividualSerializer)
class IndividualViewSet(AuditedViewSet):
    queryset = Individual.objects.none()
    serializer_class = IndividualSerializer
    filterset_class = IndividualFilter
    idempotency_exempt_actions = ("search",)  # a read: run afresh (scoped, audited), never stored

    def get_queryset(self):
        return Individual.objects.visible_to(self.request.user).active()

    @extend_schema(
        summary="One of the people",
        description="A record merged into another answers 301 with a Location header and a body naming the "
        "record it was merged into (`merged_into`); the merge can be undone, after which the id answers as itself.",
        responses={200: IndividualSerializer, 301: MergedPointerSerializer, **READ_ERRORS},
    )
    def retrieve(self, request, *args, **kwargs):
        try:
            person, merged_away = resolve_person(request.user, int(kwargs["pk"]))
        except DjangoValidationError:
            raise NotFound("Person not found.") from None
        if merged_away is None:
            return super().retrieve(request, *args, **kwargs)
        audit(request, [merged_away], action=Action.VIEW)
        url = reverse("individual-detail", args=[person.pk])
        body = {
            "id": merged_away.pk,
            "merged_into": person.pk,
            "url": url,
            "detail": f"Person {merged_away.pk} was merged into person {person.pk}.",
        }
        return Response(body, status=status.HTTP_301_MOVED_PERMANENTLY, headers={"Location": url})

    def list(self, request, *args, **kwargs):
        # A name or a date of birth in a query string would be kept by proxies and access logs (and
        # echoed in the cursor links): refuse any parameter this list does not define.
        allowed = set(IndividualFilter.base_filters) | {"cursor", "page_size"}
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError(
                {
                    name: ["Not a filter of this list. Search people with POST /api/v1/individuals/search/."]
                    for name in unknown
                }
            )
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Find people by name and/or date of birth",
        description="A POST so that names and dates of birth never appear in a URL (and so in no access log). "
        "Finds a word that is part of a name, and also typos, nicknames, swapped first and last names and a "
        "mistyped date of birth (cases.matching), best match first. "
        f"Answers at most {SEARCH_LIMIT} people you may see; `truncated` says whether there were more.",
        request=PersonSearchInput,
        responses={200: PersonSearchResult, **READ_ERRORS},
        examples=[
            OpenApiExample(
                "By name and date of birth", request_only=True, value={"q": "reyes", "date_of_birth": "1990-04-02"}
            )
        ],
    )
    @action(detail=False, methods=["post"])
    def search(self, request):
        criteria = validated(PersonSearchInput, request)
        found, _hidden = search_people(request.user, **criteria, limit=SEARCH_LIMIT + 1)
        people = found[:SEARCH_LIMIT]
        audit(request, people, action=Action.LIST)
        body = {"results": IndividualSerializer(people, many=True).data, "truncated": len(found) > SEARCH_LIMIT}
        return Response(body)


@_documented("Encounters", EncounterSerializer)
class EncounterViewSet(AuditedViewSet):
    queryset = Encounter.objects.none()
    serializer_class = EncounterSerializer
    pagination_class = paginated_by("-call_received_at", "-id")

    def idempotent_outcome(self, response):
        if self.action != "intake":
            return super().idempotent_outcome(response)
        data = response.data
        return {
            "encounter": data["encounter"]["id"],
            "individual_id": data["individual_id"],
            "created_individual": data["created_individual"],
            "created_encounter": data["created_encounter"],
            "possible_duplicates": list(data.get("possible_duplicates", [])),  # ids only
        }

    def replay(self, request, record):
        """The CAD's retried call: the encounter (and the person's id) as they are now, read and audited."""
        outcome = record.outcome or {}
        if self.action != "intake" or "encounter" not in outcome:
            return super().replay(request, record)
        encounter = referenced(self.get_queryset(), outcome["encounter"], "Encounter")
        audit(request, [encounter], action=Action.VIEW)
        stored = outcome.get("possible_duplicates", [])
        # the likely duplicates the caller may still see (a merge or a scope change since may drop some)
        visible = set(Individual.objects.visible_to(request.user).filter(pk__in=stored).values_list("pk", flat=True))
        body = {
            "encounter": encounter,
            "individual_id": encounter.individual_id,
            "created_individual": outcome["created_individual"],
            "created_encounter": outcome["created_encounter"],
            "possible_duplicates": [pk for pk in stored if pk in visible],
        }
        return Response(IntakeResultSerializer(body).data, status=record.status_code)

    @extend_schema(
        summary="A new 911 call from the CAD system",
        description="Matches the person by CAD person id, else by name and date of birth when exactly one person "
        "you may see is a strong match (same date of birth; names equal, a nickname, a typo or swapped: "
        "cases.matching) and no one else is likely; creates them otherwise, listing the likely duplicates in "
        "`possible_duplicates`; then creates the encounter. "
        "Posting the same incident number again returns the encounter already made (200 instead of 201).",
        request=IntakeInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: IntakeResultSerializer, 200: IntakeResultSerializer, **CREATE_ERRORS},
        examples=[
            OpenApiExample(
                "New call",
                request_only=True,
                value={
                    "cad_incident_number": "CAD-2026-000123",
                    "call_received_at": "2026-11-26T21:04:00-06:00",
                    "call_type": "Mental health crisis",
                    "location_text": "NW 23rd and Classen",
                    "person": {"legal_first_name": "Dana", "legal_last_name": "Reyes", "date_of_birth": "1990-04-02"},
                },
            )
        ],
    )
    @action(detail=False, methods=["post"])
    def intake(self, request):
        data = validated(IntakeInput, request)
        with transaction.atomic():
            result = intake.intake_call(by=request.user, **data)
            action = Action.CREATE if result.created_encounter else Action.VIEW
            audit(request, [result.encounter], action=action)
            if result.individual is not None:
                audit(request, [result.individual], action=Action.CREATE if result.created_individual else Action.VIEW)
        body = {
            "encounter": result.encounter,
            "individual_id": result.individual.pk if result.individual else None,
            "created_individual": result.created_individual,
            "created_encounter": result.created_encounter,
            "possible_duplicates": list(result.possible_duplicates),
        }
        code = status.HTTP_201_CREATED if result.created_encounter else status.HTTP_200_OK
        return Response(IntakeResultSerializer(body).data, status=code)


def _team_member(user, pk: int | None, field: str) -> User | None:
    """A colleague named by id; the service checks role and program (someone else's id is a 400)."""
    if pk is None:
        return None
    member = User.objects.filter(pk=pk, program_id=user.program_id).first()
    if member is None:
        raise ValidationError({field: ["Not a member of your program."]})
    return member


@_documented("Cases", CaseSerializer)
class CaseViewSet(mixins.CreateModelMixin, AuditedViewSet):
    queryset = Case.objects.none()
    serializer_class = CaseSerializer
    filterset_class = CaseFilter

    def _may_change(self, case: Case) -> None:
        if not self.request.user.has_perm("cases.change_case"):
            raise PermissionDenied("Your role cannot close or reopen a case.")

    @extend_schema(
        summary="Open a case (with its follow-up schedule from the program's rules)",
        description="From an encounter (the CAD integration after a call) or for a person. Opening the same "
        "encounter's case again returns the case already opened (200 instead of 201).",
        request=CaseOpenInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: CaseSerializer, 200: CaseSerializer, **CREATE_ERRORS},
    )
    def create(self, request, *args, **kwargs):
        data = validated(CaseOpenInput, request)
        person = referenced(Individual.objects.visible_to(request.user), data["individual"], "Person")
        encounter = referenced(Encounter.objects.visible_to(request.user), data["encounter"], "Encounter")
        navigator = _team_member(request.user, data["navigator"], "navigator")
        peer = _team_member(request.user, data["peer"], "peer")
        with transaction.atomic():
            cases = Case.objects.system("the encounter's case: opening it twice answers with the first one")
            existed = encounter is not None and cases.filter(encounter=encounter, individual=person).exists()
            case = open_case(individual=person, by=request.user, encounter=encounter, navigator=navigator, peer=peer)
            if existed:
                audit(request, [case], action=Action.VIEW)
                return Response(CaseSerializer(case).data, status=status.HTTP_200_OK)
            return self.created(request, case)

    @extend_schema(
        summary="Close a case with a reason, deciding each open referral (keep or cancel)",
        request=CaseCloseInput,
        responses={200: CaseSerializer, **CREATE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        case = self.get_object()
        self._may_change(case)
        data = validated(CaseCloseInput, request)
        decisions = {row["referral"]: row["decision"] for row in data["referrals"]}
        with transaction.atomic():
            closed = close_case(case, by=request.user, reason=data["reason"], referrals=decisions)
            return self.updated(request, closed)

    @extend_schema(
        summary="Reopen a closed case (or, after the program's window, open a new case linked to it)",
        request=None,
        responses={200: CaseSerializer, 201: CaseSerializer, **CREATE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        case = self.get_object()
        self._may_change(case)
        with transaction.atomic():
            reopened = reopen_case(case, by=request.user)
            if reopened.pk != case.pk:
                return self.created(request, reopened)
            return self.updated(request, reopened)


@_documented("Contacts", ContactSerializer)
class ContactViewSet(mixins.CreateModelMixin, AuditedViewSet):
    queryset = Contact.objects.none()
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    pagination_class = paginated_by("-occurred_at", "-id")

    @_creates("Log a contact (a reached contact answers a due follow-up)", ContactInput, ContactSerializer)
    def create(self, request, *args, **kwargs):
        data = validated(ContactInput, request)
        case = referenced(Case.objects.visible_to(request.user), data.pop("case"), "Case")
        with transaction.atomic():
            return self.created(request, log_contact(case, by=request.user, **data))


@_documented("Follow-ups", FollowUpSerializer)
class FollowUpViewSet(AuditedViewSet):
    queryset = FollowUp.objects.none()
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter
    pagination_class = paginated_by("due_at", "id")

    @extend_schema(
        summary="Dismiss a missed follow-up with a reason (it leaves the lists)",
        request=FollowUpDismissInput,
        responses={200: FollowUpSerializer, **CREATE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        follow_up = self.get_object()
        data = validated(FollowUpDismissInput, request)
        with transaction.atomic():
            return self.updated(request, dismiss_follow_up(follow_up, by=request.user, reason=data["reason"]))


@_documented("Consents", ConsentSerializer)
class ConsentViewSet(mixins.CreateModelMixin, AuditedViewSet):
    queryset = Consent.objects.none()
    serializer_class = ConsentSerializer
    filterset_class = ConsentFilter
    pagination_class = paginated_by("-given_at", "-id")

    @_creates("Record a consent (one recipient: an organisation or a need domain)", ConsentInput, ConsentSerializer)
    def create(self, request, *args, **kwargs):
        data = validated(ConsentInput, request)
        individual = referenced(Individual.objects.visible_to(request.user), data.pop("individual"), "Person")
        data["recipient_organization"] = referenced(
            Organization.objects.all(), data["recipient_organization"], "Organisation"
        )
        with transaction.atomic():
            return self.created(request, intake.record_consent(individual, by=request.user, **data))
