"""The asyncpg driver under SQLAlchemy is used only where it is needed: the repayment ledger (a posting's hot
statements, a bank file's batches) and the bulk COPY readers and writers; each module says why in its docstring."""

import ast
from pathlib import Path

import loans

ROOT = Path(loans.__file__).parent.parent
# module -> the word its docstring gives as the reason
ALLOWED = {
    "loans/core/driver.py": "asyncpg",
    "loans/repayments/ledger/entries.py": "driver",
    "loans/repayments/ledger/replays.py": "driver",
    "loans/repayments/ledger/write.py": "driver",
    "loans/repayments/value_dating.py": "driver connection",
    "loans/imports/posting.py": "COPY",
    "loans/imports/book_posting.py": "COPY",
    "loans/bulk/load.py": "COPY",
    "loans/bulk/rows.py": "COPY",
    "reports/loader.py": "COPY",
}


# asyncpg's own methods: the session has none of these
DRIVER_METHODS = {
    "copy_records_to_table", "copy_to_table", "copy_from_query", "copy_from_table", "fetch", "fetchrow", "fetchval",
    "get_raw_connection", "driver_connection",
}  # fmt: skip


def _uses_driver(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            alias.name.split(".")[0] == "asyncpg" for alias in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "asyncpg":
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "loans.core.driver":
            return True
        if isinstance(node, ast.Attribute) and node.attr in DRIVER_METHODS:
            return True
    return False


def test_the_driver_is_used_only_where_a_docstring_says_why() -> None:
    users = {}
    for folder in ("loans", "reports", "workers"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if _uses_driver(tree):
                users[path.relative_to(ROOT).as_posix()] = ast.get_docstring(tree) or ""
    assert "loans/repayments/ledger/write.py" in users
    assert set(users) == set(ALLOWED), sorted(set(users) ^ set(ALLOWED))
    for module, docstring in users.items():
        assert ALLOWED[module] in docstring, module
