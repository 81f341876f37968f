"""The left menu: what each role works on (a link is shown only where the role has work; the services still
decide what it may do)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from loans.core.actor import Actor
from loans.core.roles import Role
from loans.funds.compensation import COMPENSATORS
from loans.visits.service import VISITORS

EVERYONE = frozenset(Role)
READERS = frozenset(Role) - {Role.ADMIN}
# The API lets every role read the county risk report in its scope; the village head's work is her certificates.
REPORT_READERS = frozenset(Role) - {Role.VILLAGE_OFFICER}


@dataclass(frozen=True, slots=True)
class MenuItem:
    label: str
    href: str
    roles: frozenset[Role]


MENU = (
    MenuItem("我的待办", "/todo", EVERYONE),
    MenuItem("申请人登记", "/applicants/new", frozenset({Role.TOWNSHIP_STAFF})),
    MenuItem("借款人档案", "/applicants", READERS),
    MenuItem("村证明待办", "/applications?status=draft", frozenset({Role.VILLAGE_OFFICER})),
    MenuItem("贷款申请", "/applications", READERS - {Role.VILLAGE_OFFICER}),
    MenuItem("申请复核", "/applications?status=township_submitted", frozenset({Role.COUNTY_OFFICER})),
    MenuItem("待审批", "/applications?status=county_recommended", frozenset({Role.BANK_LIAISON})),
    MenuItem("待放款", "/applications?status=bank_approved", frozenset({Role.BANK_LIAISON})),
    MenuItem("还款登记", "/repayments/due", frozenset({Role.BANK_LIAISON})),
    MenuItem("银行还款文件", "/imports", frozenset({Role.BANK_LIAISON})),
    MenuItem("贷款台账", "/loans", READERS - {Role.VILLAGE_OFFICER}),
    MenuItem("逾期台账", "/loans?status=overdue", READERS),
    MenuItem("本镇逾期跟进", "/follow-ups?show=overdue", frozenset(VISITORS)),
    MenuItem("贷后走访", "/follow-ups?show=visit_due", frozenset(VISITORS)),
    MenuItem("可代偿贷款", "/follow-ups?show=claimable", frozenset({*COMPENSATORS, Role.BANK_LIAISON})),
    MenuItem("提醒", "/reminders", READERS),
    MenuItem("县级风险报告", "/reports/county-risk", REPORT_READERS),
    MenuItem("修改密码", "/password", EVERYONE),
)


def menu_for(actor: Actor) -> list[MenuItem]:
    return [item for item in MENU if actor.role in item.roles]


def current_item(items: list[MenuItem], path: str, query: str) -> MenuItem | None:
    """The menu item of the page: the one naming the path and query exactly, else one naming the path and part
    of the query (a list's next page, a search in it), else the one naming the path."""
    full = f"{path}?{query}" if query else path
    asked = set(parse_qsl(query))
    return (
        next((i for i in items if i.href == full), None)
        or next((i for i in items if _within(i.href, path, asked)), None)
        or next((i for i in items if i.href == path), None)
    )


def _within(href: str, path: str, asked: set[tuple[str, str]]) -> bool:
    item_path, _, item_query = href.partition("?")
    return item_path == path and bool(item_query) and set(parse_qsl(item_query)) <= asked
