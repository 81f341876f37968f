"""`loans/core` is the floor the domain areas stand on: it imports none of them."""

import ast
from pathlib import Path

import loans.core

ALLOWED = ("loans.core", "loans.settings", "loans.money")


def _imported(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
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
