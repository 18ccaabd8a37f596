"""Django admin is the staff admins' console only (issue 12, item 8).

- Other staff roles do not reach it, and the Account page offers it to staff admins only.
- A walk of every registered ModelAdmin and its inlines: none may add, change or delete a person's
  data around the services (a case without its follow-ups, a reached contact leaving its follow-up
  open, a typed-in risk level, a consent no one checked). An admin may write person data only if it
  names the service its save goes through (`ScopedAdmin.writes_through`) and overrides save_model.
"""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils.module_loading import import_string

from accounts.roles import Role
from tests import factories as f

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
# Actions of person-data admins that write, and the service each goes through.
SERVICE_ACTIONS = {"end_now": "accounts.breakglass.end_break_glass"}


def holds_person_data(model) -> bool:
    return hasattr(model._default_manager, "visible_to")


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _writes(checker, request) -> list[str]:
    """What this admin (or inline) would let `request.user` write: add, change, delete."""
    found = []
    add = checker.has_add_permission
    if add(request, None) if _takes_obj(add) else add(request):  # inlines take the parent object
        found.append("add")
    if checker.has_change_permission(request, None):
        found.append("change")
    if checker.has_delete_permission(request, None):
        found.append("delete")
    return found


def _takes_obj(method) -> bool:
    return "obj" in method.__code__.co_varnames[: method.__code__.co_argcount]


@pytest.fixture
def admins(staff_admin, network_admin):
    return {"staff admin": staff_admin, "network admin": network_admin}


def test_every_admin_of_person_data_writes_only_through_a_service(admins):
    problems = []
    for model, model_admin in REGISTERED:
        for who, user in admins.items():
            request = _request(user)
            if holds_person_data(model):
                writes = _writes(model_admin, request)
                service = getattr(model_admin, "writes_through", "")
                if writes and not service:
                    problems.append(f"{model._meta.label}: {who} may {'/'.join(writes)} with no service")
                if service:
                    import_string(service)  # names a real function
                    if type(model_admin).save_model is admin.ModelAdmin.save_model:
                        problems.append(f"{model._meta.label}: writes_through {service} but save_model is Django's")
                for name in model_admin.get_actions(request):
                    if name not in SERVICE_ACTIONS:
                        problems.append(f"{model._meta.label}: action {name} for {who} is not a service's")
            for inline_class in model_admin.inlines:
                inline = inline_class(model, admin.site)
                if holds_person_data(inline.model):
                    writes = _writes(inline, request)
                    if writes:
                        problems.append(f"{model._meta.label} inline {inline.model._meta.label}: {who} may {writes}")
    assert problems == []


def test_the_walk_sees_the_person_data_admins():
    labels = {model._meta.label for model, _ in REGISTERED if holds_person_data(model)}
    assert {"cases.Individual", "cases.Case", "cases.Contact", "cases.Consent", "referrals.Referral"} <= labels


@pytest.mark.parametrize("role", [Role.NAVIGATOR, Role.PEER, Role.CLINICIAN, Role.PARAMEDIC, Role.SUPERVISOR])
def test_other_staff_roles_do_not_reach_the_admin(client, program, role):
    user = f.UserFactory(program=program, roles=[role], is_staff=True)
    client.force_login(user)
    for url in ("/admin/", reverse("admin:cases_case_add"), reverse("admin:cases_individual_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
    assert "Operations (admin)" not in client.get(reverse("accounts:home")).content.decode()


def test_staff_admin_reaches_the_admin_and_is_offered_it(client, staff_admin):
    client.force_login(staff_admin)
    assert client.get("/admin/").status_code == 200
    assert "Operations (admin)" in client.get(reverse("accounts:home")).content.decode()
