"""``accueil kb``: the knowledge base from and to Markdown files, and a search from the terminal.

Each command imports its work when it runs, so ``accueil --help`` does not load the embedder.
"""

from __future__ import annotations

from pathlib import Path

import click

from accueil.config import get_settings


@click.group()
def kb() -> None:
    """The knowledge base: import, export, search / la base de connaissances."""


@kb.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_folder(folder: Path) -> None:
    """Import the articles of FOLDER (<code>.fr.md and <code>.en.md with a YAML front matter; categories.yml)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from accueil.core import clock
    from accueil.knowledge.files import read_folder
    from accueil.knowledge.service import do_import_articles
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    articles, categories, problems = read_folder(folder)
    columns = (TextColumn("articles"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task("import", total=len(articles))
        with runtime.factory() as session, session.begin():
            report = do_import_articles(session, articles=articles, categories=categories, now=clock.now(),
                                        progress=lambda n: progress.update(task, completed=n))
    for problem in [*problems, *(report.problems or [])]:
        click.echo(problem, err=True)
    click.echo(f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
               f"{len(problems) + len(report.problems or [])} refused")


@kb.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def export_folder(folder: Path) -> None:
    """Write every live article into FOLDER as Markdown files (the format ``import`` reads)."""
    import yaml

    from accueil.knowledge.files import files_of
    from accueil.knowledge.models import KnowledgeCategory
    from accueil.knowledge.service import export_articles
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    folder.mkdir(parents=True, exist_ok=True)
    with runtime.factory() as session:
        articles = export_articles(session)
        categories = {c.code: {"fr": c.name_fr, "en": c.name_en} for c in session.query(KnowledgeCategory)}
    for article in articles:
        for name, content in files_of(article):
            (folder / name).write_text(content, encoding="utf-8")
    (folder / "categories.yml").write_text(yaml.safe_dump(categories, allow_unicode=True), encoding="utf-8")
    click.echo(f"{len(articles)} articles written to {folder}")


@kb.command("search")
@click.argument("query")
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True)
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 50))
@click.option("--mode", type=click.Choice(["hybrid", "lexical", "dense"]), default="hybrid", show_default=True)
def search(query: str, lang: str, limit: int, mode: str) -> None:
    """Search the public and internal articles as an agent would."""
    from accueil.knowledge.service import IndexCache, embed_query
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    with runtime.factory() as session:
        index = IndexCache().get(session)
    for hit in index.search(query, lang, limit=limit, visibilities=("public", "partner", "agents"),
                            embed=embed_query, mode=mode):
        click.echo(f"{hit.score:.3f}  {hit.document.title}  [{hit.document.visibility}]")
