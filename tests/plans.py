"""The safety-plan editor's form data (one formset of rows per section), built from plain values."""

from cases.forms import PLAN_SECTIONS


def plan_post(**values) -> dict:
    """POST data for cases:safety_plan_edit. A section is a list of strings (signs, coping) or of dicts
    (the rows' fields); single fields (most_important, copy_kept_at, review_on) are strings."""
    data = {}
    for section in PLAN_SECTIONS:
        rows = values.pop(section.name, [])
        data[f"{section.name}-TOTAL_FORMS"] = str(len(rows))
        data[f"{section.name}-INITIAL_FORMS"] = "0"
        for i, row in enumerate(rows):
            for key, value in ({"text": row} if isinstance(row, str) else row).items():
                data[f"{section.name}-{i}-{key}"] = value
    data.update({key: str(value) for key, value in values.items()})
    return data


def pdf_text(content: bytes) -> str:
    """The text a reader would copy out of a PDF (pypdf, pinned in requirements-dev.txt)."""
    from io import BytesIO

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)
