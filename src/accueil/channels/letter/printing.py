"""A reply as a printed letter (PDF, A4): the company's letterhead, the customer's address where a window
envelope shows it, the place and date, the case reference, the agent's text and signature.

Pure: the content in, the PDF bytes out (reportlab, with the DejaVu-like Vera fonts it ships, so accents
and "œ" print on any machine). The address block sits 45 mm from the top and 110 mm from the left, inside
the window of a French DL envelope (La Poste's standard window, right side).
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from babel.dates import format_date
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Frame, PageTemplate, Paragraph, Spacer
from reportlab.platypus.doctemplate import BaseDocTemplate

_FONTS = Path(reportlab.__file__).parent / "fonts"
REGULAR, BOLD = "AccueilVera", "AccueilVera-Bold"
WORDS = {
    "fr": {"reference": "Référence", "subject": "Objet", "page": "Page"},
    "en": {"reference": "Reference", "subject": "Subject", "page": "Page"},
}


@dataclass(frozen=True)
class LetterContent:
    company_name: str
    company_address: tuple[str, ...]
    city: str
    recipient: tuple[str, ...]  # the address lines (name first)
    day: date
    language: str
    reference: str
    subject: str | None
    body: str
    signature: tuple[str, ...]


def _fonts() -> None:
    if REGULAR not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(REGULAR, str(_FONTS / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(_FONTS / "VeraBd.ttf")))


def render_letter(content: LetterContent) -> bytes:
    _fonts()
    words = WORDS.get(content.language, WORDS["fr"])
    out = io.BytesIO()
    width, height = A4
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=10.5, leading=14.5, spaceAfter=6)
    small = ParagraphStyle("small", parent=body, fontSize=9, leading=12, spaceAfter=0)

    def first_page(canvas, _doc) -> None:  # noqa: ANN001
        canvas.saveState()
        canvas.setFont(BOLD, 14)
        canvas.drawString(20 * mm, height - 20 * mm, content.company_name)
        canvas.setFont(REGULAR, 9)
        for index, line in enumerate(content.company_address):
            canvas.drawString(20 * mm, height - (26 + 4.5 * index) * mm, line)
        canvas.setFont(REGULAR, 10.5)
        for index, line in enumerate(content.recipient[:6]):
            canvas.drawString(110 * mm, height - (50 + 5 * index) * mm, line)
        _footer(canvas, _doc)
        canvas.restoreState()

    def _footer(canvas, doc) -> None:  # noqa: ANN001
        canvas.setFont(REGULAR, 8)
        canvas.drawString(20 * mm, 12 * mm, f"{content.company_name} — {words['reference']} {content.reference}")
        canvas.drawRightString(width - 20 * mm, 12 * mm, f"{words['page']} {doc.page}")

    def later_page(canvas, doc) -> None:  # noqa: ANN001
        canvas.saveState()
        _footer(canvas, doc)
        canvas.restoreState()

    document = BaseDocTemplate(out, pagesize=A4, title=f"{content.company_name} {content.reference}",
                               author=content.company_name, lang=content.language)
    first = Frame(20 * mm, 20 * mm, width - 40 * mm, height - 105 * mm, id="first")
    later = Frame(20 * mm, 20 * mm, width - 40 * mm, height - 40 * mm, id="later")
    document.addPageTemplates([PageTemplate("first", [first], onPage=first_page, autoNextPageTemplate="later"),
                               PageTemplate("later", [later], onPage=later_page)])
    dated = format_date(content.day, format="long", locale=content.language)
    place = (f"{content.city}, le {dated}" if content.language == "fr" else f"{content.city}, {dated}") \
        if content.city else dated
    story = [Paragraph(escape(place), ParagraphStyle("date", parent=body, alignment=2)), Spacer(1, 4 * mm),
             Paragraph(f"<b>{words['reference']}</b> : {escape(content.reference)}", small)]
    if content.subject:
        story.append(Paragraph(f"<b>{words['subject']}</b> : {escape(content.subject)}", small))
    story.append(Spacer(1, 8 * mm))
    # One flowable per line (a blank line is a space): reportlab splits a long paragraph across pages in
    # time that grows much faster than its length, and this runs inside the reply's transaction.
    tight = ParagraphStyle("line", parent=body, spaceAfter=0)
    for line in content.body.replace("\r\n", "\n").strip().split("\n"):
        if not line.strip():
            story.append(Spacer(1, 3 * mm))
        for piece in textwrap.wrap(line, 1500, break_long_words=True, break_on_hyphens=False) or [""]:
            if piece.strip():
                story.append(Paragraph(escape(piece), tight))
    story.append(Spacer(1, 6 * mm))
    story.extend(Paragraph(escape(line), body if index == 0 else small)
                 for index, line in enumerate(content.signature) if line)
    document.build(story)
    return out.getvalue()
