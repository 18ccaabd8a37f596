from django import template

from inbox.forms import NotificationPreferenceForm
from inbox.models import NotificationPreference

register = template.Library()


@register.inclusion_tag("inbox/preferences_form.html", takes_context=True)
def inbox_preferences_form(context):
    """The email settings on the account page (staff of a program only)."""
    user = context["user"]
    if getattr(user, "program_id", None) is None or user.is_partner_user:
        return {"form": None}
    instance = NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)
    return {"form": NotificationPreferenceForm(instance=instance), "csrf_token": context.get("csrf_token")}
