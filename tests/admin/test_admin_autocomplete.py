"""The admin's autocomplete answers with ids of people: a read, recorded in the audit log like the
admin's lists (issue 14, item 8), and scoped like them."""

import pytest

from audit.models import AccessLog, Action
from tests import factories as f

pytestmark = pytest.mark.django_db


def autocomplete(client, term):
    return client.get(
        "/admin/autocomplete/",
        {"app_label": "cases", "model_name": "consent", "field_name": "individual", "term": term},
    )


def test_an_autocomplete_read_of_a_persons_id_is_audited(staff_client, program):
    person = f.IndividualFactory(program=program)

    response = autocomplete(staff_client, str(person.pk))

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(person.pk)]
    rows = AccessLog.objects.filter(action=Action.LIST, object_type="cases.individual", object_id=str(person.pk))
    assert rows.count() == 1


def test_autocomplete_stays_in_the_program_and_records_nothing_else(staff_client, other_program):
    theirs = f.IndividualFactory(program=other_program)

    response = autocomplete(staff_client, str(theirs.pk))

    assert response.status_code == 200
    assert response.json()["results"] == []
    assert not AccessLog.objects.filter(object_type="cases.individual", object_id=str(theirs.pk)).exists()
