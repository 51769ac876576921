"""The dependency rule of DESIGN.md, checked over grimp's import graph (every import, wherever it is).

Layers, top to bottom; a module imports only modules of its own layer or of layers below it:

    entry points   app, asgi, __main__, cli, serving, demo, db.models (the model registry), and every
                   domain's or channel's ``cli`` module (command-line verbs load their work lazily, so
                   ``accueil --help`` starts in a fraction of a second)
    interfaces     api/, web/, selfcare/ and every domain's or channel's ``api`` module
    composition    runtime
    flows          flows/
    channels       channels/ (adapters)
    domains        identity → customers → knowledge → conversations → routing → surveys
                   → analytics | workforce | privacy (independent of each other)
    foundation     db/ (base, session, jobs…) → core/, config

Domains are ordered: a domain imports only the domains before it. ``python tests/test_architecture.py``
prints the figures (violations, cycles, mutual folder pairs, imports inside functions).
"""

from __future__ import annotations

import ast
import itertools
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

import grimp
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "accueil"

DOMAINS = ["identity", "customers", "knowledge", "conversations", "routing", "surveys"]
PEER_DOMAINS = ["analytics", "workforce", "privacy"]  # the last rank, independent of each other
ENTRY = {"accueil", "accueil.app", "accueil.asgi", "accueil.__main__", "accueil.cli", "accueil.serving",
         "accueil.db.models"}
INTERFACE_PACKAGES = ("api", "web", "selfcare")
INTERFACE_MODULES = ("api",)  # a domain's or channel's HTTP routers (also ``*_api``)

RANK_ENTRY, RANK_INTERFACE, RANK_RUNTIME, RANK_FLOWS, RANK_CHANNELS = 100, 90, 80, 70, 60
RANK_DOMAIN = {name: 10 + 5 * index for index, name in enumerate(DOMAINS)}
RANK_DOMAIN.update({name: 10 + 5 * len(DOMAINS) for name in PEER_DOMAINS})
RANK_DB, RANK_CORE = 5, 1


def layer_of(module: str) -> tuple[int, str]:
    """(rank, layer name) of a module of ``accueil``."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if module in ENTRY or top == "demo" or module.startswith("accueil.db.migrations") or (
            len(parts) > 2 and parts[-1] == "cli"):
        return RANK_ENTRY, "entry"
    if top in INTERFACE_PACKAGES or len(parts) > 2 and (parts[-1] in INTERFACE_MODULES
                                                        or parts[-1].endswith("_api")):
        return RANK_INTERFACE, "interface"
    if top == "runtime":
        return RANK_RUNTIME, "runtime"
    if top == "flows":
        return RANK_FLOWS, "flows"
    if top == "channels":
        return RANK_CHANNELS, "channels"
    if top in RANK_DOMAIN:
        return RANK_DOMAIN[top], top
    if top == "db":
        return RANK_DB, "db"
    if top in ("core", "config"):
        return RANK_CORE, "core"
    raise AssertionError(f"{module} belongs to no layer: add it to tests/test_architecture.py")


@cache
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("accueil", cache_dir=None)


def violations() -> list[str]:
    """Every import that points up, or sideways between two peer domains."""
    found = []
    g = graph()
    for importer in sorted(g.modules):
        rank, name = layer_of(importer)
        for imported in sorted(g.find_modules_directly_imported_by(importer)):
            other_rank, other = layer_of(imported)
            if other_rank > rank or (other_rank == rank and name != other and name in PEER_DOMAINS):
                lines = {d["line_number"] for d in g.get_import_details(importer=importer, imported=imported)}
                found.append(f"{importer} -> {imported} (line {min(lines)})")
    return found


def module_cycles() -> list[list[str]]:
    """Strongly connected groups of modules (import cycles), largest first."""
    g = graph()
    edges = {m: g.find_modules_directly_imported_by(m) for m in g.modules}
    index, low, stack, on_stack, groups, counter = {}, {}, [], set(), [], itertools.count()

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = next(counter)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(groups, key=len, reverse=True)


def folder(module: str) -> str:
    """The top-level folder, or the module itself for a file at the top (app, cli, config…).

    A domain's or channel's routers (``api`` modules) count with the interfaces they belong to.
    """
    if layer_of(module)[1] == "interface":
        return "interfaces"
    if module.endswith(".cli") and module.count(".") > 1:
        return "command line"  # a domain's or channel's CLI verbs: entry points, like accueil.cli
    if module == "accueil.db.models" or module.startswith("accueil.db.migrations"):
        return "db registry"  # the model registry and migrations import every domain's models, on purpose
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "(package)"


def mutual_folder_pairs() -> list[tuple[str, str]]:
    g = graph()
    arrows = {(folder(a), folder(b)) for a in g.modules for b in g.find_modules_directly_imported_by(a)}
    return sorted((a, b) for a, b in arrows if a < b and (b, a) in arrows)


def function_local_imports() -> list[str]:
    """``import accueil…`` of another folder inside a function body or a TYPE_CHECKING block, outside the
    entry points. (A lazy import within one folder is allowed: the workforce CLI keeps OR-Tools and
    statsmodels out of ``accueil --help``'s start-up.)"""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = ".".join(("accueil", *path.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")
        if layer_of(module)[1] == "entry":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        hidden: list[ast.AST] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                hidden.extend(node.body)
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                hidden.extend(node.body)
        for block in hidden:
            for node in ast.walk(block):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                    [a.name for a in node.names] if isinstance(node, ast.Import) else [])
                if any(name.startswith("accueil") and name.split(".")[:2] != module.split(".")[:2] for name in names):
                    found.append(f"{path.relative_to(SRC.parent)}:{node.lineno}")
    return sorted(set(found))


def test_every_module_has_a_layer():
    for module in graph().modules:
        layer_of(module)


def channel_router_modules() -> set[str]:
    """The modules under ``channels/`` that define a FastAPI router at module level."""
    found = set()
    for path in sorted((SRC / "channels").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                    ast.unparse(node.value.func).endswith("APIRouter"):
                module = ".".join(("accueil", *path.relative_to(SRC).with_suffix("").parts))
                found.update(f"{module}:{target.id}" for target in node.targets if isinstance(target, ast.Name))
    return found


def test_channel_registry_lists_every_channel_router():
    """A channel's router is mounted because ``channels/registry.py`` names it, from the interface layer."""
    from fastapi import APIRouter

    from accueil.channels import registry

    named = [reference for channel in registry.CHANNELS for reference in channel.routers]
    assert sorted(named) == sorted(channel_router_modules())
    for reference in named:
        assert layer_of(reference.partition(":")[0])[1] == "interface", reference
        assert isinstance(registry.load_router(reference), APIRouter), reference


def test_imports_only_point_down():
    assert violations() == []


def test_no_import_cycles():
    assert module_cycles() == []


def test_no_two_folders_import_each_other():
    assert mutual_folder_pairs() == []


def test_no_imports_hidden_in_functions():
    assert function_local_imports() == []


# Folders whose tests live in their parent's test folder (the web pages are tested as pages, in tests/web).
TESTED_WITH_PARENT = {"web/views"}


def test_tests_mirror_the_source():
    """One test folder per source folder, holding at least one test file."""
    tests = SRC.parents[1] / "tests"
    missing = []
    for folder_path in sorted(p for p in SRC.rglob("*") if p.is_dir() and (p / "__init__.py").exists()):
        relative = folder_path.relative_to(SRC).as_posix()
        if relative == "." or "migrations" in relative or relative in TESTED_WITH_PARENT:
            continue
        if not list((tests / relative).glob("test_*.py")):
            missing.append(f"tests/{relative}/")
    assert missing == [], f"add tests in {missing}"


@pytest.mark.parametrize("module", ["accueil.core", "accueil.routing.engine", "accueil.workforce.erlang"])
def test_pure_cores_import_no_framework(module):
    """The foundation and pure cores never reach for the web framework."""
    g = grimp.build_graph("accueil", "fastapi", "starlette", cache_dir=None)
    modules = [m for m in g.modules if m == module or m.startswith(module + ".")]
    for name in modules:
        assert not {m for m in g.find_modules_directly_imported_by(name)
                    if m.split(".")[0] in ("fastapi", "starlette")}, name


def report() -> None:
    per_layer: dict[str, int] = defaultdict(int)
    for line in violations():
        per_layer[layer_of(line.split(" ->")[0])[1]] += 1
    cycles = module_cycles()
    pairs = mutual_folder_pairs()
    hidden = function_local_imports()
    print(f"imports pointing up: {len(violations())} {dict(per_layer)}")
    print(f"import cycles: {len(cycles)} (largest {len(cycles[0]) if cycles else 0} modules)")
    print(f"mutual folder pairs: {len(pairs)} {pairs}")
    print(f"imports of another folder inside functions or TYPE_CHECKING: {len(hidden)}")
    if "-v" in sys.argv:
        print("\n".join(violations()))
        for group in cycles:
            print("cycle:", " ".join(group))
        print("\n".join(hidden))


if __name__ == "__main__":
    report()
