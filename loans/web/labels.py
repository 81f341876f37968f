"""Chinese names of coded values, for the pages. The reports' labels are the source where they have one."""

from __future__ import annotations

from loans.applicants.schemas import Course
from loans.applications.workflow import STATUS_ZH, Action, Status
from loans.core.roles import ROLE_ZH
from loans.products.schemas import BorrowerKind
from loans.reminders.outbox import EVENTS_ZH
from reports.render.labels import (
    BUCKET_LABELS,
    BUSINESS_STATUS_LABELS,
    CATEGORY_LABELS,
    FIVE_CLASS_LABELS,
    LOAN_STATUS_LABELS,
    PROJECT_TYPE_LABELS,
    REPAYMENT_METHOD_LABELS,
)

BORROWER_KIND_ZH = {
    BorrowerKind.INDIVIDUAL: "个人",
    BorrowerKind.PARTNERSHIP: "合伙经营",
    BorrowerKind.ENTERPRISE: "妇字号小微企业",
    BorrowerKind.COOPERATIVE: "专业合作社",
}
COURSE_ZH = {
    Course.SYB: "SYB 创办你的企业",
    Course.IYB: "IYB 改善你的企业",
    Course.ECOMMERCE: "电子商务",
    Course.SKILLS: "技能培训",
    Course.OTHER: "其他",
}
ACTION_ZH = {
    Action.CERTIFY_VILLAGE: "出具村级证明",
    Action.SUBMIT: "报送县妇联",
    Action.RECOMMEND: "推荐",
    Action.REJECT: "不予推荐",
    Action.APPROVE: "审批通过",
    Action.DECLINE: "拒贷",
    Action.DISBURSE: "放款",
    Action.WITHDRAW: "撤回申请",
    "create": "登记申请",
}
# What an application in each state waits for, on the work queue.
WAITING_ZH = {
    Status.DRAFT: "草稿：待出具村级证明",
    Status.VILLAGE_CERTIFIED: "村级已出证明：待报送县妇联",
    Status.TOWNSHIP_SUBMITTED: "乡镇已报送：待县妇联复核",
    Status.COUNTY_RECOMMENDED: "县妇联已推荐：待银行审批",
    Status.BANK_APPROVED: "银行已审批：待放款",
}

INSTALLMENT_STATUS_ZH = {"pending": "待还", "partial": "部分已还", "overdue": "逾期", "paid": "已还清"}

BACKGROUND_STATUS_ZH = {"queued": "排队中", "running": "处理中", "done": "已完成", "failed": "处理失败"}
RISK_LEVEL_ZH = {"low": "低", "medium": "中", "high": "高"}
FUND_USE_ZH = {"True": "按约定用途使用", "False": "未按约定用途使用"}
REMINDER_STATE_ZH = {"queued": "待发送", "failed": "发送失败", "sent": "已发送"}

OUTCOME_ZH = {"posted": "已入账", "duplicate": "重复", "rejected": "拒绝", "created": "已创建"}

LABELS: dict[str, dict[str, str]] = {
    "status": {str(k): v for k, v in STATUS_ZH.items()},
    "loan_status": LOAN_STATUS_LABELS,
    "role": {str(k): v for k, v in ROLE_ZH.items()},
    "category": CATEGORY_LABELS,
    "project_type": PROJECT_TYPE_LABELS,
    "repayment_method": REPAYMENT_METHOD_LABELS,
    "borrower_kind": {str(k): v for k, v in BORROWER_KIND_ZH.items()},
    "course": {str(k): v for k, v in COURSE_ZH.items()},
    "action": {str(k): v for k, v in ACTION_ZH.items()},
    "bucket": BUCKET_LABELS,
    "installment_status": INSTALLMENT_STATUS_ZH,
    "import_status": BACKGROUND_STATUS_ZH,
    "job_status": BACKGROUND_STATUS_ZH,
    "outcome": OUTCOME_ZH,
    "five_class": FIVE_CLASS_LABELS,
    "business_status": BUSINESS_STATUS_LABELS,
    "risk_level": RISK_LEVEL_ZH,
    "fund_use": FUND_USE_ZH,
    "reminder_event": EVENTS_ZH,
    "reminder_state": REMINDER_STATE_ZH,
}


def label(kind: str, value: object) -> str:
    """The Chinese name of ``value``; an unknown code shows as itself rather than disappearing."""
    if value is None:
        return ""
    return LABELS[kind].get(str(value), str(value))
