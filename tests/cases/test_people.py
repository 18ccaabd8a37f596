"""People services as the team uses them: adding someone only after looking at their likely
duplicates, editing details, merging two records of one person and undoing it, and the support
network with consent to contact. Bad input is a clear ValidationError and changes nothing."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import BreakGlassGrant
from cases import intake, matching
from cases import people as services
from cases.models import Case, Consent, Encounter, Individual, PersonMerge, SupportContact
from referrals.models import Referral
from tests import factories as f

BORN = date(1990, 4, 2)


@pytest.fixture
def dana(program):
    return f.IndividualFactory(
        program=program, legal_first_name="Dana", legal_last_name="Reyes", date_of_birth=BORN, phone=""
    )


def counts():
    return {model: model.objects.count() for model in (Individual, SupportContact, Consent, PersonMerge)}


def code_of(caught) -> str:
    return caught.value.code


# --- likely duplicates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "born"),
    [
        ("Dana", "Reyez", BORN),  # a typo
        ("dana", "REYES", BORN),  # case
        ("Reyes", "Dana", BORN),  # swapped
        ("Dana", "Reyes", date(1990, 2, 4)),  # day and month swapped
        ("Dana", "Reyes", None),  # no date of birth given
    ],
)
def test_find_duplicates_finds_the_person_despite_typos_swaps_and_dates(dana, navigator, first, last, born):
    found = services.find_duplicates(navigator, matching.Person(first, last, born))
    assert [person for person, _ in found.visible] == [dana]
    assert found.hidden == 0


def test_find_duplicates_finds_a_nickname_through_the_preferred_name(program, navigator):
    robert = f.IndividualFactory(
        program=program, legal_first_name="Robert", legal_last_name="Miller", date_of_birth=BORN
    )
    found = services.find_duplicates(navigator, matching.Person("Bob", "Miller", BORN))
    assert [person for person, _ in found.visible] == [robert]


def test_find_duplicates_never_counts_another_programs_person(dana, navigator_elsewhere, navigator):
    found = services.find_duplicates(navigator_elsewhere, matching.Person("Dana", "Reyes", BORN))
    assert not found and found.hidden == 0


def test_a_duplicate_a_peer_may_not_see_is_counted_never_named(dana, peer):
    found = services.find_duplicates(peer, matching.Person("Dana", "Reyes", BORN))
    assert found.visible == [] and found.hidden == 1
    assert bool(found)


def test_find_duplicates_skips_merged_away_records(dana, program, navigator):
    f.IndividualFactory(
        program=program, legal_first_name="Dana", legal_last_name="Reyes", date_of_birth=BORN, merged_into=dana
    )
    found = services.find_duplicates(navigator, matching.Person("Dana", "Reyes", BORN))
    assert [person for person, _ in found.visible] == [dana]


def test_find_duplicates_reads_the_program_in_two_queries(dana, program, navigator, django_assert_num_queries):
    for n in range(5):
        f.IndividualFactory(program=program, legal_first_name=f"Dana{n}x", legal_last_name="Reyes")
    navigator.groups.all()  # roles are read once per user object
    services.find_duplicates(navigator, matching.Person("Dana", "Reyes", BORN))  # warms the role cache
    with django_assert_num_queries(2):  # 1: five columns and visible_to of every person; 2: the ones shown
        services.find_duplicates(navigator, matching.Person("Dana", "Reyes", BORN))


def test_search_people_finds_typos_and_nicknames_and_counts_the_hidden(dana, program, peer, navigator):
    found, hidden = services.search_people(navigator, q="dana reyez")
    assert found == [dana] and hidden == []
    found, hidden = services.search_people(navigator, q="rey")  # part of a name, as before
    assert found == [dana]
    found, hidden = services.search_people(navigator, date_of_birth=date(1990, 4, 20))  # one digit off
    assert found == [dana]
    found, hidden = services.search_people(peer, q="dana")
    assert found == [] and hidden == [dana.pk]


# --- adding a person ----------------------------------------------------------------------------


def test_add_person_refuses_while_a_likely_duplicate_exists_and_adds_once_confirmed(dana, navigator):
    before = counts()
    with pytest.raises(ValidationError) as caught:
        services.add_person(by=navigator, legal_first_name="Dana", legal_last_name="Reyez", date_of_birth=BORN)
    assert code_of(caught) == "possible_duplicate"
    assert counts() == before

    added = services.add_person(
        by=navigator, confirm_new=True, legal_first_name="Dana", legal_last_name="Reyez", date_of_birth=BORN
    )
    assert added.program_id == navigator.program_id and added.legal_last_name == "Reyez"


def test_a_hidden_duplicate_also_stops_an_add_without_naming_anyone(dana, program):
    # a clinician sees everyone; a user who sees only a caseload but may add people does not exist
    # today, so the rule is checked through find_duplicates above and add_person's refusal here.
    clinician = f.UserFactory(program=program, roles=["clinician"])
    with pytest.raises(ValidationError) as caught:
        services.add_person(by=clinician, legal_first_name="Reyes", legal_last_name="Dana", date_of_birth=BORN)
    assert "Reyes" not in str(caught.value.messages) and code_of(caught) == "possible_duplicate"


@pytest.mark.parametrize("role", ["navigator", "clinician", "paramedic", "supervisor"])
def test_these_roles_add_people_with_every_detail(program, role):
    user = f.UserFactory(program=program, roles=[role])
    person = services.add_person(
        by=user,
        legal_first_name=" Ana ",
        legal_last_name="Lopez",
        preferred_name="Annie",
        pronouns="she/her",
        date_of_birth=date(1985, 1, 2),
        phone="405-555-0142",
        email="ana@example.org",
        where_staying="Under the 10th St bridge",
        housing_status="unsheltered",
        primary_language="ES",
        needs_interpreter=True,
        race_ethnicity="hispanic",
        gender="woman",
        cad_person_id="CAD-1",
        mrn="MRN-2",
        hmis_id="H-3",
        is_do_not_contact=False,
        safe_contact_channels=["text", "text", "in_person"],
        safe_contact_times="after 3 pm",
        responder_safety_notes="Dog in the yard.",
    )
    person.refresh_from_db()
    assert (person.legal_first_name, person.primary_language) == ("Ana", "es")
    assert person.safe_contact_channels == ["text", "in_person"]
    assert person.housing_status == "unsheltered" and person.hmis_id == "H-3"


def test_a_peer_cannot_add_people(peer):
    with pytest.raises(ValidationError) as caught:
        services.add_person(by=peer, legal_first_name="Ana", legal_last_name="Lopez")
    assert code_of(caught) == "forbidden"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"legal_first_name": "", "legal_last_name": "Lopez"}, "legal first name is required"),
        ({"legal_first_name": "Ana", "legal_last_name": "   "}, "legal last name is required"),
        ({"legal_first_name": "Ana"}, "legal last name is required"),
        ({"legal_first_name": "A" * 101, "legal_last_name": "Lopez"}, "at most 100"),
        ({"legal_first_name": "Ana", "legal_last_name": "Lopez", "date_of_birth": date(2999, 1, 1)}, "future"),
        ({"legal_first_name": "Ana", "legal_last_name": "Lopez", "date_of_birth": date(1850, 1, 1)}, "1900"),
        ({"legal_first_name": "Ana", "legal_last_name": "Lopez", "date_of_birth": "1985-01-02"}, "must be a date"),
        ({"legal_first_name": "Ana", "legal_last_name": "Lopez", "housing_status": "castle"}, "Unknown"),
        ({"legal_first_name": "Ana", "legal_last_name": "Lopez", "safe_contact_channels": ["fax"]}, "channel"),
        ({"legal_first_name": "Ana", "legal_last_name": "Lopez", "safe_contact_channels": "text"}, "list"),
        ({"legal_first_name": "Ana", "legal_last_name": "Lopez", "email": "not-an-email"}, "valid email"),
        ({"legal_first_name": "Ana", "legal_last_name": "Lopez", "primary_language": "english"}, "letter code"),
        ({"legal_first_name": "Ana", "legal_last_name": "Lopez", "is_do_not_contact": "yes"}, "true or false"),
        ({"legal_first_name": "Ana", "legal_last_name": "Lopez", "risk_level": "high"}, "Not fields"),
        ({"legal_first_name": "Ana", "legal_last_name": "Lopez", "program_id": 9}, "Not fields"),
    ],
)
def test_add_person_refuses_bad_input_clearly_and_adds_nothing(navigator, fields, message):
    before = counts()
    with pytest.raises(ValidationError) as caught:
        services.add_person(by=navigator, confirm_new=True, **fields)
    assert code_of(caught) == "invalid"
    assert message in " ".join(caught.value.messages)
    assert counts() == before


# --- editing ------------------------------------------------------------------------------------


def test_update_person_changes_only_what_is_given(dana, navigator):
    services.update_person(dana, by=navigator, is_do_not_contact=True, safe_contact_channels=["text"])
    dana.refresh_from_db()
    assert dana.is_do_not_contact and dana.safe_contact_channels == ["text"] and dana.legal_first_name == "Dana"


def test_update_person_refuses_bad_input_and_changes_nothing(dana, navigator):
    with pytest.raises(ValidationError):
        services.update_person(dana, by=navigator, pronouns="they/them", legal_last_name="")
    dana.refresh_from_db()
    assert dana.pronouns == "" and dana.legal_last_name == "Reyes"


def test_another_programs_person_is_not_found_and_a_peer_cannot_edit(person_elsewhere, navigator, peer, dana):
    with pytest.raises(ValidationError) as caught:
        services.update_person(person_elsewhere, by=navigator, pronouns="x")
    assert code_of(caught) == "not_found"
    with pytest.raises(ValidationError) as caught:
        services.update_person(dana, by=peer, pronouns="x")
    assert code_of(caught) == "not_found"  # not on the peer's caseload: not even there


@pytest.fixture
def person_elsewhere(other_program):
    return f.IndividualFactory(program=other_program)


# --- merging ------------------------------------------------------------------------------------


@pytest.fixture
def twin(program, navigator):
    """A second record of Dana, made by intake with a typo, with a history of its own."""
    twin = f.IndividualFactory(
        program=program,
        legal_first_name="Dana",
        legal_last_name="Reyez",
        date_of_birth=BORN,
        phone="405-555-0199",
        is_do_not_contact=True,
        responder_safety_notes="Carries a knife.",
        risk_level="high",
    )
    encounter = f.EncounterFactory(program=program, individual=twin)
    case = f.CaseFactory(program=program, individual=twin, encounter=encounter, navigator=navigator)
    f.ContactFactory(case=case, made_by=navigator)
    f.SafetyPlanFactory(case=case, created_by=navigator)
    f.SupportContactFactory(individual=twin)
    f.ConsentFactory(individual=twin, recorded_by=navigator)
    f.ReferralFactory(program=program, individual=twin, case=case, created_by=navigator)
    return twin


def rows_of(person) -> dict[str, int]:
    return {
        "encounters": Encounter.objects.filter(individual=person).count(),
        "cases": Case.objects.filter(individual=person).count(),
        "consents": Consent.objects.filter(individual=person).count(),
        "support": SupportContact.objects.filter(individual=person).count(),
        "referrals": Referral.objects.filter(individual=person).count(),
    }


def test_every_relation_to_a_person_is_moved_or_kept_on_purpose():
    relations = {
        relation.related_model._meta.label_lower
        for relation in Individual._meta.related_objects
        if relation.related_model is not Individual and relation.concrete is False
    }
    relations.discard("audit.accesslog")  # related_name "+": audit rows are never rewritten
    assert relations <= set(services.MOVED_RELATIONS) | set(services.KEPT_RELATIONS)
    assert set(services.MOVED_RELATIONS) | set(services.KEPT_RELATIONS) <= relations | {"audit.accesslog"}


def test_a_merge_moves_everything_to_the_survivor_and_the_old_id_points_there(dana, twin, supervisor):
    version = Referral.objects.get(individual=twin).version
    merge = services.merge_people(survivor=dana, merged=twin, by=supervisor, reason="Same person, intake typo.")

    assert rows_of(twin) == dict.fromkeys(rows_of(twin), 0)
    assert rows_of(dana) == {"encounters": 1, "cases": 1, "consents": 1, "support": 1, "referrals": 1}
    assert Referral.objects.get(individual=dana).version == version + 1  # partners see the new subject
    dana.refresh_from_db()
    twin.refresh_from_db()
    assert twin.merged_into == dana
    assert dana.phone == "405-555-0199"  # an empty field filled
    assert dana.is_do_not_contact and dana.risk_level == "high"  # the safer flags
    assert dana.responder_safety_notes == "Carries a knife."
    assert (merge.merged_by, merge.reason, merge.survivor, merge.merged) == (
        supervisor,
        "Same person, intake typo.",
        dana,
        twin,
    )
    assert services.resolve_person(supervisor, twin.pk) == (dana, twin)


def test_undo_moves_the_rows_back_and_restores_what_the_merge_filled(dana, twin, supervisor, navigator):
    before_dana, before_twin = rows_of(dana), rows_of(twin)
    merge = services.merge_people(survivor=dana, merged=twin, by=supervisor, reason="Same person.")
    later = f.SupportContactFactory(individual=dana)  # added to the survivor after the merge: stays
    services.undo_merge(merge, by=supervisor, reason="Two people after all: twins.")

    assert rows_of(twin) == before_twin
    assert rows_of(dana) == {**before_dana, "support": before_dana["support"] + 1}
    assert SupportContact.objects.get(pk=later.pk).individual == dana
    dana.refresh_from_db()
    twin.refresh_from_db()
    assert twin.merged_into is None
    assert (dana.phone, dana.is_do_not_contact, dana.risk_level, dana.responder_safety_notes) == ("", False, "none", "")
    merge.refresh_from_db()
    assert merge.undone_by == supervisor and merge.undo_reason == "Two people after all: twins."
    assert services.resolve_person(supervisor, twin.pk) == (twin, None)


def test_undo_keeps_a_field_someone_changed_after_the_merge(dana, twin, supervisor):
    merge = services.merge_people(survivor=dana, merged=twin, by=supervisor, reason="Same person.")
    services.update_person(dana, by=supervisor, phone="405-555-0000")
    services.undo_merge(merge, by=supervisor, reason="Not the same.")
    dana.refresh_from_db()
    assert dana.phone == "405-555-0000"


def test_merges_chain_and_undo_must_go_back_in_order(dana, twin, program, supervisor):
    third = f.IndividualFactory(program=program, legal_first_name="Dana", legal_last_name="Reyes")
    first = services.merge_people(survivor=dana, merged=twin, by=supervisor, reason="Same person.")
    services.merge_people(survivor=third, merged=dana, by=supervisor, reason="Same person again.")
    assert services.resolve_person(supervisor, twin.pk) == (third, twin)
    with pytest.raises(ValidationError) as caught:
        services.undo_merge(first, by=supervisor, reason="Oops.")
    assert code_of(caught) == "invalid_transition"


def test_merge_leaves_break_glass_grants_on_the_record_they_named(dana, twin, peer, supervisor, program):
    now = timezone.now()
    grant = BreakGlassGrant.objects.create(
        user=peer, program=program, individual=twin, reason="Family called.", started_at=now,
        expires_at=now + timedelta(hours=1),
    )  # fmt: skip
    services.merge_people(survivor=dana, merged=twin, by=supervisor, reason="Same person.")
    grant.refresh_from_db()
    assert grant.individual == twin


@pytest.mark.parametrize("role", ["navigator", "clinician", "paramedic", "peer"])
def test_only_a_supervisor_merges(dana, twin, program, role):
    user = f.UserFactory(program=program, roles=[role])
    with pytest.raises(ValidationError) as caught:
        services.merge_people(survivor=dana, merged=twin, by=user, reason="Same person.")
    assert code_of(caught) == "forbidden"
    assert Individual.objects.get(pk=twin.pk).merged_into is None


def test_merge_refuses_bad_input_and_changes_nothing(dana, twin, supervisor, other_program):
    elsewhere = f.IndividualFactory(program=other_program)
    before = rows_of(twin)
    cases = [
        ({"survivor": dana, "merged": twin, "reason": "  "}, "invalid"),
        ({"survivor": dana, "merged": dana, "reason": "Same."}, "invalid"),
        ({"survivor": dana, "merged": elsewhere, "reason": "Same."}, "not_found"),
        ({"survivor": elsewhere, "merged": twin, "reason": "Same."}, "not_found"),
        ({"survivor": dana, "merged": "twin", "reason": "Same."}, "invalid"),
        ({"survivor": dana, "merged": twin, "reason": "x" * 501}, "invalid"),
    ]
    for kwargs, code in cases:
        with pytest.raises(ValidationError) as caught:
            services.merge_people(by=supervisor, **kwargs)
        assert code_of(caught) == code, kwargs
    assert rows_of(twin) == before and PersonMerge.objects.count() == 0


def test_a_merged_away_record_cannot_be_merged_edited_or_given_consents(dana, twin, program, supervisor):
    services.merge_people(survivor=dana, merged=twin, by=supervisor, reason="Same person.")
    other = f.IndividualFactory(program=program)
    for call in (
        lambda: services.merge_people(survivor=other, merged=twin, by=supervisor, reason="Again."),
        lambda: services.update_person(twin, by=supervisor, pronouns="x"),
        lambda: services.add_support_contact(twin, by=supervisor, name="Al", relationship="friend"),
    ):
        with pytest.raises(ValidationError) as caught:
            call()
        assert code_of(caught) == "invalid_transition"


def test_undo_twice_is_refused(dana, twin, supervisor, navigator):
    merge = services.merge_people(survivor=dana, merged=twin, by=supervisor, reason="Same person.")
    with pytest.raises(ValidationError) as caught:
        services.undo_merge(merge, by=navigator, reason="No.")
    assert code_of(caught) == "forbidden"
    services.undo_merge(merge, by=supervisor, reason="Twins.")
    with pytest.raises(ValidationError) as caught:
        services.undo_merge(merge, by=supervisor, reason="Twins.")
    assert code_of(caught) == "invalid_transition"


# --- the support network and consent to contact -------------------------------------------------


def test_add_edit_and_end_a_support_contact_ends_consent_to_contact_them(dana, navigator):
    mother = services.add_support_contact(
        dana, by=navigator, name="Maria Reyes", relationship="mother", phone="405-555-0101", is_caregiver=True
    )
    consent = intake.record_consent(
        dana,
        by=navigator,
        method=Consent.Method.VERBAL,
        witness_name="Pete Peer",
        given_at=timezone.now(),
        purpose=Consent.Purpose.CONTACT,
        recipient_support_contact=mother,
    )
    assert consent.is_active_at(timezone.now())
    services.update_support_contact(mother, by=navigator, phone="405-555-0102")
    services.end_support_contact(mother, by=navigator)
    mother.refresh_from_db()
    consent.refresh_from_db()
    assert mother.phone == "405-555-0102" and mother.ended_at is not None
    assert consent.revoked_at is not None
    with pytest.raises(ValidationError) as caught:
        services.update_support_contact(mother, by=navigator, phone="1")
    assert code_of(caught) == "invalid_transition"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "", "relationship": "mother"}, "name is required"),
        ({"name": "Maria", "relationship": ""}, "relationship is required"),
        ({"name": "Maria", "relationship": "mother", "email": "nope"}, "valid email"),
        ({"name": "Maria", "relationship": "mother", "is_caregiver": "yes"}, "true or false"),
        ({"name": "Maria", "relationship": "mother", "is_consented_to_contact": True}, "Not fields"),
    ],
)
def test_support_contact_bad_input_is_refused(dana, navigator, fields, message):
    with pytest.raises(ValidationError) as caught:
        services.add_support_contact(dana, by=navigator, **fields)
    assert message in " ".join(caught.value.messages)
    assert SupportContact.objects.count() == 0


def test_a_peer_keeps_the_network_of_their_caseload_only(dana, program, peer):
    with pytest.raises(ValidationError) as caught:
        services.add_support_contact(dana, by=peer, name="Maria", relationship="mother")
    assert code_of(caught) == "not_found"
    f.CaseFactory(program=program, individual=dana, peer=peer)
    assert services.add_support_contact(dana, by=peer, name="Maria", relationship="mother").individual == dana


def test_consent_to_contact_is_recorded_as_consent_elsewhere(dana, program, navigator):
    contact = f.SupportContactFactory(individual=dana)
    someone_elses = f.SupportContactFactory(individual=f.IndividualFactory(program=program))
    base = {"by": navigator, "given_at": timezone.now(), "recipient_support_contact": contact}
    bad = [
        ({**base, "method": "verbal", "purpose": "contact"}, "witness"),
        ({**base, "method": "written", "purpose": "referral"}, "contact them or to share"),
        ({**base, "method": "not_recorded", "purpose": "contact"}, "Unknown consent method"),
        ({**base, "method": "written", "purpose": "contact", "recipient_category": "housing"}, "one recipient"),
        ({**base, "method": "written", "purpose": "contact", "recipient_support_contact": someone_elses}, "network"),
        ({"by": navigator, "given_at": timezone.now(), "method": "written", "purpose": "contact"}, "support network"),
    ]
    for kwargs, message in bad:
        with pytest.raises(ValidationError) as caught:
            intake.record_consent(dana, **kwargs)
        assert message in " ".join(caught.value.messages), kwargs
    assert Consent.objects.count() == 0
    consent = intake.record_consent(dana, **base, method="written", purpose="family")
    assert consent.recipient_support_contact == contact and consent.recorded_by == navigator
    revoked = intake.revoke_consent(consent, by=navigator)
    assert revoked.revoked_at is not None
    assert intake.revoke_consent(consent, by=navigator).revoked_at == revoked.revoked_at  # once


# --- CAD intake uses the same matching ----------------------------------------------------------


def call(navigator, number, **person):
    return intake.intake_call(
        by=navigator,
        cad_incident_number=number,
        call_received_at=timezone.now() - timedelta(minutes=5),
        person=person,
    )


def test_intake_links_a_strong_match_despite_a_typo(dana, clinician):
    result = call(clinician, "CAD-1", legal_first_name="Dana", legal_last_name="Reyez", date_of_birth=BORN)
    assert result.individual == dana and not result.created_individual


def test_intake_creates_and_lists_likely_duplicates_it_cannot_be_sure_of(dana, clinician):
    result = call(clinician, "CAD-2", legal_first_name="Dana", legal_last_name="Reyes", date_of_birth=date(1990, 2, 4))
    assert result.created_individual and result.possible_duplicates == (dana.pk,)


def test_intake_follows_a_merged_cad_id_to_the_survivor(dana, twin, clinician, supervisor):
    twin.cad_person_id = "P-77"
    twin.save()
    services.merge_people(survivor=dana, merged=twin, by=supervisor, reason="Same person.")
    Individual.objects.filter(pk=dana.pk).update(cad_person_id="")  # as if the survivor never took it
    result = call(clinician, "CAD-3", cad_person_id="P-77", legal_first_name="X", legal_last_name="Y")
    assert result.individual == dana and not result.created_individual
