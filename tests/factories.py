"""factory_boy factories for every model. Defaults build a valid, consistent record."""

from datetime import timedelta

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.credentials import hash_key
from accounts.models import Program, User
from accounts.roles import Role
from cases.models import (
    Assessment,
    Case,
    Consent,
    Contact,
    Encounter,
    EncounterResponder,
    FollowUp,
    Individual,
    SafetyPlan,
    SupportContact,
)
from inbox.models import Item
from inbox.models import Kind as ItemKind
from providers.models import (
    Location,
    NeedDomain,
    Organization,
    PartnerCredential,
    Service,
    ServiceAtLocation,
    ServiceCapacity,
)
from referrals.models import Delivery, DeliveryAttempt, Referral, ReferralEvent


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Crisis Response Program {n}")
    slug = factory.Sequence(lambda n: f"crt-{n}")
    area_name = "Oklahoma City"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    # Named after the username, never by chance: a random name ("Dana") once matched the person a
    # page must not show, and the page showed its viewer's name.
    first_name = factory.LazyAttribute(lambda u: u.username.split(".")[0].title())
    last_name = "Tester"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    program = factory.SubFactory(ProgramFactory)
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """UserFactory(roles=[Role.NAVIGATOR]) puts the user in those role groups."""
        if create and extracted:
            self.groups.add(*[Group.objects.get(name=Role(role).label) for role in extracted])


class StaffAdminFactory(UserFactory):
    is_staff = True
    roles = factory.PostGeneration(
        lambda user, create, extracted, **kw: create and user.groups.add(Group.objects.get(name=Role.STAFF_ADMIN.label))
    )


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Partner Agency {n}")
    description = "Community services."
    email = factory.Sequence(lambda n: f"intake{n}@partner.example.org")
    channel = Organization.Channel.PULL


class PartnerUserFactory(UserFactory):
    program = None
    partner_organization = factory.SubFactory(OrganizationFactory)
    roles = factory.PostGeneration(
        lambda user, create, extracted, **kw: create and user.groups.add(Group.objects.get(name=Role.PARTNER.label))
    )


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    need_domain = NeedDomain.HOUSING
    languages = factory.LazyFunction(lambda: ["en"])
    assured_at = factory.LazyFunction(timezone.now)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    address_1 = "100 N Main St"
    city = "Oklahoma City"
    state_province = "OK"
    postal_code = "73102"
    latitude = "35.467600"
    longitude = "-97.516400"


class ServiceAtLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceAtLocation

    service = factory.SubFactory(ServiceFactory)
    location = factory.SubFactory(LocationFactory, organization=factory.SelfAttribute("..service.organization"))
    hours = "Mon-Fri 8:00-17:00"


class ServiceCapacityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceCapacity

    service = factory.SubFactory(ServiceFactory)
    unit = "beds"
    available = 3
    maximum = 20
    updated_at = factory.LazyFunction(timezone.now)


class PartnerCredentialFactory(factory.django.DjangoModelFactory):
    """PartnerCredentialFactory(key="crt_...") stores that key's hash; the default key is random."""

    class Meta:
        model = PartnerCredential
        exclude = ("key",)

    organization = factory.SubFactory(OrganizationFactory)
    name = "case management system"
    key = factory.LazyFunction(lambda: PartnerCredential.new_key()[1])
    prefix = factory.LazyAttribute(lambda c: c.key.split("_")[1])
    key_hash = factory.LazyAttribute(lambda c: hash_key(c.key))


class IndividualFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Individual

    program = factory.SubFactory(ProgramFactory)
    legal_first_name = factory.Faker("first_name")
    legal_last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=18, maximum_age=80)
    phone = "405-555-0100"
    housing_status = Individual.HousingStatus.HOUSED


class SupportContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportContact

    individual = factory.SubFactory(IndividualFactory)
    name = factory.Faker("name")
    relationship = "sister"
    phone = "405-555-0101"


class EncounterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Encounter

    program = factory.SubFactory(ProgramFactory)
    individual = factory.SubFactory(IndividualFactory, program=factory.SelfAttribute("..program"))
    cad_incident_number = factory.Sequence(lambda n: f"CAD-{n:07d}")
    call_received_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=3))
    dispatched_at = factory.LazyAttribute(lambda e: e.call_received_at + timedelta(minutes=2))
    on_scene_at = factory.LazyAttribute(lambda e: e.dispatched_at + timedelta(minutes=14))
    cleared_at = factory.LazyAttribute(lambda e: e.on_scene_at + timedelta(minutes=55))
    reason_for_call = "Caller worried about a family member."
    disposition = Encounter.Disposition.STABILISED
    interventions = factory.LazyFunction(lambda: ["de_escalation"])


class EncounterResponderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EncounterResponder

    encounter = factory.SubFactory(EncounterFactory)
    user = factory.SubFactory(UserFactory, program=factory.SelfAttribute("..encounter.program"))
    role = "paramedic"


class AssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assessment

    encounter = factory.SubFactory(EncounterFactory)
    kind = Assessment.Kind.CSSRS
    performed_at = factory.LazyAttribute(lambda a: a.encounter.on_scene_at or timezone.now())
    heart_rate = 88
    cssrs_wish_dead = True
    cssrs_suicidal_thoughts = False
    cssrs_method = False
    cssrs_intent = False
    cssrs_plan = False
    cssrs_behavior = False
    risk_level = "low"


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    program = factory.SubFactory(ProgramFactory)
    individual = factory.SubFactory(IndividualFactory, program=factory.SelfAttribute("..program"))
    encounter = None
    navigator = None
    status = Case.Status.OPEN
    risk_level = "moderate"
    opened_at = factory.LazyFunction(timezone.now)


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    case = factory.SubFactory(CaseFactory)
    label = factory.Sequence(lambda n: f"f{n}")
    owner = factory.SelfAttribute("case.navigator")
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=24))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    case = factory.SubFactory(CaseFactory)
    made_by = factory.SubFactory(UserFactory, program=factory.SelfAttribute("..case.program"))
    occurred_at = factory.LazyFunction(timezone.now)
    method = Contact.Method.PHONE
    outcome = Contact.Outcome.REACHED
    duration_minutes = 10
    note = "Checked in; feeling steadier."


class SafetyPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SafetyPlan

    case = factory.SubFactory(CaseFactory)
    version = 1
    is_current = True
    warning_signs = factory.LazyFunction(lambda: ["not sleeping", "pulling away from friends"])
    coping_strategies = factory.LazyFunction(lambda: ["walk the dog"])
    help_contacts = factory.LazyFunction(lambda: [{"name": "Aunt", "phone": "405-555-0102"}])
    professional_contacts = factory.LazyFunction(lambda: [{"name": "988 Lifeline", "phone": "988"}])
    created_by = factory.SubFactory(UserFactory, program=factory.SelfAttribute("..case.program"))


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    individual = factory.SubFactory(IndividualFactory)
    recipient_organization = factory.SubFactory(OrganizationFactory)
    purpose = Consent.Purpose.REFERRAL
    method = Consent.Method.WRITTEN
    given_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=365))
    recorded_by = factory.SubFactory(UserFactory, program=factory.SelfAttribute("..individual.program"))


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    program = factory.SubFactory(ProgramFactory)
    individual = factory.SubFactory(IndividualFactory, program=factory.SelfAttribute("..program"))
    case = None
    service = factory.SubFactory(ServiceFactory)
    organization = factory.SelfAttribute("service.organization")
    need_domain = factory.SelfAttribute("service.need_domain")
    reason = "Needs stable housing after a crisis."
    status = "requested"
    requested_at = factory.LazyFunction(timezone.now)
    created_by = factory.SubFactory(UserFactory, program=factory.SelfAttribute("..program"))


class ReferralEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReferralEvent

    referral = factory.SubFactory(ReferralFactory)
    actor_kind = ReferralEvent.ActorKind.STAFF
    actor_user = factory.SelfAttribute("referral.created_by")
    from_status = "draft"
    to_status = "requested"


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    referral = factory.SubFactory(ReferralFactory)
    organization = factory.SelfAttribute("referral.organization")
    channel = Delivery.Channel.WEBHOOK
    event_type = "referral.requested"
    message_id = factory.Sequence(lambda n: f"msg_{n:012d}")
    payload = factory.LazyAttribute(lambda d: {"type": d.event_type, "data": {"referral_id": d.referral.pk}})
    next_attempt_at = factory.LazyFunction(timezone.now)


class DeliveryAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliveryAttempt

    delivery = factory.SubFactory(DeliveryFactory)
    attempted_at = factory.LazyFunction(timezone.now)
    status_code = 200
    duration_ms = 40
    completed_at = factory.SelfAttribute("attempted_at")


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    program = factory.SubFactory(ProgramFactory)
    kind = ItemKind.REFERRAL_UNANSWERED
    referral = factory.SubFactory(ReferralFactory, program=factory.SelfAttribute("..program"))
    individual = factory.LazyAttribute(lambda item: item.referral.individual if item.referral else None)
    recipient = factory.SubFactory(UserFactory, program=factory.SelfAttribute("..program"))
    level = 2
    cause_key = factory.Sequence(lambda n: f"test:{n}")
    created_at = factory.LazyFunction(timezone.now)
