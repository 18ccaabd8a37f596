"""{% phone number person=... %} / {% phone number consented=... %}: every phone number on a staff page,
with tap-to-call and tap-to-text where the rule in cases.display.phone_links allows them."""

from django import template

from cases.display import phone_links

register = template.Library()


@register.inclusion_tag("cases/_phone.html")
def phone(number, person=None, consented=None, can_text=True):
    return {"phone": phone_links(number, person=person, consented=consented, can_text=can_text)}
