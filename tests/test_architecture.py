"""The map of ``docs/ARCHITECTURE.md``, held against the code.

The test builds the package-level import graph of ``tipline/`` and ``villageaffairs/``
statically: it parses every ``.py`` file with :mod:`ast` (nothing is imported) and reads
every ``import`` and ``from ... import`` anywhere in a module, at module level, inside
functions and methods, and under ``if TYPE_CHECKING:`` as well (none exist today; a
type-only import is still an arrow on the map, so it is not excused).

A node of the graph is a second-level package or module: ``tipline.cases`` for anything
under ``tipline/cases/``, ``tipline.db`` for ``tipline/db.py``,
``villageaffairs.elections`` and so on; ``tipline/__init__.py`` is the node ``tipline``.
Imports inside one node are not arrows.

The rules are data here (:data:`MAP` and :data:`RULES`), written to mirror the sections
"The map" and "The arrows" of the document rather than parsed from its prose; tests
keep the two in step: the document's map table puts exactly the packages of
:data:`MAP` in the same layers, and its numbered rules are :data:`RULES` (and the
no-cycles rule) with the same numbers and words.

A failure names each offending import with its file and line, and for a cycle the
packages that reach each other and the imports along one cycle among them. The
checker is also run on small synthetic trees (the negative controls at the bottom):
it must find a planted cycle and planted forbidden arrows, so a pass is not the
checker seeing nothing.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP_PACKAGES = ("tipline", "villageaffairs")
DOCUMENT = ROOT / "docs" / "ARCHITECTURE.md"

# --- The map (docs/ARCHITECTURE.md, "The map") ------------------------------------------

ASSEMBLY = "assembly"  # app, cli, demo: the only modules that may import both halves
ENTRY = "entry"  # how the assembly is started (python -m tipline)
BASE = "base"  # configuration, engine, roles, web plumbing; imports no domain
SHARED = "shared"  # tipline domains the village half may use too
TIP = "tip"  # the tip side proper
VILLAGE = "village"  # everything under villageaffairs/

MAP: dict[str, str] = {
    # assembly
    "tipline.app": ASSEMBLY,
    "tipline.cli": ASSEMBLY,
    "tipline.demo": ASSEMBLY,
    "tipline.__main__": ENTRY,
    # the base
    "tipline": BASE,
    "tipline.settings": BASE,
    "tipline.db": BASE,
    "tipline.auth": BASE,
    "tipline.web": BASE,
    "tipline.errors": BASE,
    "tipline.faults": BASE,
    "tipline.commandline": BASE,
    "tipline.piccolo_apps": BASE,
    "tipline.registry": BASE,
    "tipline.piccolo_conf": BASE,
    "tipline.stretching": BASE,
    "tipline.devserver": BASE,
    # shared by both halves
    "tipline.accounts": SHARED,
    "tipline.orgunits": SHARED,
    "tipline.ledger": SHARED,
    "tipline.workdays": SHARED,
    "tipline.scheduler": SHARED,
    "tipline.notifications": SHARED,
    "tipline.filecleaning": SHARED,
    # the tip side proper
    "tipline.crypto": TIP,
    "tipline.tipstatus": TIP,
    "tipline.custody_hooks": TIP,
    "tipline.intake": TIP,
    "tipline.cases": TIP,
    "tipline.hotline": TIP,
    "tipline.authorities": TIP,
    "tipline.duedates": TIP,
    "tipline.oversight": TIP,
    "tipline.reliability": TIP,
    # the village half
    "villageaffairs": VILLAGE,
    "villageaffairs.web": VILLAGE,
    "villageaffairs.legal": VILLAGE,
    "villageaffairs.access": VILLAGE,
    "villageaffairs.hooks": VILLAGE,
    "villageaffairs.reports": VILLAGE,
    "villageaffairs.people": VILLAGE,
    "villageaffairs.committees": VILLAGE,
    "villageaffairs.elections": VILLAGE,
    "villageaffairs.reviews": VILLAGE,
    "villageaffairs.appraisals": VILLAGE,
    "villageaffairs.overview": VILLAGE,
    "villageaffairs.registers": VILLAGE,
    "villageaffairs.campaigns": VILLAGE,
    "villageaffairs.villagerules": VILLAGE,
    "villageaffairs.supervision": VILLAGE,
    "villageaffairs.noticeboards": VILLAGE,
    "villageaffairs.public": VILLAGE,
    "villageaffairs.demo": VILLAGE,
}


def nodes_in(*groups: str) -> frozenset[str]:
    return frozenset(node for node, group in MAP.items() if group in groups)


# --- The arrows (docs/ARCHITECTURE.md, "The arrows") -------------------------------------


@dataclass(frozen=True)
class Rule:
    """An arrow rule: an import from a node in ``sources`` must land in ``allowed`` (when
    given) and never in ``forbidden``."""

    number: int
    text: str
    sources: frozenset[str]
    allowed: frozenset[str] | None = None
    forbidden: frozenset[str] = frozenset()

    def forbids(self, source: str, target: str) -> bool:
        if source not in self.sources:
            return False
        if target in self.forbidden:
            return True
        return self.allowed is not None and target not in self.allowed


RULES: tuple[Rule, ...] = (
    Rule(
        1,
        "The base imports only the base.",
        sources=nodes_in(BASE),
        allowed=nodes_in(BASE),
    ),
    Rule(
        2,
        "`ledger` imports only the base.",
        sources=frozenset({"tipline.ledger"}),
        allowed=nodes_in(BASE),
    ),
    Rule(
        3,
        "`crypto` imports only the base and `ledger`.",
        sources=frozenset({"tipline.crypto"}),
        allowed=nodes_in(BASE) | {"tipline.ledger"},
    ),
    Rule(
        4,
        "`intake` imports neither `accounts` nor `cases`.",
        sources=frozenset({"tipline.intake"}),
        forbidden=frozenset({"tipline.accounts", "tipline.cases"}),
    ),
    Rule(
        5,
        "`filecleaning` imports only `settings` and `errors`.",
        sources=frozenset({"tipline.filecleaning"}),
        allowed=frozenset({"tipline.settings", "tipline.errors"}),
    ),
    Rule(
        6,
        "`villageaffairs` imports only itself, the base and the shared packages.",
        sources=nodes_in(VILLAGE),
        allowed=nodes_in(VILLAGE, BASE, SHARED),
    ),
    Rule(
        7,
        "No tipline module but the assembly imports `villageaffairs`.",
        sources=nodes_in(BASE, SHARED, TIP),
        forbidden=nodes_in(VILLAGE),
    ),
    Rule(
        8,
        "Nothing imports the assembly but the assembly and its entry point.",
        sources=nodes_in(BASE, SHARED, TIP, VILLAGE),
        forbidden=nodes_in(ASSEMBLY, ENTRY),
    ),
)
NO_CYCLES_RULE = 9
NO_CYCLES_TEXT = "No package-level import cycles."


# --- The graph ---------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Import:
    """One import statement's arrow between two nodes."""

    source: str
    target: str
    path: str  # relative to the repository
    line: int
    module: str  # what the statement names there, e.g. "tipline.cli.CommandError, ..."

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.source} -> {self.target} (imports {self.module})"


def node_of(module: str, root: Path) -> str | None:
    """The node ``module`` belongs to, or None if it is outside the two packages."""
    parts = module.split(".")
    if parts[0] not in TOP_PACKAGES:
        return None
    if len(parts) == 1:
        return parts[0]
    second = root / parts[0] / parts[1]
    if second.is_dir() or second.with_suffix(".py").is_file():
        return f"{parts[0]}.{parts[1]}"
    return parts[0]  # a name defined in the top package's __init__


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.Module, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of everything ``tree`` imports, wherever the statement is.

    For ``from a.b import c`` the name is ``a.b.c`` (``c`` may be a module or a name in
    ``a.b``; :func:`node_of` resolves either to the right node)."""
    for statement in ast.walk(tree):
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                yield statement.lineno, alias.name
        elif isinstance(statement, ast.ImportFrom):
            if statement.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (statement.level - 1)]
                base = ".".join([*package, *([statement.module] if statement.module else [])])
            else:
                base = statement.module or ""
            for alias in statement.names:
                yield statement.lineno, f"{base}.{alias.name}" if alias.name != "*" else base


def build_graph(root: Path) -> list[Import]:
    """Every arrow between two different nodes in the packages under ``root``."""
    found: list[Import] = []
    for top in TOP_PACKAGES:
        for path in sorted((root / top).rglob("*.py")):
            module = module_name(path, root)
            source = node_of(module, root)
            assert source is not None
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            names: dict[tuple[int, str], list[str]] = defaultdict(list)
            for line, name in imported_modules(tree, module, path.name == "__init__.py"):
                target = node_of(name, root)
                if target is not None and target != source:
                    names[line, target].append(name)
            relative = path.relative_to(root).as_posix()
            found.extend(
                Import(source, target, relative, line, ", ".join(sorted(set(imported))))
                for (line, target), imported in names.items()
            )
    return sorted(found)


# --- The checks --------------------------------------------------------------------------


def _adjacency(imports: Iterable[Import]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        graph[imp.source].add(imp.target)
        graph.setdefault(imp.target, set())
    return graph


def tangles(imports: Iterable[Import]) -> list[set[str]]:
    """The strongly connected components of more than one node: sets of packages that
    all reach each other (Tarjan's algorithm; ~50 nodes, so recursion is fine)."""
    graph = _adjacency(imports)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(components, key=min)


def find_cycles(imports: Iterable[Import]) -> list[list[str]]:
    """One shortest cycle (a closed path of nodes) through the first node, by name, of
    each tangle; an empty list if the graph has none."""
    imports = list(imports)
    graph = _adjacency(imports)
    cycles = []
    for component in tangles(imports):
        start = min(component)
        previous: dict[str, str] = {}  # breadth first from start, back to start
        frontier = [start]
        while frontier and start not in previous:
            following = []
            for node in frontier:
                for target in sorted(graph[node] & component):
                    if target not in previous:
                        previous[target] = node
                        following.append(target)
            frontier = following
        path = [start]
        node = previous[start]
        while node != start:
            path.append(node)
            node = previous[node]
        path.append(start)
        cycles.append(path[::-1])
    return sorted(cycles)


def describe_cycles(imports: Iterable[Import]) -> str:
    """Each tangle's packages, one cycle through it and the imports along that cycle."""
    imports = list(imports)
    by_arrow: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for imp in imports:
        by_arrow[imp.source, imp.target].append(imp)
    lines = []
    for component, cycle in zip(tangles(imports), find_cycles(imports), strict=True):
        members = ", ".join(sorted(component))
        lines.append(f"{len(component)} packages reach each other: {members}")
        lines.append("  one cycle among them: " + " -> ".join(cycle) + ", through:")
        for source, target in itertools.pairwise(cycle):
            lines.extend(f"    {imp}" for imp in by_arrow[source, target])
    return "\n".join(lines)


def forbidden_imports(imports: Iterable[Import], rules: Iterable[Rule]) -> list[str]:
    rules = list(rules)
    return [
        f"{imp}: breaks rule {rule.number}, {rule.text}"
        for imp in imports
        for rule in rules
        if rule.forbids(imp.source, imp.target)
    ]


def unmapped(imports: Iterable[Import], map_: Mapping[str, str]) -> list[str]:
    return sorted(
        {
            f"{node} (first seen at {imp.path}:{imp.line})"
            for imp in imports
            for node in (imp.source, imp.target)
            if node not in map_
        }
    )


# --- The tests on the real code ----------------------------------------------------------


@pytest.fixture(scope="module")
def graph() -> list[Import]:
    return build_graph(ROOT)


def test_the_graph_is_read(graph: list[Import]) -> None:
    """A graph that lost its arrows would pass every check below."""
    arrows = {(imp.source, imp.target) for imp in graph}
    assert ("tipline.cases", "tipline.intake") in arrows
    assert ("villageaffairs.elections", "villageaffairs.committees") in arrows
    assert ("tipline.app", "villageaffairs.registers") in arrows
    # a function-level import counts like a module-level one
    assert any(imp.source == "tipline.cli" and imp.target == "tipline.accounts" for imp in graph), (
        "cli imports the accounts' commands inside build_parser"
    )


def test_every_package_is_on_the_map(graph: list[Import]) -> None:
    nodes = {
        node_of(module_name(path, ROOT), ROOT)
        for top in TOP_PACKAGES
        for path in (ROOT / top).rglob("*.py")
    }
    missing = sorted(str(node) for node in nodes if node not in MAP)
    assert not missing, (
        "packages missing from the map (add them to docs/ARCHITECTURE.md and to MAP in "
        f"this test): {missing}"
    )
    assert not unmapped(graph, MAP)


def test_no_package_level_cycles(graph: list[Import]) -> None:
    assert not find_cycles(graph), (
        f"rule {NO_CYCLES_RULE} of docs/ARCHITECTURE.md, no package-level import cycles:\n"
        + describe_cycles(graph)
    )


def test_no_forbidden_arrows(graph: list[Import]) -> None:
    broken = forbidden_imports(graph, RULES)
    assert not broken, "imports the map forbids (docs/ARCHITECTURE.md):\n" + "\n".join(broken)


def _section(title: str) -> str:
    text = DOCUMENT.read_text(encoding="utf-8")
    assert f"\n## {title}\n" in text, f"docs/ARCHITECTURE.md has no section {title!r}"
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_document_maps_the_same_packages_to_the_same_layers() -> None:
    rows = re.findall(
        r"^\| `((?:tipline|villageaffairs)[\w.]*)` \| (\w+) \|", _section("The map"), re.M
    )
    documented = dict(rows)
    assert len(documented) == len(rows), "a package is listed twice in the document's map"
    assert documented == MAP, (
        f"only in the document: {sorted(documented.keys() - MAP.keys())}; "
        f"only in this test's MAP: {sorted(MAP.keys() - documented.keys())}; "
        "in other layers: "
        f"{sorted(n for n in documented.keys() & MAP.keys() if documented[n] != MAP[n])}"
    )


def test_the_document_states_the_same_rules() -> None:
    """Each rule here is the numbered rule of the document with the same words."""
    found = re.findall(r"^(\d+)\. \*\*(.+?)\*\*", _section("The arrows"), re.M)
    documented = {int(number): text for number, text in found}
    here = {rule.number: rule.text for rule in RULES} | {NO_CYCLES_RULE: NO_CYCLES_TEXT}
    assert documented == here


def test_the_document_numbers_the_ten_principles() -> None:
    numbered = [int(n) for n in re.findall(r"^(\d+)\. \*\*", _section("Principles"), re.M)]
    assert numbered == list(range(1, 11))


# --- Negative controls: the checker on small synthetic graphs ---------------------------


def synthetic(tmp_path: Path, files: Mapping[str, str]) -> list[Import]:
    for relative, source in {
        "tipline/__init__.py": "",
        "villageaffairs/__init__.py": "",
        **files,
    }.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return build_graph(tmp_path)


def test_control_a_cycle_is_found_and_named(tmp_path: Path) -> None:
    graph = synthetic(
        tmp_path,
        {
            "tipline/cases/__init__.py": "",
            "tipline/cases/services.py": "from tipline.duedates import services\n",
            "tipline/duedates/__init__.py": "",
            # inside a function, and a name of the package's __init__
            "tipline/duedates/services.py": "def f():\n    from tipline.cases import Tip\n",
            "tipline/db.py": "import tipline.settings\n",
            "tipline/settings.py": "",
        },
    )
    assert find_cycles(graph) == [["tipline.cases", "tipline.duedates", "tipline.cases"]]
    message = describe_cycles(graph)
    assert "2 packages reach each other: tipline.cases, tipline.duedates" in message
    assert "tipline/duedates/services.py:2: tipline.duedates -> tipline.cases" in message
    assert "tipline/cases/services.py:1: tipline.cases -> tipline.duedates" in message


def test_control_a_longer_cycle_through_relative_and_type_checking_imports(
    tmp_path: Path,
) -> None:
    graph = synthetic(
        tmp_path,
        {
            "villageaffairs/a/__init__.py": "from ..b import x\n",
            "villageaffairs/b/__init__.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    import villageaffairs.c.tables\n",
            "villageaffairs/c/__init__.py": "",
            "villageaffairs/c/tables.py": "from villageaffairs import a\n",
            "villageaffairs/d.py": "from villageaffairs.a import x\n",
        },
    )
    assert find_cycles(graph) == [
        ["villageaffairs.a", "villageaffairs.b", "villageaffairs.c", "villageaffairs.a"]
    ]
    assert tangles(graph) == [{"villageaffairs.a", "villageaffairs.b", "villageaffairs.c"}]


def test_control_an_acyclic_graph_passes(tmp_path: Path) -> None:
    graph = synthetic(
        tmp_path,
        {
            "tipline/cases/__init__.py": "from tipline.intake import x\n",
            "tipline/intake/__init__.py": "from tipline.crypto import y\n",
            "tipline/crypto/__init__.py": "",
        },
    )
    assert len(graph) == 2
    assert find_cycles(graph) == []
    assert forbidden_imports(graph, RULES) == []


def test_control_forbidden_arrows_are_found(tmp_path: Path) -> None:
    graph = synthetic(
        tmp_path,
        {
            "tipline/web/__init__.py": "",
            "tipline/web/templating.py": "from tipline.cases.nav import NAV\n",
            "tipline/cases/__init__.py": "",
            "tipline/cases/nav.py": "from tipline.intake import services\n",
            "tipline/intake/__init__.py": "import tipline.ledger\n",
            "tipline/ledger/__init__.py": "",
            "tipline/filecleaning/__init__.py": "",
            "tipline/cli.py": "",
            "villageaffairs/noticeboards/__init__.py": "",
            "villageaffairs/noticeboards/services.py": (
                "from tipline.intake.attachments import clean\n"
                "from tipline.filecleaning import clean_attachment\n"
                "def run():\n    from tipline import cli\n"
            ),
        },
    )
    assert find_cycles(graph) == []
    broken = forbidden_imports(graph, RULES)
    assert sorted(broken) == sorted(
        [
            "tipline/web/templating.py:1: tipline.web -> tipline.cases "
            f"(imports tipline.cases.nav.NAV): breaks rule 1, {rule(1).text}",
            "villageaffairs/noticeboards/services.py:1: villageaffairs.noticeboards -> "
            "tipline.intake (imports tipline.intake.attachments.clean)"
            f": breaks rule 6, {rule(6).text}",
            "villageaffairs/noticeboards/services.py:4: villageaffairs.noticeboards -> "
            f"tipline.cli (imports tipline.cli): breaks rule 6, {rule(6).text}",
            "villageaffairs/noticeboards/services.py:4: villageaffairs.noticeboards -> "
            f"tipline.cli (imports tipline.cli): breaks rule 8, {rule(8).text}",
        ]
    )


def rule(number: int) -> Rule:
    return next(r for r in RULES if r.number == number)


def test_control_each_rule_forbids_what_the_document_says() -> None:
    assert rule(1).forbids("tipline.db", "tipline.reliability")
    assert rule(1).forbids("tipline.web", "villageaffairs.campaigns")
    assert not rule(1).forbids("tipline.db", "tipline.faults")
    assert rule(2).forbids("tipline.ledger", "tipline.accounts")
    assert not rule(2).forbids("tipline.ledger", "tipline.db")
    assert rule(3).forbids("tipline.crypto", "tipline.reliability")
    assert rule(3).forbids("tipline.crypto", "tipline.intake")
    assert not rule(3).forbids("tipline.crypto", "tipline.ledger")
    assert rule(4).forbids("tipline.intake", "tipline.cases")
    assert rule(4).forbids("tipline.intake", "tipline.accounts")
    assert not rule(4).forbids("tipline.cases", "tipline.intake")
    assert rule(5).forbids("tipline.filecleaning", "tipline.db")
    assert not rule(5).forbids("tipline.filecleaning", "tipline.errors")
    assert rule(6).forbids("villageaffairs.elections", "tipline.duedates")
    assert not rule(6).forbids("villageaffairs.noticeboards", "tipline.filecleaning")
    assert not rule(6).forbids("villageaffairs.elections", "tipline.orgunits")
    assert rule(7).forbids("tipline.oversight", "villageaffairs.elections")
    assert rule(8).forbids("tipline.ledger", "tipline.cli")
    assert not rule(8).forbids("tipline.__main__", "tipline.cli")
    assert not any(r.forbids("tipline.app", "villageaffairs.elections") for r in RULES)
    assert not any(r.forbids("tipline.cli", "tipline.demo") for r in RULES)


# --- hand-written SQL goes through tipline.db (docs/ARCHITECTURE.md) ------------------------

SQL_OUTSIDE_THE_ENGINE = re.compile(r"\.raw\(|sqlite3\.connect\(|asyncpg\.connect\(")
MAY_OPEN_THE_DATABASE = {
    "tipline/db.py": "the engine itself",
    "tipline/reliability/backup.py": "copies the SQLite file and dumps PostgreSQL",
    "tipline/scheduler/services.py": "the leader's advisory lock holds a session of its own",
}


def sql_outside_the_engine(root: Path) -> list[str]:
    """Every ``Table.raw(``, ``sqlite3.connect(`` and ``asyncpg.connect(`` outside the
    modules allowed to open the database themselves."""
    found = []
    for path in sorted([*root.glob("tipline/**/*.py"), *root.glob("villageaffairs/**/*.py")]):
        relative = path.relative_to(root).as_posix()
        if relative in MAY_OPEN_THE_DATABASE:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SQL_OUTSIDE_THE_ENGINE.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_hand_written_sql_goes_through_the_engine() -> None:
    found = sql_outside_the_engine(ROOT)
    assert not found, "use tipline.db.fetch / insert_values / read_snapshot:\n" + "\n".join(found)


def test_control_sql_behind_the_engine_is_found(tmp_path: Path) -> None:
    module = tmp_path / "tipline" / "ledger" / "fast.py"
    module.parent.mkdir(parents=True)
    module.write_text("import sqlite3\nconnection = sqlite3.connect(path)\n")
    (tmp_path / "villageaffairs").mkdir()
    (tmp_path / "villageaffairs" / "x.py").write_text("rows = await Tip.raw('SELECT 1')\n")
    assert sql_outside_the_engine(tmp_path) == [
        "tipline/ledger/fast.py:2: connection = sqlite3.connect(path)",
        "villageaffairs/x.py:1: rows = await Tip.raw('SELECT 1')",
    ]
