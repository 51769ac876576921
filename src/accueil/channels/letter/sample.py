"""A realistic scanned French letter, drawn as an image: for the demo ("accueil letter sample") and tests.

The page is what a mailroom's scanner gives: A4 at 200 dpi in grey, the sender's block top left (name,
street, postcode and town, customer number), the company's block on the right, place and date, "Objet",
the text and the signature — drawn with the Vera font reportlab ships, so it looks the same everywhere.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import reportlab
from PIL import Image, ImageDraw, ImageFont

FONT = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
A4_200_DPI = (1654, 2339)


@dataclass(frozen=True)
class SampleLetter:
    sender: tuple[str, ...] = ("Marie Dupont", "12 rue des Lilas", "75011 Paris")
    customer_number: str | None = "CL100042"
    recipient: tuple[str, ...] = ("Maison Lumière", "Service clients", "8 avenue de la République", "69002 Lyon")
    place_and_date: str = "Paris, le 3 décembre 2026"
    subject: str = "réclamation sur ma facture de novembre"
    body: tuple[str, ...] = (
        "Madame, Monsieur,", "",
        "Je constate sur ma facture du mois de novembre un montant",
        "de 142,50 euros que je ne reconnais pas. Je vous serais",
        "reconnaissante de bien vouloir vérifier ce prélèvement et",
        "de me rembourser la somme prélevée à tort.", "",
        "Veuillez agréer mes salutations distinguées.",
    )


def draw_letter(letter: SampleLetter, *, blank: bool = False) -> Image.Image:
    page = Image.new("L", A4_200_DPI, 255)
    if blank:
        return page
    draw, font = ImageDraw.Draw(page), ImageFont.truetype(str(FONT), 34)

    def lines(x: int, y: int, texts: tuple[str, ...] | list[str]) -> int:
        for text in texts:
            draw.text((x, y), text, font=font, fill=0)
            y += 50
        return y

    sender = [*letter.sender] + ([f"N° client : {letter.customer_number}"] if letter.customer_number else [])
    lines(150, 150, sender)
    lines(950, 450, letter.recipient)
    y = lines(150, 800, [letter.place_and_date, "", f"Objet : {letter.subject}", ""])
    y = lines(150, y, letter.body)
    lines(150, y + 50, [letter.sender[0]])
    return page


def letter_bytes(letter: SampleLetter, *, format: str = "PNG", blank: bool = False) -> bytes:  # noqa: A002
    out = io.BytesIO()
    options = {"compression": "tiff_deflate"} if format == "TIFF" else {}
    draw_letter(letter, blank=blank).save(out, format=format, **options)
    return out.getvalue()
