"""The application's state machine (SPEC section 3): one table, every transition and who may make it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from loans.core.actor import Actor
from loans.core.errors import Conflict
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
    sources: frozenset[Status]
    target: Status
    roles: frozenset[Role]


BEFORE_DISBURSEMENT = frozenset(
    {
        Status.DRAFT,
        Status.VILLAGE_CERTIFIED,
        Status.TOWNSHIP_SUBMITTED,
        Status.COUNTY_RECOMMENDED,
        Status.BANK_APPROVED,
    }
)

TRANSITIONS: dict[Action, Transition] = {
    Action.CERTIFY_VILLAGE: Transition(
        frozenset({Status.DRAFT}),
        Status.VILLAGE_CERTIFIED,
        frozenset({Role.VILLAGE_OFFICER, Role.TOWNSHIP_STAFF}),
    ),
    Action.SUBMIT: Transition(
        frozenset({Status.DRAFT, Status.VILLAGE_CERTIFIED}),
        Status.TOWNSHIP_SUBMITTED,
        frozenset({Role.TOWNSHIP_STAFF}),
    ),
    Action.RECOMMEND: Transition(
        frozenset({Status.TOWNSHIP_SUBMITTED}), Status.COUNTY_RECOMMENDED, frozenset({Role.COUNTY_OFFICER})
    ),
    Action.REJECT: Transition(
        frozenset({Status.TOWNSHIP_SUBMITTED}), Status.REJECTED, frozenset({Role.COUNTY_OFFICER})
    ),
    Action.APPROVE: Transition(
        frozenset({Status.COUNTY_RECOMMENDED}), Status.BANK_APPROVED, frozenset({Role.BANK_LIAISON})
    ),
    Action.DECLINE: Transition(
        frozenset({Status.COUNTY_RECOMMENDED}), Status.DECLINED, frozenset({Role.BANK_LIAISON})
    ),
    Action.DISBURSE: Transition(
        frozenset({Status.BANK_APPROVED}), Status.DISBURSED, frozenset({Role.BANK_LIAISON})
    ),
    Action.WITHDRAW: Transition(BEFORE_DISBURSEMENT, Status.WITHDRAWN, frozenset({Role.TOWNSHIP_STAFF})),
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
