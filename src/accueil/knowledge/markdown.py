"""Articles are written in Markdown; readers get sanitised HTML, the search index gets plain text.

Rendering is CommonMark with tables (markdown-it-py), raw HTML in the source left as text, then cleaned by
nh3 (ammonia) as any HTML shown to a reader is: no script, no event handler, links ``nofollow``.
"""

from __future__ import annotations

import html as html_lib
import re

import nh3
from markdown_it import MarkdownIt

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h2", "h3", "h4", "blockquote", "code", "pre",
         "table", "thead", "tbody", "tr", "th", "td", "hr"}
_WORD = re.compile(r"\s+")


def to_html(markdown: str) -> str:
    """Sanitised HTML for a reader (headings start at h2: the page's own title is the h1)."""
    html = _renderer.render(markdown or "")
    html = re.sub(r"<(/?)h1>", r"<\1h2>", html)
    return nh3.clean(html, tags=_TAGS, attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
                     link_rel="noopener noreferrer nofollow", url_schemes={"http", "https", "mailto", "tel"})


def to_text(markdown: str) -> str:
    """The words of an article, without markup (for the index and the excerpts)."""
    html = _renderer.render(markdown or "")
    return _WORD.sub(" ", html_lib.unescape(nh3.clean(html, tags=set()))).strip()


def first_paragraph(markdown: str, limit: int = 300) -> str:
    """The article's answer in a sentence or two: its first paragraph, cut at ``limit`` characters."""
    for block in re.split(r"\n\s*\n", markdown or ""):
        text = to_text(block)
        if text and not block.lstrip().startswith("#"):
            return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
    return ""
