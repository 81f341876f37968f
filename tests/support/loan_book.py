"""Rows of the existing loan book's import file, as a county clerk fills in the template."""

from __future__ import annotations

from tests.support.world import PRODUCT, VILLAGE

HEADER = (
    "合同编号,身份证号码,姓名,联系电话,村（社区）代码,贷款产品代码,借款人类型,贷款金额,年利率,期限（月）,还款方式,"
    "放款日期,项目类型,带动就业人数,担保基金"
)


def book_line(contract: str, national_id: str, fund: str, **overrides: str) -> str:
    """A row of HEADER; ``fund``: the guarantee fund's id (other tests add funds of the same name)."""
    row = {
        "contract": contract,
        "id": national_id,
        "name": "李桂兰",
        "phone": "13909351234",
        "village": VILLAGE,
        "product": PRODUCT,
        "kind": "个人",
        "amount": '"50,000.00"',  # quoted: a thousands separator
        "rate": "4.35%",
        "term": "24",
        "method": "按季付息、到期还本",
        "disbursed": "2025-03-10",
        "project": "养殖",
        "jobs": "3",
        "fund": fund,
    } | overrides
    return ",".join(row.values())
