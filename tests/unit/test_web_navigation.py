"""The left menu marks the page's own item: a list's next page or a search in it stays under its item."""

from __future__ import annotations

from uuid import uuid4

from loans.core.actor import Actor
from loans.core.roles import Role
from loans.web.navigation import current_item, menu_for

TOWNSHIP = Actor(uuid4(), "township", Role.TOWNSHIP_STAFF, "620302100000")


def label_of(path: str, query: str = "") -> str | None:
    item = current_item(menu_for(TOWNSHIP), path, query)
    return item.label if item else None


def test_the_item_naming_path_and_query_wins_over_the_one_naming_the_path():
    assert label_of("/loans", "status=overdue") == "逾期台账"
    assert label_of("/loans") == "贷款台账"


def test_a_page_or_search_of_a_list_stays_under_its_item():
    assert label_of("/follow-ups", "show=visit_due&page=2") == "贷后走访"
    assert label_of("/follow-ups", "q=王&show=overdue") == "本镇逾期跟进"
    assert label_of("/loans", "status=overdue&bucket=1-30") == "逾期台账"


def test_a_page_no_item_names_marks_none():
    assert label_of("/follow-ups", "show=claimable") is None  # not a township's menu item
    assert label_of("/loans/123") is None
