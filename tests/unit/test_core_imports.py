"""The package graph of `loans/`: `loans/core` is the floor the domain areas stand on and imports none of them,
and no two packages import each other, directly or round a longer loop (docs/architecture.md, Dependencies)."""

import ast
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path

import loans
import loans.core

ALLOWED = ("loans.core", "loans.settings", "loans.money")
# core, money and settings are one floor: core's schemas parse money, money raises core's errors, the settings
# build core's clock. The graph counts them as one node.
FLOOR = {"money": "core", "settings": "core"}


def _imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at module level or inside a function: ``from loans import x`` as loans.x,
    relative imports resolved."""
    package = path.parent.relative_to(Path(loans.__file__).parent.parent).parts
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            modules.add(module)
            modules |= {f"{module}.{alias.name}" for alias in node.names if module == "loans"}
    return modules


def test_core_imports_no_domain_package():
    core = Path(loans.core.__file__).parent
    found = {
        (path.name, module)
        for path in core.glob("*.py")
        for module in _imported(path)
        if module.split(".")[0] in ("loans", "reports", "workers")
        and not any(module == allowed or module.startswith(f"{allowed}.") for allowed in ALLOWED)
    }
    assert len(list(core.glob("*.py"))) > 5
    assert found == set()


def _node(parts: tuple[str, ...]) -> str:
    """The package (or top-level module) of ``loans/``, a module's path inside it, belongs to."""
    name = parts[0].removesuffix(".py")
    return FLOOR.get(name, name)


def package_graph() -> dict[tuple[str, str], set[str]]:
    """(importing package, imported package) -> the importing modules, for every import across packages."""
    root = Path(loans.__file__).parent
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in root.rglob("*.py"):
        source = _node(path.relative_to(root).parts)
        for module in _imported(path):
            parts = module.split(".")
            if parts[0] == "loans" and len(parts) > 1 and (target := _node((parts[1],))) != source:
                edges[(source, target)].add(f"{path.relative_to(root.parent)} imports {module}")
    return edges


def cycles(edges: Mapping[tuple[str, str], object]) -> list[set[str]]:
    """The strongly connected components of more than one package (Tarjan): every package in one reaches
    every other, so each is a cycle (A -> B -> A, or round a longer loop)."""
    successors: dict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        successors[source].append(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in successors[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while (member := stack.pop()) != node:
                component.add(member)
            if component:
                found.append(component | {node})

    for node in sorted(set(successors)):
        if node not in index:
            visit(node)
    return found


def _described(component: set[str], edges: Mapping[tuple[str, str], set[str]]) -> Iterator[str]:
    for (source, target), modules in sorted(edges.items()):
        if source in component and target in component:
            yield f"{source} -> {target}: {', '.join(sorted(modules))}"


def test_cycles_are_found_round_longer_loops():
    edges = {("a", "b"): set(), ("b", "c"): set(), ("c", "a"): set(), ("c", "d"): set(), ("d", "e"): set()}
    assert cycles(edges) == [{"a", "b", "c"}]
    assert cycles({("a", "b"): set(), ("b", "a"): set(), ("c", "c"): set()}) == [{"a", "b"}]


def test_no_import_cycle_between_packages():
    edges = package_graph()
    assert ("applications", "applicants") in edges and ("server", "web") in edges  # the graph is really read
    loops = ["\n".join(_described(component, edges)) for component in cycles(edges)]
    assert loops == [], "import cycles between packages of loans/:\n\n" + "\n\n".join(loops)
