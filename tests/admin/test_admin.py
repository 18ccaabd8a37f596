"""The admin, through the test client, signed in as the staff admin of one program.

The generic tests walk admin.site._registry, so a newly registered model is covered the moment it
is registered (and fails loudly until tests/admin/conftest.py knows how to make one).
"""

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.forms import CheckboxInput, MultiWidget, SelectMultiple
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.admin import ScopedAdmin
from accounts.credentials import hash_key
from accounts.models import BreakGlassGrant, LoginFailure, Program, RecoveryCode, StaffToken, TwoFactorDevice, User
from accounts.roles import Role
from audit.models import AccessLog
from cases.models import (
    Assessment,
    Case,
    Consent,
    Contact,
    Encounter,
    EncounterResponder,
    FollowUp,
    Individual,
    PersonMerge,
    SafetyPlan,
    SupportContact,
)
from inbox.models import Item
from providers.models import IdempotencyRecord, Organization, PartnerCredential, Service, ServiceCapacity
from referrals.models import Delivery, DeliveryAttempt, Referral, ReferralEvent
from tests import factories as f

OUR_APPS = ("accounts", "providers", "cases", "referrals")
REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)
ALL_MODELS = [pytest.param(model, id=model._meta.label) for model in REGISTERED]
SCOPED_MODELS = [
    pytest.param(model, id=model._meta.label)
    for model in REGISTERED
    if isinstance(admin.site._registry[model], ScopedAdmin)
]
PERSON_DATA = (
    Individual,
    PersonMerge,
    SupportContact,
    Encounter,
    EncounterResponder,
    Assessment,
    Case,
    FollowUp,
    Contact,
    SafetyPlan,
    Consent,
    Referral,
    ReferralEvent,
    Delivery,
    DeliveryAttempt,
    Item,
)
# Made elsewhere: every person's record by the services on the staff pages and the API (people,
# encounters, cases, contacts, consents, referrals, safety plans, merges, history, inbox items);
# programs by a superuser.
NOT_ADDED_HERE = {*PERSON_DATA, Program, PersonMerge}
# Sign-in security rows are made by accounts.twofactor, accounts.lockout and accounts.breakglass.
NOT_ADDED_HERE |= {TwoFactorDevice, RecoveryCode, LoginFailure, BreakGlassGrant, AccessLog, IdempotencyRecord}
# What the makers make is view-only for the staff admin: the above (a sent referral, another program).
VIEW_ONLY = NOT_ADDED_HERE
# Partner access serves every program: only a network admin reaches these (docs/decisions/014). The
# generic tests walk them as the network admin; test_partner_access_is_a_network_admins says the rest.
NETWORK_ONLY = {PartnerCredential}


@pytest.fixture
def console(staff_client, network_client):
    """The client that administers `model`: the network admin for NETWORK_ONLY, else the staff admin."""
    return lambda model: network_client if model in NETWORK_ONLY else staff_client


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


# --- posting admin forms the way a browser does ---------------------------------------------


def _posted(bound_field) -> dict:
    widget = bound_field.field.widget
    widget = getattr(widget, "widget", widget)  # unwrap the related-object wrapper
    value, name = bound_field.value(), bound_field.html_name
    if isinstance(widget, CheckboxInput):
        return {name: "on"} if value else {}
    if isinstance(widget, MultiWidget):
        parts = value if isinstance(value, list | tuple) else widget.decompress(value)
        return {
            f"{name}{suffix}": sub.format_value(part) or ""
            for suffix, sub, part in zip(widget.widgets_names, widget.widgets, parts, strict=True)
        }
    formatted = widget.format_value(value)
    if isinstance(widget, SelectMultiple):
        return {name: formatted}
    if isinstance(formatted, list):
        formatted = formatted[0] if formatted else ""
    return {name: "" if formatted is None else formatted}


def form_data(page) -> dict:
    """What a browser would post back from this admin add or change page, untouched."""
    forms = [page.context["adminform"].form]
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        forms.extend(inline.formset.forms)
    for form in forms:
        for name in form.fields:
            data.update(_posted(form[name]))
    return data


def post_form(client, url, **changes):
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, {**form_data(page), **changes})


def form_errors(response) -> dict:
    """Every error on a re-rendered admin form, to make a failing assertion readable."""
    if response.context is None or "adminform" not in response.context:
        return {"status": response.status_code}
    errors = dict(response.context["adminform"].form.errors)
    for inline in response.context["inline_admin_formsets"]:
        errors.update({inline.formset.prefix: inline.formset.errors, "non_form": inline.formset.non_form_errors()})
    return errors


# --- every registered model -----------------------------------------------------------------


def test_every_model_of_our_apps_is_registered():
    missing = [
        model._meta.label
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models()
        if model not in admin.site._registry
    ]
    assert missing == []


def test_every_admin_of_personal_data_reads_through_visible_to():
    unscoped = [model._meta.label for model in PERSON_DATA if not isinstance(admin.site._registry[model], ScopedAdmin)]
    assert unscoped == []


def _changelist(client, model):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    return len(queries), response.context["cl"].result_count


@pytest.mark.parametrize("model", ALL_MODELS)
def test_changelist_loads_and_its_query_count_does_not_grow_with_rows(console, make, model):
    client = console(model)
    make(model)
    _changelist(client, model)  # warm per-process caches (content types and the like)
    queries_with_one, rows_before = _changelist(client, model)
    for _ in range(4):
        make(model)
    queries_with_five, rows_after = _changelist(client, model)
    assert rows_after == rows_before + 4
    assert queries_with_five == queries_with_one


@pytest.mark.parametrize("model", ALL_MODELS)
def test_add_page_loads_where_adding_is_allowed(console, model):
    response = console(model).get(admin_url(model, "add"))
    assert response.status_code == (403 if model in NOT_ADDED_HERE else 200)


@pytest.mark.parametrize("model", ALL_MODELS)
def test_change_page_loads(console, make, model):
    obj = make(model)
    response = console(model).get(admin_url(model, "change", obj.pk))
    assert response.status_code == 200
    assert response.context["original"].pk == obj.pk


@pytest.mark.parametrize("model", ALL_MODELS)
def test_change_form_posted_back_unchanged_saves_or_is_view_only(console, make, model):
    client = console(model)
    obj = make(model)
    url = admin_url(model, "change", obj.pk)
    page = client.get(url)
    assert page.context["has_change_permission"] is (model not in VIEW_ONLY)
    response = client.post(url, form_data(page))
    if model in VIEW_ONLY:
        assert response.status_code == 403
    else:
        assert response.status_code == 302, form_errors(response)
    assert model.objects.filter(pk=obj.pk).exists()


# --- scoping ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", SCOPED_MODELS)
def test_another_programs_record_is_neither_listed_nor_opened(staff_client, make, other_program, model):
    mine, theirs = make(model), make(model, program=other_program)
    listed = {obj.pk for obj in staff_client.get(admin_url(model, "changelist")).context["cl"].result_list}
    assert mine.pk in listed
    assert theirs.pk not in listed
    for view in ("change", "history", "delete"):
        assert staff_client.get(admin_url(model, view, theirs.pk)).status_code == 404
    assert staff_client.post(admin_url(model, "change", theirs.pk), {}).status_code == 404


def test_staff_admin_does_not_see_other_programs_individuals(staff_client, other_program):
    theirs = f.IndividualFactory(program=other_program, legal_first_name="Zelda", legal_last_name="Quartermaine")
    search = staff_client.get(admin_url(Individual, "changelist"), {"q": "Quartermaine"})
    assert search.context["cl"].result_count == 0
    assert b"Quartermaine" not in staff_client.get(admin_url(Individual, "changelist")).content
    page = staff_client.get(admin_url(Individual, "change", theirs.pk))
    assert page.status_code == 404
    assert b"Quartermaine" not in page.content
    assert b"Zelda" not in page.content


def test_a_hidden_record_looks_exactly_like_a_missing_one(staff_client, other_program):
    theirs = f.IndividualFactory(program=other_program)
    hidden = staff_client.get(admin_url(Individual, "change", theirs.pk))
    missing = staff_client.get(admin_url(Individual, "change", theirs.pk + 1000))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_staff_admin_does_not_see_other_programs_referrals(staff_client, program, other_program):
    mine = f.ReferralFactory(program=program)
    theirs = f.ReferralFactory(program=other_program, individual__legal_last_name="Quartermaine")
    listing = staff_client.get(admin_url(Referral, "changelist"))
    assert [referral.pk for referral in listing.context["cl"].result_list] == [mine.pk]
    assert b"Quartermaine" not in listing.content
    page = staff_client.get(admin_url(Referral, "change", theirs.pk))
    assert page.status_code == 404
    assert b"Quartermaine" not in page.content


def test_staff_admin_manages_own_programs_staff_only(staff_client, navigator, navigator_elsewhere, partner_user):
    listed = {user.pk for user in staff_client.get(admin_url(User, "changelist")).context["cl"].result_list}
    assert navigator.pk in listed
    assert partner_user.pk not in listed
    assert navigator_elsewhere.pk not in listed
    assert staff_client.get(admin_url(User, "change", navigator_elsewhere.pk)).status_code == 404


def test_non_staff_navigator_cannot_reach_the_admin(client, navigator, program):
    f.IndividualFactory(program=program)
    client.force_login(navigator)
    for url in ("/admin/", admin_url(Individual, "changelist"), admin_url(Individual, "add")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


def test_foreign_key_choices_stay_in_the_staff_admins_program(staff_client, navigator, navigator_elsewhere):
    form = staff_client.get(admin_url(StaffToken, "add")).context["adminform"].form
    assert navigator in form.fields["user"].queryset
    assert navigator_elsewhere not in form.fields["user"].queryset


# --- invalid data shows field errors and saves nothing -------------------------------------


def test_capacity_above_its_maximum_is_refused(staff_client):
    service = f.ServiceFactory()
    response = post_form(
        staff_client, admin_url(ServiceCapacity, "add"), service=service.pk, unit="beds", available=30, maximum=20
    )
    assert response.status_code == 200
    assert "available" in response.context["adminform"].form.errors
    assert "Available cannot be more than the maximum (20)." in response.text
    assert ServiceCapacity.objects.count() == 0


def test_saving_capacity_in_admin_stamps_its_freshness(staff_client):
    capacity = f.ServiceCapacityFactory(updated_at=timezone.now() - timedelta(days=30))
    response = post_form(staff_client, admin_url(ServiceCapacity, "change", capacity.pk), available=5)
    assert response.status_code == 302, form_errors(response)
    capacity.refresh_from_db()
    assert capacity.available == 5
    assert timezone.now() - capacity.updated_at < timedelta(minutes=1)


def test_service_with_minimum_age_above_maximum_is_refused(staff_client, partner_org):
    response = post_form(
        staff_client,
        admin_url(Service, "add"),
        organization=partner_org.pk,
        name="Youth shelter",
        need_domain="housing",
        min_age=65,
        max_age=18,
    )
    assert response.status_code == 200
    assert "min_age" in response.context["adminform"].form.errors
    assert "The minimum age cannot be above the maximum age (18)." in response.text
    assert Service.objects.count() == 0


# --- person data is shown, never written, here ----------------------------------------------


@pytest.mark.parametrize("model", [pytest.param(m, id=m._meta.label) for m in PERSON_DATA])
def test_person_data_cannot_be_added_changed_or_deleted_in_admin(staff_client, make, model):
    """Written by the services on the staff pages and the API (follow-ups, derived risk, consent)."""
    obj = make(model)
    before = model.objects.filter(pk=obj.pk).values().get()
    assert staff_client.post(admin_url(model, "add"), {}).status_code == 403
    assert staff_client.post(admin_url(model, "change", obj.pk), {}).status_code == 403
    assert staff_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).values().get() == before


def test_sent_referral_cannot_be_changed_in_admin(staff_client, program):
    referral = f.ReferralFactory(program=program, status="requested")
    page = staff_client.get(admin_url(Referral, "change", referral.pk))
    assert page.status_code == 200
    assert not page.context["adminform"].form.fields  # every field shown read-only
    response = staff_client.post(admin_url(Referral, "change", referral.pk), {"reason": "changed"})
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.reason != "changed"


@pytest.mark.parametrize("model", [ReferralEvent, DeliveryAttempt, Item, Delivery], ids=lambda m: m._meta.label)
def test_history_outbox_and_alerts_cannot_be_added_changed_or_deleted(staff_client, make, model):
    obj = make(model)
    assert staff_client.post(admin_url(model, "add"), {}).status_code == 403
    assert staff_client.post(admin_url(model, "change", obj.pk), {}).status_code == 403
    assert staff_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_staff_admin_cannot_grant_superuser_or_loose_permissions(staff_client, navigator):
    response = post_form(staff_client, admin_url(User, "change", navigator.pk), is_superuser="on", last_name="Nguyen")
    assert response.status_code == 302, form_errors(response)
    navigator.refresh_from_db()
    assert navigator.last_name == "Nguyen"
    assert navigator.is_superuser is False


def test_user_cannot_be_both_staff_and_partner(network_client, program, partner_org, navigator):
    response = post_form(network_client, admin_url(User, "change", navigator.pk), partner_organization=partner_org.pk)
    assert response.status_code == 200
    assert "never both" in response.text
    navigator.refresh_from_db()
    assert navigator.partner_organization is None


# --- secrets ------------------------------------------------------------------------------------

SECRET = "whsec_" + "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3t" + "wxyz"


def test_webhook_secrets_are_never_shown_in_full(staff_client):
    organization = f.OrganizationFactory(
        channel=Organization.Channel.WEBHOOK,
        webhook_url="https://partner.example.org/hooks",
        webhook_secret=SECRET,
        webhook_previous_secret=SECRET.replace("wxyz", "abcd"),
    )
    page = staff_client.get(admin_url(Organization, "change", organization.pk))
    assert page.status_code == 200
    assert "S3cr3t" not in page.text
    assert "whsec_…wxyz" in page.text
    assert "whsec_…abcd" in page.text
    assert "webhook_secret" not in page.context["adminform"].form.fields
    assert "S3cr3t" not in staff_client.get(admin_url(Organization, "changelist")).text


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_new_webhook_partner_gets_a_secret_shown_once(network_client):
    response = post_form(
        network_client,
        admin_url(Organization, "add"),
        name="Harbor Light",
        channel=Organization.Channel.WEBHOOK,
        webhook_url="https://harbor.example.org/hooks",
    )
    assert response.status_code == 302, form_errors(response)
    organization = Organization.objects.get(name="Harbor Light")
    assert organization.webhook_secret.startswith("whsec_")
    shown = _messages(network_client.get(response.url))
    assert any(organization.webhook_secret in message for message in shown)
    again = network_client.get(admin_url(Organization, "change", organization.pk))
    assert organization.webhook_secret not in again.text


def test_webhook_partner_without_a_url_is_refused(network_client):
    response = post_form(network_client, admin_url(Organization, "add"), name="Nowhere", channel="webhook")
    assert response.status_code == 200
    assert "A webhook partner needs a webhook URL." in response.text
    assert not Organization.objects.filter(name="Nowhere").exists()


def test_rotating_the_webhook_secret_keeps_the_old_one_signing_for_a_while(network_client):
    organization = f.OrganizationFactory(
        channel=Organization.Channel.WEBHOOK, webhook_url="https://partner.example.org/hooks", webhook_secret=SECRET
    )
    response = network_client.post(
        admin_url(Organization, "changelist"),
        {"action": "rotate_webhook_secret", "_selected_action": [organization.pk]},
        follow=True,
    )
    organization.refresh_from_db()
    assert organization.webhook_previous_secret == SECRET
    assert organization.webhook_secret.startswith("whsec_")
    assert organization.webhook_secret != SECRET
    expires_in = organization.webhook_previous_secret_expires_at - timezone.now()
    assert timedelta(hours=23) < expires_in <= timedelta(hours=24)
    assert any(organization.webhook_secret in message for message in _messages(response))


def test_the_admin_rotates_a_webhook_secret_by_the_partner_apis_rule(network_client, monkeypatch):
    # One rotation (providers.services.rotate_webhook_secret) for the admin and the partner API: a
    # change of its overlap is the admin's too.
    monkeypatch.setattr("providers.services.WEBHOOK_ROTATION_OVERLAP", timedelta(hours=2))
    organization = f.OrganizationFactory(
        channel=Organization.Channel.WEBHOOK, webhook_url="https://partner.example.org/hooks", webhook_secret=SECRET
    )
    network_client.post(
        admin_url(Organization, "changelist"),
        {"action": "rotate_webhook_secret", "_selected_action": [organization.pk]},
    )
    organization.refresh_from_db()
    assert organization.webhook_previous_secret == SECRET
    assert timedelta(hours=1) < organization.webhook_previous_secret_expires_at - timezone.now() <= timedelta(hours=2)


KEY = re.compile(r"crt_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def test_partner_credential_key_is_shown_once_and_only_its_hash_is_stored(network_client, partner_org):
    response = post_form(network_client, admin_url(PartnerCredential, "add"), organization=partner_org.pk, name="CMS")
    assert response.status_code == 302, form_errors(response)
    assert "messages" not in response.cookies  # the message holding the secret stays server-side
    shown = " ".join(_messages(network_client.get(response.url)))
    keys = KEY.findall(shown)
    assert len(keys) == 1
    key = keys[0]
    credential = PartnerCredential.objects.get()
    assert credential.key_hash == hash_key(key)
    assert credential.prefix == key.split("_")[1]
    assert credential.matches(key)
    stored = [str(getattr(credential, field.attname)) for field in PartnerCredential._meta.concrete_fields]
    assert not any(key in value for value in stored)
    for url in (admin_url(PartnerCredential, "changelist"), admin_url(PartnerCredential, "change", credential.pk)):
        page = network_client.get(url)
        assert key not in page.text
        assert credential.key_hash not in page.text


def test_revoke_action_sets_revoked_at_on_active_keys_only(network_client, partner_org):
    active = f.PartnerCredentialFactory(organization=partner_org)
    revoked_before = timezone.now() - timedelta(days=3)
    old = f.PartnerCredentialFactory(organization=partner_org, revoked_at=revoked_before)
    network_client.post(
        admin_url(PartnerCredential, "changelist"), {"action": "revoke", "_selected_action": [active.pk, old.pk]}
    )
    active.refresh_from_db()
    old.refresh_from_db()
    assert active.revoked_at is not None
    assert not active.is_usable(timezone.now())
    assert old.revoked_at == revoked_before


# --- programs and users -------------------------------------------------------------------------


def test_staff_admin_changes_own_program_and_only_views_others(staff_client, program, other_program):
    response = post_form(staff_client, admin_url(Program, "change", program.pk), area_name="Central Oklahoma")
    assert response.status_code == 302, form_errors(response)
    program.refresh_from_db()
    assert program.area_name == "Central Oklahoma"
    page = staff_client.get(admin_url(Program, "change", other_program.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert staff_client.post(admin_url(Program, "change", other_program.pk), {"area_name": "x"}).status_code == 403


def test_staff_admin_adds_a_navigator_to_their_program(staff_client, program):
    navigators = Group.objects.get(name=Role.NAVIGATOR.label)
    response = post_form(
        staff_client,
        admin_url(User, "add"),
        username="new.navigator",
        usable_password="true",
        password1="a long and unusual passphrase",
        password2="a long and unusual passphrase",
        groups=[navigators.pk],
    )
    assert response.status_code == 302, form_errors(response)
    user = User.objects.get(username="new.navigator")
    assert user.program == program
    assert user.roles == {Role.NAVIGATOR}
    assert user.check_password("a long and unusual passphrase")


PERSONAL_WORDS = {
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "date_of_birth",
    "phone",
    "email",
    "address",
    "note",
    "next_step",
    "narrative",
    "reason",
    "witness_name",
    "responder_safety_notes",
}


def test_no_admin_search_of_person_data_puts_personal_words_in_the_url():
    """Admin searches are GET requests: what is typed lands in URLs and access logs."""
    offending = []
    for model, model_admin in admin.site._registry.items():
        if not hasattr(model._default_manager, "visible_to"):
            continue
        for field in model_admin.search_fields:
            last = field.lstrip("=^@").split("__")[-1]
            if last in PERSONAL_WORDS or (model._meta.model_name == "supportcontact" and last == "name"):
                offending.append(f"{model._meta.label}: {field}")
    assert offending == []
