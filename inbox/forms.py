from django import forms

from inbox.models import NotificationPreference
from inbox.services import MAX_SNOOZE_DAYS, NOTE_MAX_LENGTH


class ResolveItemForm(forms.Form):
    note = forms.CharField(label="What was done", max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}))


class SnoozeItemForm(forms.Form):
    until = forms.DateTimeField(
        label="Snooze until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=f"At most {MAX_SNOOZE_DAYS} days ahead.",
    )


class ReassignItemForm(forms.Form):
    to = forms.ModelChoiceField(queryset=None, label="Give to")

    def __init__(self, *args, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = colleagues
        self.fields["to"].label_from_instance = lambda user: user.get_full_name() or user.username


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["daily_digest", "urgent_follow_up", "urgent_declined"]
        labels = {
            "daily_digest": "A daily email with my inbox's counts",
            "urgent_follow_up": "An email at once when a high-risk person's follow-up is missed",
            "urgent_declined": "An email at once when a partner declines an urgent referral",
        }
