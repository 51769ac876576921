"""Docs kept honest: every setting and every CLI command and option is documented."""

from __future__ import annotations

from pathlib import Path

import click

from accueil.cli import main
from accueil.config import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_setting_is_documented():
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`ACCUEIL_{name.upper()}`" not in text]
    assert not missing, f"document these settings in docs/settings.md: {missing}"


def _walk(command: click.Command, path: list[str]):  # type: ignore[no-untyped-def]
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, [*path, name])


def _sections(text: str) -> dict[str, str]:
    """``## `accueil db upgrade` `` headings and the text under each."""
    sections: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## `") and line.rstrip().endswith("`"):
            current = line.strip()[4:-1]
            sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return sections


def test_every_cli_command_and_option_is_documented():
    sections = _sections((DOCS / "cli.md").read_text(encoding="utf-8"))
    missing = []
    for path, command in _walk(main, ["accueil"]):
        heading = " ".join(path)
        if heading not in sections:
            missing.append(heading)
            continue
        for param in command.params:
            if isinstance(param, click.Option):
                for opt in [*param.opts, *param.secondary_opts]:
                    if opt.startswith("--") and opt != "--version" and f"`{opt}`" not in sections[heading]:
                        missing.append(f"{heading} {opt}")
    assert not missing, f"document these in docs/cli.md: {missing}"
