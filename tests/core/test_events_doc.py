"""Events kept honest: every typed event is in docs/events.md (class and payload), and none is built untyped."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import pkgutil
import re
from pathlib import Path

import accueil
from accueil.core.events import DomainEvent

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "accueil"
DOC = ROOT / "docs" / "events.md"
# The envelope itself is built only here: by ``DomainEvent.envelope``, and when a queued event is published.
ENVELOPE_BUILDERS = {SRC / "core" / "events.py", SRC / "db" / "session.py"}
CELL = re.compile(r"(?<!\\)\|")  # a table's cell separator (``\|`` is a pipe inside a cell: ``str \| None``)
NAME, CLASS = re.compile(r"`([a-z_]+\.[a-z_]+)`"), re.compile(r"`(\w+)`")


def event_modules() -> list[str]:
    """Every ``accueil.….events`` module, imported (importing one registers its events)."""
    names = [module.name for module in pkgutil.walk_packages(accueil.__path__, prefix="accueil.")
             if module.name.endswith(".events")]
    for name in names:
        importlib.import_module(name)
    return names


def documented() -> dict[str, tuple[str, str]]:
    """name -> (class, payload cell) of every row of docs/events.md's tables."""
    rows: dict[str, tuple[str, str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in CELL.split(line.strip())[1:-1]] if line.startswith("|") else []
        name = NAME.fullmatch(cells[0]) if len(cells) >= 3 else None
        if name is None:
            continue
        cls = CLASS.fullmatch(cells[1])
        assert name[1] not in rows, f"{name[1]} is documented twice in docs/events.md"
        rows[name[1]] = (cls[1] if cls else cells[1], cells[2])
    return rows


def test_every_event_module_is_found():
    modules = event_modules()
    assert {"accueil.conversations.events", "accueil.routing.events", "accueil.channels.chat.events"} <= set(modules)


def test_every_event_is_documented_and_every_documented_event_exists():
    event_modules()
    rows = documented()
    declared = DomainEvent.registry
    missing = sorted(set(declared) - set(rows))
    assert not missing, f"document these events in docs/events.md: {missing}"
    unknown = sorted(set(rows) - set(declared))
    assert not unknown, f"docs/events.md lists events that are not declared: {unknown}"
    wrong = []
    for name, event in declared.items():
        cls, payload = rows[name]
        if cls != event.__name__:
            wrong.append(f"{name}: class {cls} in the doc, {event.__name__} in the code")
        keys = [field.name.removesuffix("_") for field in dataclasses.fields(event)]  # type: ignore[arg-type]
        absent = [key for key in keys if f"`{key}`" not in payload]
        if absent:
            wrong.append(f"{name}: payload fields {absent} not documented")
        if event.__doc__ is None or event.__doc__.startswith(f"{event.__name__}("):  # dataclass's default
            wrong.append(f"{name}: {event.__name__} has no docstring saying when it happens")
    assert not wrong, "docs/events.md or the event classes disagree:\n" + "\n".join(wrong)


def _untyped_events(path: Path, root: Path = ROOT) -> list[str]:
    """``Event("…", …)`` / ``Event(f"…", …)`` / ``Event(name, …)`` calls in one file: envelopes built by hand."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if called != "Event" or not (node.args or node.keywords):  # ``threading.Event()`` takes nothing
            continue
        first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "name"), None)
        literal = isinstance(first, ast.JoinedStr) or isinstance(first, ast.Constant) and isinstance(first.value, str)
        what = "a literal name" if literal else "a computed name"
        found.append(f"{path.relative_to(root)}:{node.lineno} builds Event(...) with {what}")
    return found


def test_no_untyped_event_is_built():
    found = [hit for path in sorted(SRC.rglob("*.py")) if path not in ENVELOPE_BUILDERS
             for hit in _untyped_events(path)]
    assert not found, "declare a typed event (a DomainEvent in the owner's events.py) and queue it instead:\n" + \
        "\n".join(found)


def test_the_scan_sees_untyped_events(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('Event("case.x", {})\nEvent(f"case.{k}", {})\nbus.Event(name, {})\nthreading.Event()\n')
    hits = _untyped_events(sample, root=tmp_path)
    assert [hit.split(":")[1].split()[0] for hit in hits] == ["1", "2", "3"]
