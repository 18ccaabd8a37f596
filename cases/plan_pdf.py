"""The safety plan as a PDF a person keeps on the fridge: fpdf2 with DejaVu Sans embedded (subset), so every
script the plan is written in prints (Vietnamese, Polish, Arabic shaped right to left through HarfBuzz).
docs/decisions/012-safety-plan-pdf.md says why this library and where the fonts come from."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from cases.display import CRISIS_LINES, plan_participants, plan_sections

# Debian's fonts-dejavu-core (installed by .ci/run and the deploy steps, see docs/deploy.md).
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVu"
INK, MUTED = (0, 0, 0), (90, 90, 90)


def font_files() -> dict[str, Path]:
    """The font files, or a clear error naming the package to install."""
    files = {style: FONT_DIR / name for style, name in FONTS.items()}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise ImproperlyConfigured(
            f"Safety-plan PDFs need the DejaVu fonts ({', '.join(missing)} not found): "
            "install Debian's fonts-dejavu-core (apt-get install fonts-dejavu-core)."
        )
    return files


class _PlanPDF(FPDF):
    def footer(self):
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")


def safety_plan_pdf(plan) -> bytes:
    """A4, one or two pages for a usual plan: the crisis lines once at the top, then the six sections."""
    pdf = _PlanPDF(format="A4")
    pdf.set_title("My safety plan")
    pdf.set_creator("CRT Case & Referral")
    for style, path in font_files().items():
        pdf.add_font(FAMILY, style, str(path))
    pdf.set_text_shaping(True)
    pdf.set_margins(16, 14, 16)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    width = pdf.epw

    def line(text: str, size: float, style: str = "", color=INK, height: float | None = None) -> None:
        pdf.set_font(FAMILY, style, size)
        pdf.set_text_color(*color)
        pdf.multi_cell(width, height or size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line("My safety plan", 20, "B", height=10)
    meta = f"{plan.case.individual.display_name} · version {plan.version}, {plan.created_at:%-d %b %Y}"
    if plan.review_on:
        meta += f" · to review on {plan.review_on:%-d %b %Y}"
    line(meta, 10, color=MUTED, height=6)
    pdf.ln(2)

    # The crisis lines, once, in a box.
    top = pdf.get_y()
    pdf.set_text_color(*INK)
    pdf.set_x(pdf.l_margin + 3)
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(width - 6, 7, "If I am in crisis", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for label, number, _texts in CRISIS_LINES:
        pdf.set_x(pdf.l_margin + 3)
        pdf.set_font(FAMILY, "", 11)
        pdf.write(6.5, f"{label}: ")
        pdf.set_font(FAMILY, "B", 13)
        pdf.write(6.5, number)
        pdf.ln(6.5)
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.6)
    pdf.rect(pdf.l_margin, top - 1, width, pdf.get_y() - top + 3)
    pdf.ln(5)

    if plan.most_important:
        line("What matters most to me", 12.5, "B", height=7)
        line(plan.most_important, 11, height=5.5)
        pdf.ln(2)

    for number, section in enumerate(plan_sections(plan, for_person=True), start=1):
        if pdf.will_page_break(7 + 6 * min(len(section.entries), 2)):
            pdf.add_page()
        line(f"{number}. {section.title}", 12.5, "B", height=7)
        if not section.entries:
            line("—", 11, color=MUTED, height=5.5)
        for entry in section.entries:
            # Each part written on its own, so a name in a right-to-left script keeps its own direction
            # and does not carry the phone number along with it.
            pdf.set_font(FAMILY, "", 11)
            pdf.set_text_color(*INK)
            pdf.write(5.8, "•  ")
            pdf.write(5.8, entry.text)
            for detail in entry.details:
                pdf.set_text_color(*MUTED)
                pdf.write(5.8, "  ·  ")
                pdf.set_text_color(*INK)
                pdf.write(5.8, detail)
            if entry.phone:
                pdf.set_text_color(*MUTED)
                pdf.write(5.8, "  ·  ")
                pdf.set_text_color(*INK)
                pdf.set_font(FAMILY, "B", 11)
                pdf.write(5.8, entry.phone)
            pdf.ln(6.3)
        pdf.ln(2)

    footer = []
    if plan.participants:
        footer.append(f"Made together with: {plan_participants(plan)}.")
    if plan.copy_kept_at:
        footer.append(f"A copy is kept: {plan.copy_kept_at}.")
    if footer:
        line(" ".join(footer), 9, color=MUTED, height=5)
    return bytes(pdf.output())
