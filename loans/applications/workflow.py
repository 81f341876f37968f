"""The application's state machine (SPEC section 3): one table, every transition, who may make it and how it
is dated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from loans.core.actor import Actor
from loans.core.errors import Conflict, InvalidInput
from loans.core.roles import Role


class Status(StrEnum):
    DRAFT = "draft"
    VILLAGE_CERTIFIED = "village_certified"
    TOWNSHIP_SUBMITTED = "township_submitted"
    COUNTY_RECOMMENDED = "county_recommended"
    BANK_APPROVED = "bank_approved"
    DISBURSED = "disbursed"
    REJECTED = "rejected"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


STATUS_ZH = {
    Status.DRAFT: "草稿",
    Status.VILLAGE_CERTIFIED: "村级已出证明",
    Status.TOWNSHIP_SUBMITTED: "乡镇已报送",
    Status.COUNTY_RECOMMENDED: "县妇联已推荐",
    Status.BANK_APPROVED: "银行已审批",
    Status.DISBURSED: "已放款",
    Status.REJECTED: "县妇联未推荐",
    Status.DECLINED: "银行已拒贷",
    Status.WITHDRAWN: "已撤回",
}


class Action(StrEnum):
    CERTIFY_VILLAGE = "village_certification"
    SUBMIT = "submit"
    RECOMMEND = "county_recommend"
    REJECT = "county_reject"
    APPROVE = "bank_approve"
    DECLINE = "bank_decline"
    DISBURSE = "disburse"
    WITHDRAW = "withdraw"


@dataclass(frozen=True, slots=True)
class Transition:
    """``dated_by`` is the request field holding the date the step took effect on paper; ``kept_in`` the
    application column that keeps it (a disbursement's date is its loan's)."""

    sources: frozenset[Status]
    target: Status
    roles: frozenset[Role]
    dated_by: str
    kept_in: str | None


BEFORE_DISBURSEMENT = frozenset(
    {
        Status.DRAFT,
        Status.VILLAGE_CERTIFIED,
        Status.TOWNSHIP_SUBMITTED,
        Status.COUNTY_RECOMMENDED,
        Status.BANK_APPROVED,
    }
)

TOWNSHIP = frozenset({Role.TOWNSHIP_STAFF})
COUNTY = frozenset({Role.COUNTY_OFFICER})
BANK = frozenset({Role.BANK_LIAISON})

TRANSITIONS: dict[Action, Transition] = {
    Action.CERTIFY_VILLAGE: Transition(
        frozenset({Status.DRAFT}),
        Status.VILLAGE_CERTIFIED,
        frozenset({Role.VILLAGE_OFFICER, Role.TOWNSHIP_STAFF}),
        "issued_on",
        "village_certified_on",
    ),
    Action.SUBMIT: Transition(
        frozenset({Status.DRAFT, Status.VILLAGE_CERTIFIED}),
        Status.TOWNSHIP_SUBMITTED,
        TOWNSHIP,
        "submitted_on",
        "submitted_on",
    ),
    Action.RECOMMEND: Transition(
        frozenset({Status.TOWNSHIP_SUBMITTED}),
        Status.COUNTY_RECOMMENDED,
        COUNTY,
        "reviewed_on",
        "reviewed_on",
    ),
    Action.REJECT: Transition(
        frozenset({Status.TOWNSHIP_SUBMITTED}), Status.REJECTED, COUNTY, "reviewed_on", "reviewed_on"
    ),
    Action.APPROVE: Transition(
        frozenset({Status.COUNTY_RECOMMENDED}), Status.BANK_APPROVED, BANK, "decided_on", "decided_on"
    ),
    Action.DECLINE: Transition(
        frozenset({Status.COUNTY_RECOMMENDED}), Status.DECLINED, BANK, "decided_on", "decided_on"
    ),
    Action.DISBURSE: Transition(
        frozenset({Status.BANK_APPROVED}), Status.DISBURSED, BANK, "disbursed_on", None
    ),
    Action.WITHDRAW: Transition(
        BEFORE_DISBURSEMENT, Status.WITHDRAWN, TOWNSHIP, "withdrawn_on", "withdrawn_on"
    ),
}

# The application column with the date each state was entered on: a step out of a state may not be dated
# before it (a draft has no such date, so a step out of it may be dated as far back as the paper goes).
ENTERED_ON: dict[Status, str] = {
    t.target: t.kept_in
    for t in TRANSITIONS.values()
    if t.kept_in is not None and t.target in BEFORE_DISBURSEMENT
}

ENTERED_ON_ZH = {
    Status.VILLAGE_CERTIFIED: "村级证明出具日期",
    Status.TOWNSHIP_SUBMITTED: "乡镇报送日期",
    Status.COUNTY_RECOMMENDED: "县妇联审查日期",
    Status.BANK_APPROVED: "银行审批日期",
}


def require_role(action: Action, actor: Actor) -> Transition:
    transition = TRANSITIONS[action]
    actor.require(*sorted(transition.roles))
    return transition


def require_state(action: Action, current: str) -> Status:
    """The target status, or 409 naming the current state when ``action`` is not allowed from it."""
    transition = TRANSITIONS[action]
    status = Status(current)
    if status not in transition.sources:
        allowed = ", ".join(sorted(transition.sources))
        raise Conflict(
            f"cannot {action} an application in state {status} (allowed from: {allowed})",
            f"申请当前状态为「{STATUS_ZH[status]}」，不能执行此操作",
            state=status.value,
        )
    return transition.target


def require_step_date(action: Action, application: Any, on: date, today: date) -> None:
    """422 naming the step's date field when ``on`` is in the future or before the date the application entered
    its current state (SPEC section 3, "What happened on paper")."""
    transition = TRANSITIONS[action]
    if on > today:
        raise InvalidInput(transition.dated_by, f"{on} is in the future", f"日期 {on} 不能晚于今天")
    status = Status(application.status)
    column = ENTERED_ON.get(status)
    entered_on = getattr(application, column) if column else None
    if entered_on is not None and on < entered_on:
        raise InvalidInput(
            transition.dated_by,
            f"{on} is before the application became {status} on {entered_on}",
            f"日期 {on} 早于{ENTERED_ON_ZH[status]} {entered_on}",
        )


def allowed_actions(role: Role, current: str) -> list[Action]:
    """The actions ``role`` may take on an application in state ``current``, in the table's order."""
    status = Status(current)
    return [action for action, t in TRANSITIONS.items() if role in t.roles and status in t.sources]


def waiting_statuses(role: Role) -> dict[Action, frozenset[Status]]:
    """For each forward step ``role`` makes (withdrawal is no step forward), the states that wait for it."""
    return {
        action: t.sources
        for action, t in TRANSITIONS.items()
        if role in t.roles and action != Action.WITHDRAW
    }
