"""Safety-plan pages: edit the current plan (each section a list of rows, rearranged without
JavaScript), a version with what changed since the one before, the person's own copy (phone-sized
on screen, one or two pages on paper), and the Unicode PDF (cases.plan_pdf draws it).

Plans are read through their own scope (SafetyPlan.objects.visible_to): responders may read a plan
without the rest of the case. Every read is recorded (audit.access.record_access) before rendering;
a save goes through cases.services.save_safety_plan.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from audit.access import Action, audited, record_access
from cases import plan_pdf, services
from cases.display import CRISIS_LINES, plan_participants, plan_sections
from cases.forms import SafetyPlanEditor
from cases.models import Case, SafetyPlan
from crt.pages import form_errors, page, staff_form_page, staff_page


def _plans(request, case: Case):
    return SafetyPlan.objects.visible_to(request.user).filter(case=case).select_related("created_by")


@staff_form_page
def safety_plan_edit(request, pk: int):
    case = get_object_or_404(Case.objects.visible_to(request.user).select_related("individual"), pk=pk)
    current = _plans(request, case).filter(is_current=True).first()
    editor = SafetyPlanEditor(request.POST) if request.method == "POST" else SafetyPlanEditor.for_plan(current)
    status = 200
    if request.method == "POST" and "row" in request.POST:
        # add / remove / move a row without JavaScript: the page comes back rearranged, nothing saved
        editor = editor.rearranged(request.POST["row"]) or editor
    elif request.method == "POST":
        if editor.is_valid():
            try:
                plan = services.save_safety_plan(case, by=request.user, **editor.cleaned_data)
            except ValidationError as error:
                if getattr(error, "code", None) == "not_found":
                    raise Http404 from None
                form_errors(editor.form, error)
            else:
                record_access(request, action=Action.CREATE, objects=[plan])
                if current is not None and plan.pk == current.pk:
                    messages.info(request, f"Nothing changed: version {plan.version} stays the current one.")
                else:
                    messages.success(request, f"Safety plan saved as version {plan.version}.")
                return redirect("cases:safety_plan", pk=case.pk, version=plan.version)
        status = 400
    record_access(request, action=Action.VIEW, objects=[case, *([current] if current else [])])
    context = {"case": case, "form": editor.form, "editor": editor, "current": current}
    return page(request, "cases/safety_plan_edit.html", context, status)


def _section_rows(plan: SafetyPlan) -> list[tuple[str, list[str]]]:
    """The plan as (title, lines of text): what the diff between two versions compares."""
    rows = [(section.title, [entry.line for entry in section.entries]) for section in plan_sections(plan)]
    return [
        *rows,
        ("What matters most to me", [plan.most_important] if plan.most_important else []),
        ("Who took part", [plan_participants(plan)] if plan.participants else []),
        ("Where the copy is kept", [plan.copy_kept_at] if plan.copy_kept_at else []),
    ]


def _diff(old: SafetyPlan | None, new: SafetyPlan) -> list[dict]:
    old_rows = dict(_section_rows(old)) if old is not None else {}
    changes = []
    for title, lines in _section_rows(new):
        before = old_rows.get(title, [])
        added = [line for line in lines if line not in before]
        removed = [line for line in before if line not in lines]
        if added or removed:
            changes.append({"title": title, "added": added, "removed": removed})
    return changes


@staff_page
@audited
def safety_plan(request, pk: int, version: int, print_view: bool = False):
    """A version of the plan with what changed since the one before; `print_view` (or ?print=1): the
    person's own copy, phone-sized on screen and one or two pages on paper."""
    # Read through the plans' own scope: responders may read a plan without the rest of the case.
    mine = SafetyPlan.objects.visible_to(request.user).filter(case_id=pk)
    found = mine.filter(version__in=[version, version - 1]).select_related("created_by", "case__individual")
    plans = {plan.version: plan for plan in found}
    plan = plans.get(version)
    if plan is None:
        raise Http404
    case = plan.case
    previous = plans.get(version - 1)
    versions = list(mine.values_list("version", flat=True).order_by("-version"))
    record_access(request, action=Action.VIEW, objects=[plan, *([previous] if previous else [])])
    print_view = print_view or request.GET.get("print") == "1"
    context = {
        "case": case,
        "plan": plan,
        "sections": plan_sections(plan, for_person=print_view),
        "participants": plan_participants(plan),
        "crisis_lines": CRISIS_LINES,
        "changes": _diff(previous, plan),
        "previous": previous,
        "versions": versions,
        "print": print_view,
        "can_edit": plan.is_current
        and request.user.has_perm("cases.add_safetyplan")
        and Case.objects.visible_to(request.user).filter(pk=case.pk).exists(),
    }
    template = "cases/safety_plan_print.html" if context["print"] else "cases/safety_plan.html"
    return page(request, template, context)


@staff_page
@audited
def safety_plan_pdf(request, pk: int, version: int):
    plan = get_object_or_404(
        SafetyPlan.objects.visible_to(request.user).select_related("case__individual"), case_id=pk, version=version
    )
    record_access(request, action=Action.EXPORT, objects=[plan])
    response = HttpResponse(plan_pdf.safety_plan_pdf(plan), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="safety-plan-v{plan.version}.pdf"'
    return response
