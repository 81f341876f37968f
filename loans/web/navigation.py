"""The left menu: what each role works on (a link is shown only where the role has work; the services still
decide what it may do)."""

from __future__ import annotations

from dataclasses import dataclass

from loans.core.actor import Actor
from loans.core.roles import Role

EVERYONE = frozenset(Role)
READERS = frozenset(Role) - {Role.ADMIN}


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
    MenuItem("修改密码", "/password", EVERYONE),
)


def menu_for(actor: Actor) -> list[MenuItem]:
    return [item for item in MENU if actor.role in item.roles]
