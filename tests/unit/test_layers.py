"""The house's import rules (DESIGN.md section 2), read from every module's imports with ``ast``.

- ``policy`` imports neither ``syncd`` nor ``connectors``; ``connectors`` import neither ``syncd`` nor ``policy``.
- Inside ``syncd`` a room imports only itself and lower rooms (``RANKS``); rooms of one rank stay apart.
- No modules import each other in a cycle.

Every import counts: at module level, inside a function (imported late for speed) and under ``TYPE_CHECKING``
(a type is a dependency too).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("policy", "connectors", "syncd")

# Inside syncd, lowest first. A room is a subpackage (syncd/sync/) or a top-level module (syncd/journal.py).
RANKS: dict[str, int] = {
    "syncd.visible": -1,        # imports nothing; the logging and every printed line use it
    "syncd": 0, "syncd.errors": 0, "syncd.logging": 0, "syncd.emails": 0,
    "syncd.settings": 1, "syncd.store": 1,
    "syncd.journal": 2, "syncd.runtime": 2,
    "syncd.licensing": 3,
    "syncd.push": 4,
    "syncd.sync": 5,
    "syncd.views": 6,
    "syncd.daemon": 7,
    "syncd.cli": 8,
    "syncd.app": 9,
}
FORBIDDEN = {"policy": ("syncd", "connectors"), "connectors": ("syncd", "policy")}


def modules(root: Path) -> dict[str, Path]:
    """{dotted module name: file} of every module of the packages under ``root``."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if "migrations" in parts:        # Alembic loads these by path; they import the tables only
                continue
            found[".".join(parts)] = path
    return found


def _imported(node: ast.AST, name: str, is_package: bool, known: dict[str, Path]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = name.split(".") if is_package else name.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        for alias in node.names:
            sub = f"{target}.{alias.name}"
            yield sub if sub in known else target


def imports(root: Path) -> dict[str, set[str]]:
    """{module: the project modules it imports} (an imported name resolves to its module when it is one)."""
    known = modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        targets = set()
        for node in ast.walk(tree):
            for target in _imported(node, name, path.name == "__init__.py", known):
                while target and target not in known:      # `import a.b.c` of a name inside a module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def room(module: str) -> str:
    parts = module.split(".")
    return module if len(parts) == 1 else ".".join(parts[:2])


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for module, targets in sorted(graph.items()):
        top = module.split(".")[0]
        for target in sorted(targets):
            other = target.split(".")[0]
            if other in FORBIDDEN.get(top, ()):
                problems.append(f"{module} imports {target}: {top} never imports {other}")
            if top != "syncd" or other != "syncd":
                continue
            mine, theirs = room(module), room(target)
            if mine == theirs:
                continue
            if mine not in RANKS or theirs not in RANKS:
                problems.append(f"{module} imports {target}: a room without a rank (add it to RANKS)")
            elif RANKS[theirs] >= RANKS[mine]:
                problems.append(f"{module} imports {target}: {mine} (rank {RANKS[mine]}) may import only "
                                f"lower rooms, and {theirs} has rank {RANKS[theirs]}")
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_rooms_import_only_downwards() -> None:
    assert layer_violations(imports(REPO)) == []


def test_no_import_cycles() -> None:
    assert cycles(imports(REPO)) == []


def test_every_syncd_room_has_a_rank() -> None:
    rooms = {room(m) for m in modules(REPO) if m.startswith("syncd")}
    assert sorted(rooms - set(RANKS)) == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for package in PACKAGES:
        (root / package).mkdir(exist_ok=True)
    return root


def test_the_checks_catch_a_bad_import(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "policy/__init__.py": "",
        "policy/engine.py": "from syncd.store import db\n",
        "connectors/__init__.py": "",
        "connectors/ad.py": "def f():\n    from policy import engine\n",
        "syncd/__init__.py": "",
        "syncd/store/__init__.py": "",
        "syncd/store/db.py": "import typing\nif typing.TYPE_CHECKING:\n    from syncd.views import people\n",
        "syncd/views/__init__.py": "",
        "syncd/views/people.py": "from ..store import db\n",
        "syncd/cli/__init__.py": "",
        "syncd/cli/a.py": "from syncd.cli import b\n",
        "syncd/cli/b.py": "import syncd.cli.a\n",
    })
    graph = imports(root)
    assert graph["syncd.views.people"] == {"syncd.store.db"}
    assert layer_violations(graph) == [
        "connectors.ad imports policy.engine: connectors never imports policy",
        "policy.engine imports syncd.store.db: policy never imports syncd",
        "syncd.store.db imports syncd.views.people: syncd.store (rank 1) may import only lower rooms, "
        "and syncd.views has rank 6",
    ]
    assert sorted(cycles(graph)) == [["syncd.cli.a", "syncd.cli.b"], ["syncd.store.db", "syncd.views.people"]]
