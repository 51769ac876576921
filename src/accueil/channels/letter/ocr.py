"""Reading a scanned letter: every page of a PDF, TIFF, JPEG or PNG to text, with Tesseract's confidence.

A PDF that already carries text (a letter printed from a word processor and sent as a file) is read from
its own text layer, exactly and at once; a scanned page is rendered (pypdfium2) and read by Tesseract
(French and English by default). Whatever happens, the outcome is a value: an unreadable file raises
``UnreadableScan`` with the reason (the caller keeps the file and shows why), a page with no text or a
Tesseract that is not installed gives a warning (a person then reads the scan), never a lost letter.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pypdfium2
import pytesseract
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

CONTENT_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif"}
_MAGIC = ((b"%PDF-", "application/pdf"), (b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"),
          (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"))
MIN_TEXT_LAYER_CHARS = 20  # fewer characters on a PDF page: it is a scan, so OCR it
MAX_SIDE_PIXELS = 5000  # larger pages are scaled down first (an A4 page at 400 dpi is 3,300 × 4,700)
LOW_CONFIDENCE = 60.0


class UnreadableScan(Exception):
    """The file is not a readable PDF or image; the message says why (kept with the scan)."""


@dataclass(frozen=True)
class ReadScan:
    text: str
    pages: int
    confidence: float | None  # mean word confidence of the OCR'd pages (None: nothing was OCR'd)
    warnings: tuple[str, ...]
    preview_png: bytes | None  # the first page, 1,000 pixels wide, for the mailroom page


def sniff_type(data: bytes) -> str | None:
    """The scan's type from its first bytes (what the browser claims is not trusted)."""
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


def read_scan(data: bytes, *, languages: str = "fra+eng", max_pages: int = 20, dpi: int = 300,
              timeout_seconds: float = 120.0) -> ReadScan:
    content_type = sniff_type(data)
    if content_type is None:
        raise UnreadableScan("not a PDF, JPEG, PNG or TIFF file")
    warnings: list[str] = []
    pages = _pdf_pages(data, max_pages, dpi) if content_type == "application/pdf" else _image_pages(data, max_pages)
    texts: list[str] = []
    confidences: list[float] = []
    preview: bytes | None = None
    count = 0
    for page in pages:
        count += 1
        if isinstance(page, str):
            texts.append(page)
            continue
        if preview is None:
            preview = _preview(page)
        if "ocr_unavailable" in warnings:
            continue
        try:
            text, confidence = _ocr(page, languages, timeout_seconds)
        except pytesseract.TesseractNotFoundError:
            warnings.append("ocr_unavailable")
            continue
        except RuntimeError as exc:  # pytesseract's timeout
            warnings.append(f"ocr_failed: {exc}"[:200])
            continue
        texts.append(text)
        if confidence is not None:
            confidences.append(confidence)
    if preview is None and content_type == "application/pdf":
        preview = _pdf_preview(data)
    total = _page_count(data, content_type)
    if total > max_pages:
        warnings.append(f"pages_truncated: {max_pages} of {total} read")
    text = "\n\n".join(t.strip() for t in texts if t.strip())
    if len(text.strip()) < 10 and "ocr_unavailable" not in warnings:
        warnings.append("no_text")
    confidence = round(sum(confidences) / len(confidences), 1) if confidences else None
    if confidence is not None and confidence < LOW_CONFIDENCE and text:
        warnings.append("low_confidence")
    return ReadScan(text=text, pages=count, confidence=confidence, warnings=tuple(warnings), preview_png=preview)


def _pdf_pages(data: bytes, max_pages: int, dpi: int):  # noqa: ANN202 - yields str (text layer) or an image
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise UnreadableScan(f"damaged PDF: {exc}") from exc
    try:
        for index in range(min(len(document), max_pages)):
            page = document[index]
            layer = page.get_textpage().get_text_range().replace("\r\n", "\n")
            if len(layer.strip()) >= MIN_TEXT_LAYER_CHARS:
                yield layer
                continue
            width, height = page.get_size()
            scale = min(dpi / 72, MAX_SIDE_PIXELS / max(width, height, 1))
            yield page.render(scale=scale, grayscale=True).to_pil()
    finally:
        document.close()


def _pdf_preview(data: bytes) -> bytes | None:
    document = pypdfium2.PdfDocument(data)
    try:
        if not len(document):
            return None
        page = document[0]
        return _preview(page.render(scale=1000 / max(page.get_size()[0], 1), grayscale=True).to_pil())
    finally:
        document.close()


def _image_pages(data: bytes, max_pages: int):  # noqa: ANN202
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise UnreadableScan(f"damaged or oversized image: {exc}") from exc
    for index, frame in enumerate(ImageSequence.Iterator(image)):
        if index >= max_pages:
            return
        page = ImageOps.exif_transpose(frame.convert("L"))
        if max(page.size) > MAX_SIDE_PIXELS:
            page.thumbnail((MAX_SIDE_PIXELS, MAX_SIDE_PIXELS))
        yield page


def _page_count(data: bytes, content_type: str) -> int:
    if content_type == "application/pdf":
        document = pypdfium2.PdfDocument(data)
        try:
            return len(document)
        finally:
            document.close()
    return getattr(Image.open(io.BytesIO(data)), "n_frames", 1)


def _ocr(page: Image.Image, languages: str, timeout: float) -> tuple[str, float | None]:
    """Tesseract's words, put back into its lines and paragraphs, and their mean confidence."""
    found = pytesseract.image_to_data(page, lang=languages, output_type=pytesseract.Output.DICT, timeout=timeout)
    lines: dict[tuple[int, int, int], list[str]] = {}
    confidences: list[float] = []
    for word, conf, block, paragraph, line in zip(found["text"], found["conf"], found["block_num"],
                                                  found["par_num"], found["line_num"], strict=True):
        if not word.strip():
            continue
        lines.setdefault((block, paragraph, line), []).append(word)
        if float(conf) >= 0:
            confidences.append(float(conf))
    text, previous = [], None
    for (block, paragraph, _line), words in lines.items():
        if previous is not None and previous != (block, paragraph):
            text.append("")
        text.append(" ".join(words))
        previous = (block, paragraph)
    return "\n".join(text), (sum(confidences) / len(confidences) if confidences else None)


def _preview(page: Image.Image) -> bytes:
    small = page.copy()
    small.thumbnail((1000, 1414))
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()
