"""Tap-to-call and tap-to-text on staff pages, honouring do-not-contact, safe channels and consent."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from cases.display import dial_string, phone_links
from tests import factories as f
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


def _person(**kwargs):
    return f.IndividualFactory.build(phone="(405) 555-0101", **kwargs)


@pytest.mark.parametrize(
    ("number", "target"),
    [("(405) 555-0101", "4055550101"), ("+44 20 7946 0958", "+442079460958"), ("988", "988"), ("ext", ""), ("", "")],
)
def test_dial_string_keeps_digits_and_a_leading_plus(number, target):
    assert dial_string(number) == target


@pytest.mark.parametrize(
    ("kwargs", "call", "text", "why"),
    [
        ({}, True, True, ""),
        ({"safe_contact_channels": ["phone", "text"]}, True, True, ""),
        ({"safe_contact_channels": ["text"]}, False, True, "Texts only"),
        ({"safe_contact_channels": ["phone"]}, True, False, "Calls only"),
        ({"safe_contact_channels": ["in_person"]}, False, False, "neither is a safe way"),
        ({"is_do_not_contact": True, "safe_contact_channels": ["phone"]}, False, False, "asked not to be contacted"),
    ],
)
def test_a_persons_own_number_is_linked_only_on_safe_channels(kwargs, call, text, why):
    person = _person(**kwargs)
    links = phone_links(person.phone, person=person)
    assert bool(links.call_href) is call
    assert bool(links.text_href) is text
    assert (why in links.why_not) if why else links.why_not == ""
    if call:
        assert links.call_href == "tel:4055550101"


def test_a_support_contacts_number_needs_their_consent():
    assert phone_links("405-555-0102", consented=True).call_href == "tel:4055550102"
    refused = phone_links("405-555-0102", consented=False)
    assert (refused.call_href, refused.text_href) == ("", "")
    assert "not agreed to be contacted" in refused.why_not


def test_the_tag_renders_links_or_the_reason_in_words():
    template = Template("{% load phones %}{% phone number person=person %}")
    linked = template.render(Context({"number": "405-555-0101", "person": _person()}))
    assert 'href="tel:4055550101"' in linked and 'href="sms:4055550101"' in linked
    barred = template.render(Context({"number": "405-555-0101", "person": _person(is_do_not_contact=True)}))
    assert "tel:" not in barred and "sms:" not in barred
    assert "405-555-0101" in barred and "asked not to be contacted" in barred


def test_person_page_links_the_persons_phone_and_consenting_support_contacts(client, navigator, case, person):
    person.phone = "405-555-0101"
    person.save()
    rosa = f.SupportContactFactory(individual=person, name="Rosa", phone="405-555-0102")
    f.ConsentFactory(  # consent to contact a support contact is a Consent naming them (cases.people)
        individual=person,
        recipient_organization=None,
        recipient_support_contact=rosa,
        purpose="contact",
        recorded_by=navigator,
    )
    f.SupportContactFactory(individual=person, name="Tom", phone="405-555-0103")
    body = signed_in(client, navigator).get(reverse("cases:person", args=[person.pk])).content.decode()
    assert 'href="tel:4055550101"' in body
    assert 'href="tel:4055550102"' in body
    assert "tel:4055550103" not in body and "405-555-0103" in body
    assert "they have not agreed to be contacted" in body


def test_do_not_contact_person_gets_no_link_on_person_page_or_contact_form(client, navigator, case, person):
    person.phone = "405-555-0101"
    person.is_do_not_contact = True
    person.save()
    c = signed_in(client, navigator)
    for url in (reverse("cases:person", args=[person.pk]), reverse("cases:log_contact", args=[case.pk])):
        body = c.get(url).content.decode()
        assert "405-555-0101" in body
        assert "tel:" not in body and "sms:" not in body
        assert "the person asked not to be contacted" in body


def test_contact_form_offers_texting_only_where_texts_are_safe(client, navigator, case, person):
    person.phone = "405-555-0101"
    person.safe_contact_channels = ["text"]
    person.save()
    body = signed_in(client, navigator).get(reverse("cases:log_contact", args=[case.pk])).content.decode()
    assert 'href="sms:4055550101"' in body and "tel:4055550101" not in body
    assert "a call is not a safe way to reach them" in body
