"""Articles as Markdown files, for import and export: ``<code>.fr.md`` and ``<code>.en.md`` side by side,
each with a YAML front matter::

    ---
    title: Suivre ma livraison
    category: livraison            # a category code (created with its names in categories.yml)
    visibility: public             # public | partner | agents
    motifs: [suivi_commande]
    ---
    Votre colis part sous 24 h…

Pure reading and writing; ``do_import`` in ``service`` saves what is read (one article per transaction).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.S)
NAME = re.compile(r"^(?P<code>[a-z0-9][a-z0-9_-]{0,119})\.(?P<lang>fr|en)\.md$")


@dataclass
class ArticleFile:
    code: str
    titles: dict[str, str] = field(default_factory=dict)
    bodies: dict[str, str] = field(default_factory=dict)
    category: str | None = None
    visibility: str = "public"
    motifs: list[str] = field(default_factory=list)


class FileError(ValueError):
    """A file that cannot be read as an article: its name and why."""


def parse(text: str, name: str) -> tuple[dict, str]:
    match = FRONT.match(text.replace("\r\n", "\n"))
    if not match:
        raise FileError(f"{name}: no front matter (a block between two --- lines)")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise FileError(f"{name}: the front matter is not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(meta, dict) or not str(meta.get("title") or "").strip():
        raise FileError(f"{name}: the front matter needs a title")
    return meta, match.group(2).strip()


def read_folder(folder: Path) -> tuple[list[ArticleFile], dict[str, tuple[str, str]], list[str]]:
    """The articles of a folder (both languages required), its categories (``categories.yml``: code → names),
    and the problems found, one line per file."""
    articles: dict[str, ArticleFile] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.md")):
        named = NAME.match(path.name)
        if not named:
            problems.append(f"{path.name}: the name is <code>.fr.md or <code>.en.md")
            continue
        try:
            meta, body = parse(path.read_text(encoding="utf-8"), path.name)
        except (FileError, UnicodeDecodeError) as exc:
            problems.append(str(exc))
            continue
        found = articles.setdefault(named["code"], ArticleFile(named["code"]))
        found.titles[named["lang"]], found.bodies[named["lang"]] = str(meta["title"]).strip(), body
        found.category = meta.get("category") or found.category
        found.visibility = str(meta.get("visibility") or found.visibility)
        found.motifs = [str(m) for m in (meta.get("motifs") or found.motifs)]
    complete = []
    for code, article in sorted(articles.items()):
        missing = [lang for lang in ("fr", "en") if lang not in article.titles]
        if missing:
            problems.append(f"{code}: no {' and '.join(missing)} version ({code}.{missing[0]}.md)")
        else:
            complete.append(article)
    categories: dict[str, tuple[str, str]] = {}
    listing = folder / "categories.yml"
    if listing.exists():
        loaded = yaml.safe_load(listing.read_text(encoding="utf-8")) or {}
        for code, names in loaded.items():
            categories[str(code)] = (str(names.get("fr", code)), str(names.get("en", code)))
    return complete, categories, problems


def render(title: str, body: str, *, category: str | None, visibility: str, motifs: list[str]) -> str:
    meta = {"title": title, "category": category, "visibility": visibility, "motifs": motifs}
    front = yaml.safe_dump({k: v for k, v in meta.items() if v}, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n{body.rstrip()}\n"


def files_of(article: ArticleFile) -> Iterator[tuple[str, str]]:
    for language in ("fr", "en"):
        yield (f"{article.code}.{language}.md", render(article.titles[language], article.bodies[language],
                                                       category=article.category, visibility=article.visibility,
                                                       motifs=article.motifs))
