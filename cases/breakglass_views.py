"""Break-glass from the people search: open a record outside your scope for a limited time.

people search ──► "Not in your scope" matches ──► /cases/people/<id>/emergency-access/
    reason (required) + how long ──► accounts.breakglass.start_break_glass (audited, supervisors
    emailed) ──► the person page; a banner on every page until the grant ends or expires
    (crt.context_processors.break_glass); supervisors review every use at /audit/break-glass/.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts import breakglass
from accounts.roles import Kind
from cases.models import Individual, kinds_visible_of_person
from crt.pages import form_errors, page, staff_page

DURATIONS = [(15, "15 minutes"), (30, "30 minutes"), (60, "1 hour"), (120, "2 hours"), (240, "4 hours")]


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label="Why do you need this record now?",
        help_text="Your supervisors read this. Say what is happening, not more than needed.",
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=breakglass.MIN_REASON_LENGTH,
        max_length=1000,
    )
    minutes = forms.TypedChoiceField(
        label="For how long", choices=[c for c in DURATIONS if c[0] <= settings.BREAK_GLASS_MAX_MINUTES],
        coerce=int, initial=60,
    )  # fmt: skip


@staff_page  # not @audited: it serves nothing of the record (its number only)
@require_http_methods(["GET", "POST"])
def break_glass(request, pk: int):
    user = request.user
    # Another program's person, or no such person: a 404, as everywhere.
    in_program = Individual.objects.system("break glass: is there such a person in the user's program")
    individual = get_object_or_404(in_program.filter(program_id=user.program_id), pk=pk)
    if not breakglass.may_break_glass(user):
        raise Http404
    if kinds_visible_of_person(user, individual.pk, set(Kind)) == frozenset(Kind):
        return redirect("cases:person", individual.pk)  # nothing is outside this user's scope
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = breakglass.start_break_glass(
                user,
                individual,
                reason=form.cleaned_data["reason"],
                minutes=form.cleaned_data["minutes"],
                request=request,
            )
        except (ValidationError, PermissionDenied) as error:
            form_errors(form, error if isinstance(error, ValidationError) else ValidationError(str(error)))
        else:
            messages.warning(
                request,
                f"Emergency access until {timezone.localtime(grant.expires_at):%H:%M}. "
                "Your supervisors have been told; every view is recorded.",
            )
            return redirect("cases:person", individual.pk)
    # Nothing of the record is shown before the grant (its number only), so nothing is recorded yet.
    return page(request, "cases/break_glass.html", {"form": form, "individual": individual})
