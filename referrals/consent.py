"""Consent rules: may this person's referral go to this partner, right now?

Sharing anything with a partner checks consent at the moment of sending (DESIGN.md §3, §8):
`send_referral` calls `find_consent` and records the consent it used, and the delivery worker calls
`disclosure_allowed` before every attempt, so a revoked or expired consent stops the next one.

A consent of individual I covers a disclosure to organisation O, for need domain D and purpose P, at
time T, when every row below holds:

    | rule       | the consent must ...                                                      |
    |------------|---------------------------------------------------------------------------|
    | person     | belong to I                                                               |
    | purpose    | have purpose P exactly (a treatment consent does not cover a referral)    |
    | active     | be given at or before T, not be revoked, and expire after T (or never)    |
    | recipient  | name O; or name the category D while O offers a service in domain D       |
    |            | (in any status: the category says what kind of partner O is)              |
    | Part 2     | when the disclosure includes 42 CFR Part 2 (substance-use) information:   |
    |            | cover Part 2 records, and O must be allowed to receive them               |
    |            | (Organization.may_receive_part2); otherwise nothing covers it             |

When several consents apply, the one naming O wins over a category one; among equals the most
recently given (then the newest row) wins, so the answer is deterministic.

`need_domain=None` (for callers that do not know the referral's service) lets a category consent
cover O for any domain in which O offers a service.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, Exists, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone

from cases.models import Consent, Individual
from providers.models import NeedDomain, Organization, Service

# Our own wording of the notice 42 CFR §2.32 requires to travel with every disclosure of Part 2
# records: the records are federally protected, the recipient may not use or pass them on except as
# the person's written consent or Part 2 itself allows, a general release is not enough, and they
# may not be used against the person in proceedings or to investigate or prosecute them criminally.
PART2_REDISCLOSURE_NOTICE = (
    "Notice about substance-use disorder records (42 CFR part 2). "
    "The information disclosed to you here comes from records protected by federal confidentiality "
    "rules, 42 CFR part 2. You may not use it or disclose it further unless the person it is about "
    "has given written consent that expressly permits it, or part 2 itself allows it. A general "
    "authorisation to release medical or other information is not enough for this purpose. "
    "Neither these records nor testimony about what they contain may be used or disclosed in any "
    "civil, criminal, administrative or legislative proceeding against the person unless the person "
    "consents or a court orders it under part 2, and they may not be used to bring criminal charges "
    "against the person or to investigate them for a crime."
)


def _require_aware(at: datetime) -> None:
    if not isinstance(at, datetime) or timezone.is_naive(at):
        raise ValidationError("The time must be a timezone-aware datetime.", code="invalid")


def find_consent(
    individual: Individual,
    organization: Organization,
    *,
    need_domain: str | None = None,
    purpose: str = Consent.Purpose.REFERRAL,
    includes_part2: bool,
    at: datetime,
) -> Consent | None:
    """The consent that covers this disclosure by the table above, or None."""
    _require_aware(at)
    if need_domain is not None and need_domain not in NeedDomain.values:
        raise ValidationError("Unknown need domain.", code="invalid")
    if includes_part2 and not organization.may_receive_part2:
        return None

    # The need domains the organisation offers, as a subquery: one query answers the whole question.
    domains = Service.objects.filter(organization_id=organization.pk).values("need_domain")
    if need_domain is not None:
        domains = domains.filter(need_domain=need_domain)
    consents = Consent.objects.system("the consent rule: which consent covers this disclosure")
    candidates = consents.active(at).filter(individual_id=individual.pk, purpose=purpose)
    candidates = candidates.filter(Q(recipient_organization_id=organization.pk) | Q(recipient_category__in=domains))
    if includes_part2:
        candidates = candidates.filter(covers_part2=True)
    named_first = Case(
        When(recipient_organization_id=organization.pk, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return candidates.order_by(named_first, "-given_at", "-pk").first()


def disclosure_allowed(referral, *, at: datetime) -> bool:
    """Whether this referral may be disclosed to its partner now: the delivery worker asks before
    every attempt. True while its recorded consent, or another one, still covers it."""
    return (
        find_consent(
            referral.individual,
            referral.organization,
            need_domain=referral.need_domain,
            purpose=Consent.Purpose.REFERRAL,
            includes_part2=referral.includes_part2,
            at=at,
        )
        is not None
    )


def with_disclosure_allowed(referrals, *, at: datetime):
    """Annotate each referral with `disclosure_allowed_now`: the rule of find_consent, in the same
    query (a partner's list of 100 referrals must not ask 100 times). A category consent covers the
    referral's own need domain, which its organisation offers by construction."""
    _require_aware(at)
    consents = (
        Consent.objects.active(at)
        .filter(individual_id=OuterRef("individual_id"), purpose=Consent.Purpose.REFERRAL)
        .filter(
            Q(recipient_organization_id=OuterRef("organization_id")) | Q(recipient_category=OuterRef("need_domain"))
        )
    )
    return referrals.annotate(
        disclosure_allowed_now=Case(
            When(includes_part2=False, then=Exists(consents)),
            When(organization__may_receive_part2=True, then=Exists(consents.filter(covers_part2=True))),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def person_withheld(referral) -> bool:
    """True when the person's details may no longer be shown to the partner (consent withdrawn or
    expired). Uses the annotation when the referral came through with_disclosure_allowed."""
    allowed = getattr(referral, "disclosure_allowed_now", None)
    if allowed is None:
        allowed = disclosure_allowed(referral, at=timezone.now())
    return not allowed
