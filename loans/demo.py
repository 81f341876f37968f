"""Demo data for `loans dev` and `loans demo-data`: a county's women's guaranteed loans, made by the services.

Everything is made by the real services (RegionService, BankService, ProductService, UserService,
FundService, ApplicantService, ApplicationService) acting as a user of the right role, so every rule
is checked and every step leaves the audit trail a real one would. The story runs over the last
twenty months before ``today``: the county sets up its fund, township offices register women and
their trainings, and applications travel village → township → county → bank, ending in every
status. ``load_demo_data`` is idempotent: when the demo county already exists it creates nothing.

Region codes follow the 统计用区划代码 layout; county and township codes are the published ones,
village and community codes are illustrative where the published list was not at hand.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from advanced_alchemy.mixins import AuditColumns
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from loans.applicants.models import Applicant, Training
from loans.applicants.schemas import ApplicantCreate, Category, Course, TrainingCreate
from loans.applicants.service import ApplicantService
from loans.applications.models import Application
from loans.applications.schemas import (
    ApplicationCreate,
    BankDecision,
    CountyReview,
    Disbursement,
    ProjectIn,
    ProjectType,
    VillageCertification,
    Withdrawal,
)
from loans.applications.service import ApplicationService
from loans.applications.workflow import Status
from loans.audit.models import AuditEvent
from loans.banks.models import Bank
from loans.banks.schemas import BankCreate
from loans.banks.service import BankService
from loans.bootstrap import ADMIN_USERNAME
from loans.core.actor import Actor
from loans.core.roles import Role
from loans.funds.models import GuaranteeFund
from loans.funds.schemas import DepositCreate, FundCreate
from loans.funds.service import FundService
from loans.loans.models import Loan
from loans.loans.schedule import RepaymentMethod
from loans.loans.service import LoanService
from loans.money import fen_to_yuan
from loans.products.schemas import BorrowerKind, GuaranteeMode, MaxAmounts, ProductCreate
from loans.products.service import ProductService
from loans.regions.models import Region
from loans.regions.schemas import RegionCreate
from loans.regions.service import RegionService
from loans.repayments.schemas import RepaymentCreate
from loans.repayments.service import RepaymentService
from loans.settings import Settings
from loans.users.models import User
from loans.users.schemas import UserCreate
from loans.users.service import UserService

DEMO_PASSWORD = "jinguo-demo-2026"
SEED = 2026

# --- what the demo county looks like ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoVillage:
    code: str
    name: str
    officer: str | None = None  # username of the village_officer (村/居妇代会主任), if the demo has one


@dataclass(frozen=True, slots=True)
class DemoTownship:
    code: str
    name: str
    staff: str  # username of the township_staff user (乡镇/街道妇联)
    villages: tuple[DemoVillage, ...]


@dataclass(frozen=True, slots=True)
class DemoBank:
    code: str
    name: str
    liaison: str  # username of the bank_liaison (合作银行信贷员)
    deposits: tuple[str, ...]  # yuan deposited into the county's guarantee fund held with this bank


@dataclass(frozen=True, slots=True)
class DemoCounty:
    code: str
    name: str
    city: str
    townships: tuple[DemoTownship, ...]  # exactly four: two urban (streets), then two rural (towns)
    banks: tuple[DemoBank, ...]  # exactly two
    product_code: str
    county_officer: str
    auditor: str
    birthplaces: tuple[str, ...]  # 6-digit prefixes for the women's ID numbers, the county's own first

    @property
    def prefix(self) -> str:
        return self.code[:6]


JINCHUAN = DemoCounty(
    code="620302000000",
    name="金川区",
    city="金昌市",
    townships=(
        DemoTownship(
            "620302001000",
            "滨河路街道",
            "township_binhelu",
            (DemoVillage("620302001001", "新华社区"), DemoVillage("620302001002", "金山社区")),
        ),
        DemoTownship(
            "620302002000",
            "桂林路街道",
            "township_guilinlu",
            (DemoVillage("620302002001", "桂林路社区"), DemoVillage("620302002002", "金泉社区")),
        ),
        DemoTownship(
            "620302100000",
            "宁远堡镇",
            "township_ningyuanbu",
            (
                DemoVillage("620302100201", "龙景村", officer="village_longjing"),
                DemoVillage("620302100202", "白家咀村"),
                DemoVillage("620302100203", "西坡村"),
            ),
        ),
        DemoTownship(
            "620302101000",
            "双湾镇",
            "township_shuangwan",
            (
                DemoVillage("620302101201", "陈家沟村"),
                DemoVillage("620302101202", "天生炕村"),
                DemoVillage("620302101203", "九个井村"),
            ),
        ),
    ),
    banks=(
        DemoBank("ABC-JC", "中国农业银行金川支行", "bank_abc", ("2000000.00", "1000000.00")),
        DemoBank("JCRCB", "甘肃金川农村商业银行", "bank_rcc", ("1000000.00",)),
    ),
    product_code="JC-CYDB-WOMEN",
    county_officer="county",
    auditor="auditor",
    birthplaces=("620302", "620302", "620302", "620321", "620102"),
)

# --- the women, their projects and how far each application got ---------------------------------

R, LO, RM, GR, RP, DI, VF = (
    Category.RURAL,
    Category.LAID_OFF,
    Category.RETURNING_MIGRANT,
    Category.GRADUATE,
    Category.REGISTERED_POOR,
    Category.DISABLED,
    Category.VETERAN_FAMILY,
)

# (name, age on `today`, categories). 0–6 live in the first street, 7–13 the second,
# 14–25 the first town, 26–35 the second; within a township they are spread over its villages in turn.
PEOPLE: tuple[tuple[str, int, tuple[Category, ...]], ...] = (
    ("刘春梅", 41, (LO,)),
    ("陈海燕", 38, (LO,)),
    ("杨晓红", 45, (LO,)),
    ("赵小芳", 33, (RM,)),
    ("孙雪梅", 29, (GR,)),
    ("何红霞", 47, (LO, VF)),
    ("郭亚楠", 26, (GR,)),
    ("徐婷婷", 27, (GR,)),
    ("高敏", 36, (LO,)),
    ("罗佳慧", 24, (GR,)),
    ("梁淑芬", 51, (LO, DI)),
    ("宋玉兰", 49, (LO,)),
    ("郑彩霞", 34, (RM,)),
    ("谢凤英", 55, (LO,)),
    ("王秀英", 52, (R,)),
    ("李桂兰", 56, (R, RP)),
    ("张丽娟", 39, (R,)),
    ("马玉梅", 43, (R, RM)),
    ("韩金花", 48, (R, RP)),
    ("唐燕", 31, (R, RM)),
    ("冯晓燕", 37, (R,)),
    ("于兰英", 54, (R,)),
    ("董秀珍", 50, (R, RP)),
    ("苏文娟", 35, (R, RM)),
    ("吕巧玲", 42, (R,)),
    ("蒋丽华", 30, (R, GR)),
    ("蔡桂芳", 46, (R,)),
    ("贾彩云", 40, (R, RP)),
    ("丁晓梅", 28, (R, RM)),
    ("薛红梅", 44, (R,)),
    ("闫玉珍", 53, (R, RP)),
    ("田小燕", 32, (R, RM)),
    ("任春燕", 38, (R,)),
    ("姚慧敏", 36, (R, RM)),
    ("白银花", 47, (R, DI)),
    ("马晓丽", 25, (R, GR)),
)
_TOWNSHIP_OF_PERSON = (0,) * 7 + (1,) * 7 + (2,) * 12 + (3,) * 10

# Training classes, (days before `today` the class started, length in days, course, title, provider
# template, certificate prefix or None). A woman's training is the latest class finished before she
# registered (seed 003: 3 classes of 巾帼创业SYB培训班).
CLASSES = (
    (640, 10, Course.SYB, "巾帼创业SYB培训班（第一期）", "{county}人社局", "SYB"),
    (520, 5, Course.ECOMMERCE, "巾帼电商直播带货培训班", "{county}妇联、{county}商务局", "DS"),
    (430, 10, Course.SYB, "巾帼创业SYB培训班（第二期）", "{county}人社局", "SYB"),
    (330, 7, Course.SKILLS, "巾帼家政服务技能培训班", "{city}妇联", None),
    (250, 10, Course.SYB, "巾帼创业SYB培训班（第三期）", "{county}人社局", "SYB"),
    (150, 8, Course.IYB, "妇女创业IYB改善你的企业培训班", "{county}人社局", "IYB"),
    (80, 6, Course.SKILLS, "巾帼手工刺绣技能培训班", "{city}妇联", None),
)
TRAINED = frozenset({0, 1, 3, 4, 7, 10, 12, 14, 15, 17, 20, 22, 24, 26, 29, 31, 32, 33, 34})


@dataclass(frozen=True, slots=True)
class Plan:
    """One demo application: whose, what for, and the status it ends in ``days_ago`` days before today."""

    person: int
    status: Status
    days_ago: int
    amount: str
    term: int
    method: RepaymentMethod
    _: KW_ONLY
    project: tuple[ProjectType, str, int, str]  # type, total investment (yuan), jobs expected, description
    bank: int = 0  # which of the county's banks (and the guarantee fund held with it)
    rate: str | None = None  # the bank's rate, for approvals
    approved: str | None = None  # set when the bank grants less than was asked
    partner: int | None = None
    licence: bool = False
    cooperative: str | None = None  # name template of a 专业合作社 borrower
    reason: str | None = None  # county opinion on a rejection, bank reason on a decline, withdrawal reason
    withdrawn_from: Status | None = None
    missed: int = 0  # how many of the last installments due by today she has not paid
    days_late: int = 0  # how late she pays each installment


P = ProjectType
M = RepaymentMethod
S = Status
QIB, MIB = M.QUARTERLY_INTEREST_BULLET, M.MONTHLY_INTEREST_BULLET

# fmt: off
PLANS: tuple[Plan, ...] = (
    # Disbursed, oldest first. With a 100 % subsidy the interest-bullet loans owe the borrower
    # nothing before maturity. The borrowers repay what falls due, but two loans are in arrears on
    # purpose: the 12-month loan matured a fortnight ago unpaid, and the equal-principal loan has
    # missed its latest month; one borrower pays a week late. The first three loans matured and were repaid.
    Plan(1, S.DISBURSED, 560, "50000.00", 12, QIB, rate="0.0435", project=(
        P.HANDICRAFT, "60000.00", 4, "民族服饰手工制作：裕固族、藏族服饰缝制，销往景区和网店")),
    Plan(4, S.DISBURSED, 520, "40000.00", 12, M.EQUAL_INSTALLMENT, bank=1, rate="0.0450", days_late=7, project=(
        P.SERVICES, "55000.00", 3, "洗衣店：干洗、水洗、皮衣护理，服务周边小区")),
    Plan(15, S.DISBURSED, 470, "30000.00", 12, M.BULLET, rate="0.0435", project=(
        P.PLANTING, "42000.00", 2, "食用菌种植：香菇大棚两座，供应县城农贸市场")),
    Plan(14, S.DISBURSED, 400, "100000.00", 36, QIB, rate="0.0435", project=(
        P.BREEDING, "180000.00", 3, "养殖肉羊：新建标准化羊舍200平方米，引进湖羊基础母羊60只，年出栏150只")),
    Plan(0, S.DISBURSED, 380, "30000.00", 12, QIB, rate="0.0450", missed=1, project=(
        P.SERVICES, "45000.00", 2, "社区美容美发店：租赁门面40平方米，购置美发椅、烫染设备")),
    Plan(26, S.DISBURSED, 340, "80000.00", 24, QIB, bank=1, rate="0.0465", project=(
        P.PLANTING, "120000.00", 6, "种植高原夏菜：流转土地30亩种植娃娃菜、西兰花，订单销往兰州、西安")),
    Plan(7, S.DISBURSED, 300, "50000.00", 24, MIB, rate="0.0435", project=(
        P.ECOMMERCE, "70000.00", 3, "电商销售土特产：开设网店销售紫皮大蒜、胡麻油、手工挂面")),
    Plan(17, S.DISBURSED, 260, "200000.00", 36, QIB, rate="0.0450", partner=20, project=(
        P.AGRITOURISM, "320000.00", 8, "合伙经营农家乐：改造农家院落6间客房、餐厅可容纳60人，配套采摘园")),
    Plan(29, S.DISBURSED, 220, "150000.00", 36, QIB, bank=1, rate="0.0475", project=(
        P.BREEDING, "260000.00", 4, "养殖肉牛：购进西门塔尔架子牛20头，新建青贮窖一座")),
    Plan(10, S.DISBURSED, 180, "40000.00", 24, MIB, rate="0.0435", project=(
        P.HANDICRAFT, "55000.00", 12, "手工刺绣：带领社区妇女制作香包、刺绣挂件，线上线下销售")),
    Plan(22, S.DISBURSED, 150, "60000.00", 24, QIB, rate="0.0450", licence=True, project=(
        P.PROCESSING, "90000.00", 5, "面食加工坊：手工馍馍、油饼、花卷加工，供应镇上超市和学校食堂")),
    Plan(32, S.DISBURSED, 120, "150000.00", 36, QIB, bank=1, rate="0.0500", approved="120000.00", project=(
        P.PLANTING, "210000.00", 4, "日光温室：新建两座日光温室种植反季节辣椒、番茄")),
    Plan(3, S.DISBURSED, 110, "70000.00", 12, M.BULLET, rate="0.0435", project=(
        P.SERVICES, "100000.00", 2, "社区便民小超市：经营日用百货、粮油副食")),
    Plan(24, S.DISBURSED, 70, "50000.00", 24, M.EQUAL_PRINCIPAL, bank=1, rate="0.0465", missed=1, project=(
        P.BREEDING, "85000.00", 3, "养殖蛋鸡：新建鸡舍一栋，存栏蛋鸡3000羽")),
    Plan(12, S.DISBURSED, 20, "80000.00", 24, M.EQUAL_INSTALLMENT, rate="0.0450", project=(
        P.ECOMMERCE, "120000.00", 5, "直播带货：开设抖音、快手店铺销售本地牛羊肉和手工挂面")),
    # Approved by the bank, waiting for the contract to be signed.
    Plan(16, S.BANK_APPROVED, 4, "100000.00", 24, QIB, rate="0.0435", project=(
        P.PLANTING, "150000.00", 6, "种植高原夏菜：娃娃菜、甘蓝40亩，配套预冷库一座")),
    Plan(5, S.BANK_APPROVED, 2, "50000.00", 24, MIB, bank=1, rate="0.0465", project=(
        P.SERVICES, "60000.00", 8, "家政服务部：月嫂、保洁、养老护理上门服务")),
    # Declined by the bank.
    Plan(27, S.DECLINED, 60, "150000.00", 36, QIB, bank=1,
         reason="征信报告显示近两年有多次逾期记录，暂不予授信",
         project=(P.BREEDING, "200000.00", 3, "养殖生猪：扩建猪舍，存栏能繁母猪20头")),
    Plan(19, S.DECLINED, 35, "80000.00", 24, QIB, reason="项目经营场所尚未落实，还款来源不足",
         project=(P.PROCESSING, "90000.00", 2, "胡麻油小作坊：购置榨油机、灌装设备")),
    # Not recommended by the county.
    Plan(8, S.REJECTED, 90, "50000.00", 24, QIB, reason="项目不属于创业担保贷款扶持范围，不予推荐",
         project=(P.OTHER, "50000.00", 1, "经营棋牌娱乐室")),
    Plan(30, S.REJECTED, 45, "100000.00", 36, QIB,
         reason="申请金额超过项目实际资金需求，建议调整经营计划后重新申报",
         project=(P.PLANTING, "60000.00", 2, "种植中药材黄芪、板蓝根20亩")),
    # Withdrawn by the township office at the applicant's request.
    Plan(2, S.WITHDRAWN, 150, "40000.00", 24, QIB, withdrawn_from=S.DRAFT,
         reason="申请人已通过亲友筹得资金，主动撤回申请",
         project=(P.SERVICES, "60000.00", 3, "早餐店：经营牛肉面、包子")),
    Plan(25, S.WITHDRAWN, 25, "30000.00", 24, MIB, withdrawn_from=S.COUNTY_RECOMMENDED,
         reason="申请人外出务工，暂缓创业项目",
         project=(P.ECOMMERCE, "50000.00", 2, "电商销售土特产：线上销售小杂粮、枸杞")),
    # Recommended by the county, waiting for the bank.
    Plan(11, S.COUNTY_RECOMMENDED, 6, "80000.00", 24, QIB, project=(
        P.SERVICES, "110000.00", 4, "社区托育点：看护3岁以下幼儿20名")),
    Plan(23, S.COUNTY_RECOMMENDED, 8, "100000.00", 36, QIB, project=(
        P.AGRITOURISM, "160000.00", 5, "农家乐：扩建餐厅，新增特色农家宴")),
    Plan(33, S.COUNTY_RECOMMENDED, 5, "300000.00", 36, QIB, bank=1,
         cooperative="{county}{village}巾帼蔬菜种植专业合作社", project=(
        P.PLANTING, "800000.00", 30, "巾帼蔬菜种植专业合作社：统一种植、统一销售高原夏菜300亩")),
    # Submitted by the township, waiting for the county.
    Plan(6, S.TOWNSHIP_SUBMITTED, 5, "40000.00", 24, MIB, project=(
        P.ECOMMERCE, "50000.00", 2, "社区团购：生鲜果蔬社区团购自提点")),
    Plan(18, S.TOWNSHIP_SUBMITTED, 7, "60000.00", 36, QIB, project=(
        P.BREEDING, "90000.00", 2, "养殖肉羊：存栏滩羊50只")),
    Plan(31, S.TOWNSHIP_SUBMITTED, 3, "30000.00", 24, QIB, bank=1, project=(
        P.HANDICRAFT, "40000.00", 6, "手工编织：草编、毛线编织工艺品加工")),
    # Village certificate issued, not yet submitted.
    Plan(9, S.VILLAGE_CERTIFIED, 4, "50000.00", 24, QIB, project=(
        P.SERVICES, "60000.00", 2, "奶茶饮品店：经营奶茶、咖啡")),
    Plan(21, S.VILLAGE_CERTIFIED, 3, "50000.00", 36, QIB, project=(
        P.PLANTING, "70000.00", 3, "种植玫瑰：露地种植食用玫瑰15亩")),
    Plan(34, S.VILLAGE_CERTIFIED, 2, "30000.00", 24, MIB, bank=1, project=(
        P.HANDICRAFT, "30000.00", 5, "手工刺绣：残疾妇女居家刺绣加工点")),
    # Drafts being prepared by the township office.
    Plan(13, S.DRAFT, 3, "60000.00", 24, QIB, project=(
        P.SERVICES, "80000.00", 2, "洗衣店：干洗、水洗及皮具护理")),
    Plan(28, S.DRAFT, 2, "50000.00", 24, MIB, bank=1, project=(
        P.ECOMMERCE, "60000.00", 3, "电商销售土特产：线上销售双湾蔬菜、鲜食玉米")),
    Plan(35, S.DRAFT, 1, "100000.00", 36, QIB, bank=1, project=(
        P.AGRITOURISM, "150000.00", 4, "研学农场：亲子采摘、农耕体验")),
)
# fmt: on

# The workflow steps each final status went through, and the days between consecutive steps.
_STEPS: dict[Status, tuple[str, ...]] = {
    S.DRAFT: ("create",),
    S.VILLAGE_CERTIFIED: ("create", "certify"),
    S.TOWNSHIP_SUBMITTED: ("create", "certify", "submit"),
    S.COUNTY_RECOMMENDED: ("create", "certify", "submit", "recommend"),
    S.REJECTED: ("create", "certify", "submit", "reject"),
    S.BANK_APPROVED: ("create", "certify", "submit", "recommend", "approve"),
    S.DECLINED: ("create", "certify", "submit", "recommend", "decline"),
    S.DISBURSED: ("create", "certify", "submit", "recommend", "approve", "disburse"),
}
_GAP_DAYS = {
    "certify": 6,
    "submit": 4,
    "recommend": 9,
    "reject": 9,
    "approve": 12,
    "decline": 12,
    "disburse": 5,
    "withdraw": 7,
}
_SETUP_DAYS_AGO = 600
_SECOND_DEPOSIT_DAYS_AGO = 240
_RECOMMEND_OPINION = "经审核，申请人符合妇女创业担保贷款条件，村级证明齐全，项目真实可行，同意推荐。"


@dataclass
class DemoSummary:
    county_code: str
    county_name: str
    created: bool  # False when the county already existed and nothing was loaded
    regions: int
    banks: int
    users: int
    funds: int
    applicants: int
    trainings: int
    applications: int
    applications_by_status: dict[str, int]
    loans: int
    logins: list[tuple[str, str, str, str | None, str | None]] = field(default_factory=list)


def demo_logins(county: DemoCounty = JINCHUAN) -> list[tuple[str, str, str, str | None, str | None]]:
    """(username, password, role, region_code, bank_code) of every demo user (the admin is not one)."""
    logins: list[tuple[str, str, str, str | None, str | None]] = [
        (county.county_officer, DEMO_PASSWORD, Role.COUNTY_OFFICER.value, county.code, None)
    ]
    for township in county.townships:
        logins.append((township.staff, DEMO_PASSWORD, Role.TOWNSHIP_STAFF.value, township.code, None))
        logins.extend(
            (v.officer, DEMO_PASSWORD, Role.VILLAGE_OFFICER.value, v.code, None)
            for v in township.villages
            if v.officer
        )
    logins.extend(
        (b.liaison, DEMO_PASSWORD, Role.BANK_LIAISON.value, county.code, b.code) for b in county.banks
    )
    logins.append((county.auditor, DEMO_PASSWORD, Role.AUDITOR.value, county.code, None))
    return logins


async def load_demo_data(
    session: AsyncSession, settings: Settings, *, today: date, county: DemoCounty = JINCHUAN
) -> DemoSummary:
    """Load the demo county unless it exists; commit once at the end. The `admin` user must exist."""
    if await session.get(Region, county.code) is None:
        await _DemoLoader(session, settings, county, today).load()
        summary = await summarize(session, county, created=True)
        await session.commit()
        return summary
    return await summarize(session, county, created=False)


async def summarize(session: AsyncSession, county: DemoCounty, *, created: bool) -> DemoSummary:
    """Counts of what the database holds for the demo county."""

    async def count(model: type, *conditions: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)

    by_status = {
        status: int(n)
        for status, n in await session.execute(
            select(Application.status, func.count())
            .where(Application.county_code == county.code)
            .group_by(Application.status)
        )
    }
    trainings = int(
        await session.scalar(
            select(func.count())
            .select_from(Training)
            .join(Applicant, Applicant.id == Training.applicant_id)
            .where(Applicant.county_code == county.code)
        )
        or 0
    )
    return DemoSummary(
        county_code=county.code,
        county_name=county.name,
        created=created,
        regions=await count(Region, Region.code.startswith(county.prefix)),
        banks=await count(Bank, Bank.county_code == county.code),
        users=await count(User, User.region_code.startswith(county.prefix)),
        funds=await count(GuaranteeFund, GuaranteeFund.county_code == county.code),
        applicants=await count(Applicant, Applicant.county_code == county.code),
        trainings=trainings,
        applications=sum(by_status.values()),
        applications_by_status=by_status,
        loans=await count(Loan, Loan.county_code == county.code),
        logins=demo_logins(county),
    )


# --- ID numbers and credit codes -----------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def national_id_check_char(first17: str) -> str:
    """GB 11643 check character (ISO 7064 MOD 11-2) of the first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def female_national_id(rng: random.Random, region: str, age: int, today: date) -> str:
    """A valid ID of a woman who is ``age`` years old on ``today``."""
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    birth = date(today.year - age - ((month, day) > (today.month, today.day)), month, day)
    sequence = rng.randrange(0, 500) * 2  # the 17th digit is even for women
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + national_id_check_char(first17)


def credit_code(rng: random.Random, kind: str, region: str) -> str:
    """A GB 32100 unified social credit code: '92' 个体工商户, '93' 农民专业合作社."""
    body = kind + region + "MA" + "".join(rng.choice(_CREDIT_ALPHABET) for _ in range(7))
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(body, _CREDIT_WEIGHTS, strict=True))
    return body + _CREDIT_ALPHABET[(31 - total % 31) % 31]


# --- the loader ----------------------------------------------------------------------------------


class _StoryClock:
    """The demo story's "now", stamped on every row and audit event as it is flushed.

    The services take the business date as an argument but stamp times with the wall clock:
    audit events (`at`), `created_at`/`updated_at`, and the bank decision's `decided_at`. The
    story happens over the past months, so a `before_flush` listener stamps new and changed rows
    with the story time of the step being played (the loader flushes before it moves the clock
    on), and `decided_at` is set after each bank decision (see `_DemoLoader._decide`). Without
    this, disbursement would refuse a `disbursed_on` in the past (it must not precede
    `decided_at`), and every history would read as if it had all happened today.
    """

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self.now = datetime.now(UTC)
        self._steps_on: dict[date, int] = {}

    def set(self, day: date) -> datetime:
        n = self._steps_on[day] = self._steps_on.get(day, -1) + 1
        minutes = 9 * 60 + (n * 7) % (8 * 60)  # steps of one day are spread over office hours
        self.now = datetime.combine(day, time(minutes // 60, minutes % 60), self.zone)
        return self.now

    def stamp(self, session: Session, _context: Any, _instances: Any) -> None:
        for obj in session.new:
            if isinstance(obj, AuditEvent):
                if obj.at is None:
                    obj.at = self.now
            elif isinstance(obj, AuditColumns):
                obj.created_at = obj.updated_at = self.now
        for obj in session.dirty:
            if isinstance(obj, AuditColumns) and session.is_modified(obj, include_collections=False):
                obj.updated_at = self.now


class _DemoLoader:
    def __init__(self, session: AsyncSession, settings: Settings, county: DemoCounty, today: date) -> None:
        if len(county.townships) != 4 or len(county.banks) != 2:
            raise ValueError("a demo county has four townships and two banks")
        self.session = session
        self.settings = settings
        self.county = county
        self.today = today
        self.rng = random.Random(SEED)
        self.clock = _StoryClock(settings.timezone)
        self.actors: dict[str, Actor] = {}
        self.fund_ids: list[UUID] = []
        self.applicants: dict[int, UUID] = {}
        self.applications: dict[int, UUID] = {}
        self.contracts: dict[tuple[str, int], int] = {}
        self.certificates: dict[tuple[str, int], int] = {}

    def day(self, days_ago: int) -> date:
        return self.today - timedelta(days=days_ago)

    async def _at(self, day: date) -> None:
        """Move the story clock to ``day``, first flushing what the last step left pending at its time."""
        await self.session.flush()
        self.clock.set(day)

    async def load(self) -> None:
        admin = await self.session.scalar(select(User).where(User.username == ADMIN_USERNAME))
        if admin is None:
            raise RuntimeError("the admin user must exist before demo data is loaded (see loans.bootstrap)")
        self.actors[ADMIN_USERNAME] = _actor(admin)
        listener = self.clock.stamp
        event.listen(self.session.sync_session, "before_flush", listener)
        try:
            await self._setup()
            for _when, _seq, step in sorted(self._story(), key=lambda s: (s[0], s[1])):
                await step()
            await self._repayments()
            await self.session.flush()
        finally:
            event.remove(self.session.sync_session, "before_flush", listener)

    # --- reference data: regions, banks, product, users, guarantee funds ----------------------------

    async def _setup(self) -> None:
        county = self.county
        await self._at(self.day(_SETUP_DAYS_AGO))
        admin = self.actors[ADMIN_USERNAME]
        regions = RegionService(self.session, admin)
        await regions.create(RegionCreate(code=county.code, name=county.name, level="county"))
        for township in county.townships:
            await regions.create(
                RegionCreate(
                    code=township.code, name=township.name, level="township", parent_code=county.code
                )
            )
            for village in township.villages:
                await regions.create(
                    RegionCreate(
                        code=village.code, name=village.name, level="village", parent_code=township.code
                    )
                )
        banks = BankService(self.session, admin)
        for bank in county.banks:
            await banks.create(BankCreate(code=bank.code, name=bank.name, county_code=county.code))
        await ProductService(self.session, admin).create(
            ProductCreate(
                code=county.product_code,
                county_code=county.code,
                name=f"{county.name}妇女创业担保贷款",
                max_amount=MaxAmounts(
                    individual=Decimal("300000.00"),
                    partnership=Decimal("1100000.00"),
                    enterprise=Decimal("4000000.00"),
                    cooperative=Decimal("1000000.00"),
                ),
                max_term_months=36,
                repayment_methods=list(RepaymentMethod),
                max_annual_rate=Decimal("0.0600"),
                subsidy_share=Decimal("1"),
                penalty_markup=Decimal("0.5"),
                guarantee_mode=GuaranteeMode.FUND,
                max_borrowings=3,
                effective_from=date(2023, 1, 1),
            )
        )
        users = UserService(self.session)
        region_names = {county.code: county.name}
        for township in county.townships:
            region_names[township.code] = township.name
            region_names.update((v.code, v.name) for v in township.villages)
        bank_names = {b.code: b.name for b in county.banks}
        for username, password, role, region_code, bank_code in demo_logins(county):
            display = {
                Role.COUNTY_OFFICER: f"{county.name}妇联",
                Role.TOWNSHIP_STAFF: f"{region_names.get(region_code or '', '')}妇联",
                Role.VILLAGE_OFFICER: f"{region_names.get(region_code or '', '')}妇代会主任",
                Role.BANK_LIAISON: f"{bank_names.get(bank_code or '', '')}信贷员",
                Role.AUDITOR: f"{county.name}财政局",
            }[Role(role)]
            user = await users.create(
                UserCreate(
                    username=username,
                    password=password,
                    role=Role(role),
                    region_code=region_code,
                    bank_code=bank_code,
                    display_name=display,
                ),
                admin,
            )
            self.actors[username] = _actor(user)
        officer = self.actors[county.county_officer]
        funds = FundService(self.session, officer)
        for i, bank in enumerate(county.banks):
            await self._at(self.day(_SETUP_DAYS_AGO - 5))
            fund = await funds.create(
                FundCreate(
                    county_code=county.code,
                    bank_code=bank.code,
                    name=f"{county.name}创业担保贷款担保基金（{bank.name}）",
                    leverage=Decimal(5),
                    compensation_after_days=90,
                    risk_threshold=Decimal("0.05"),
                )
            )
            self.fund_ids.append(fund.id)
            # The first deposit when the fund opens; any later one as the county tops the fund up.
            first = self.day(_SETUP_DAYS_AGO - 10 - 5 * i)
            await self._at(first)
            await self._deposit(i, 0, first)

    async def _deposit(self, bank: int, n: int, day: date) -> None:
        amount = self.county.banks[bank].deposits[n]
        await FundService(self.session, self.actors[self.county.county_officer]).deposit(
            self.fund_ids[bank],
            DepositCreate(
                amount=Decimal(amount),
                deposited_on=day,
                reference=f"{self.county.prefix}-DBJJ-{day:%Y%m%d}-{bank + 1}{n + 1:02d}",
            ),
        )

    # --- the story: registrations, trainings, applications, later deposits -------------------------

    def _story(self) -> list[tuple[date, int, Callable[[], Awaitable[None]]]]:
        steps: list[tuple[date, int, Callable[[], Awaitable[None]]]] = []

        def at(day: date, action: Callable[[], Awaitable[Any]]) -> None:
            async def run() -> None:
                await self._at(day)
                await action()

            steps.append((day, len(steps), run))

        for bank, spec in enumerate(self.county.banks):
            for n in range(1, len(spec.deposits)):
                day = self.day(_SECOND_DEPOSIT_DAYS_AGO + 30 * (n - 1))
                at(day, lambda bank=bank, n=n, day=day: self._deposit(bank, n, day))

        # A woman registers a few days before her first application (or, if she has none, some
        # time in the last year); the names and IDs are drawn once, in order, from the seeded rng.
        registered_on: dict[int, date] = {}
        for plan_index, plan in enumerate(PLANS):
            created = self._step_dates(plan)[0][1]
            for person in (plan.person, plan.partner):
                if person is not None and person not in registered_on:
                    registered_on[person] = created - timedelta(days=3 + plan_index % 4)
        identities = [self._identity(person) for person in range(len(PEOPLE))]
        for person in range(len(PEOPLE)):
            day = registered_on.get(person) or self.day(200 + (17 * person) % 150)
            at(day, lambda person=person, day=day: self._register(person, identities[person], day))
        for plan_index, plan in enumerate(PLANS):
            for step, day in self._step_dates(plan):
                at(day, lambda plan_index=plan_index, step=step, day=day: self._play(plan_index, step, day))
        return steps

    def _step_dates(self, plan: Plan) -> list[tuple[str, date]]:
        names = list(_STEPS[plan.withdrawn_from or plan.status])
        if plan.status == Status.WITHDRAWN:
            names.append("withdraw")
        if plan.licence:
            names.remove("certify")  # a borrower with a business licence is submitted straight from draft
        day = self.day(plan.days_ago)
        dated = [(names[-1], day)]
        for later, earlier in zip(reversed(names), reversed(names[:-1]), strict=False):
            day -= timedelta(days=_GAP_DAYS[later])
            dated.append((earlier, day))
        return list(reversed(dated))

    def _identity(self, person: int) -> tuple[str, str]:
        _name, age, _categories = PEOPLE[person]
        region = self.rng.choice(self.county.birthplaces)
        national_id = female_national_id(self.rng, region, age, self.today)
        phone = (
            "1"
            + self.rng.choice(("38", "39", "51", "52", "58", "77", "80", "86", "89", "99"))
            + (f"{self.rng.randrange(10**8):08d}")
        )
        return national_id, phone

    def _village_of(self, person: int) -> tuple[DemoTownship, DemoVillage]:
        township_index = _TOWNSHIP_OF_PERSON[person]
        township = self.county.townships[township_index]
        first = _TOWNSHIP_OF_PERSON.index(township_index)
        return township, township.villages[(person - first) % len(township.villages)]

    async def _register(self, person: int, identity: tuple[str, str], day: date) -> None:
        name, _age, categories = PEOPLE[person]
        township, village = self._village_of(person)
        staff = self.actors[township.staff]
        applicants = ApplicantService(self.session, staff, self.settings)
        national_id, phone = identity
        applicant = await applicants.register(
            ApplicantCreate(
                national_id=national_id,
                name=name,
                phone=phone,
                village_code=village.code,
                categories=list(categories),
            ),
            day,
        )
        self.applicants[person] = applicant.id
        if person not in TRAINED:
            return
        finished = [c for c in CLASSES if self.day(c[0] - c[1]) < day]
        if not finished:
            return
        started_ago, length, course, title, provider, cert_prefix = finished[-1]
        started = self.day(started_ago)
        await applicants.add_training(
            applicant.id,
            TrainingCreate(
                course=course,
                title=title,
                provider=provider.format(county=self.county.name, city=self.county.city),
                started_on=started,
                finished_on=started + timedelta(days=length - 1),
                certificate_no=(
                    f"{cert_prefix}{self.county.prefix}{started:%Y%m}{person + 1:03d}"
                    if cert_prefix
                    else None
                ),
            ),
        )

    async def _play(self, plan_index: int, step: str, day: date) -> None:
        plan = PLANS[plan_index]
        township, village = self._village_of(plan.person)
        staff = self.actors[township.staff]
        county_officer = self.actors[self.county.county_officer]
        liaison = self.actors[self.county.banks[plan.bank].liaison]

        def service(actor: Actor) -> ApplicationService:
            return ApplicationService(self.session, actor, self.settings)

        if step == "create":
            application = await service(staff).create(self._application(plan, village), day)
            self.applications[plan_index] = application.id
            return
        application_id = self.applications[plan_index]
        if step == "certify":
            certifier = self.actors[village.officer] if village.officer else staff
            key = (village.code, day.year)
            n = self.certificates[key] = self.certificates.get(key, 0) + 1
            committee = f"{village.name}{'妇联' if village.name.endswith('社区') else '妇代会'}"
            await service(certifier).certify_village(
                application_id,
                VillageCertification(
                    certificate_no=f"{village.name}证字〔{day.year}〕{n:03d}号",
                    committee=committee,
                    issued_on=day,
                    residence_confirmed=True,
                    credit_good=True,
                    project_real=True,
                ),
                day,
            )
        elif step == "submit":
            await service(staff).submit(application_id)
        elif step in ("recommend", "reject"):
            review = CountyReview(
                decision="recommend" if step == "recommend" else "reject",
                opinion=_RECOMMEND_OPINION if step == "recommend" else plan.reason or "不予推荐",
            )
            await service(county_officer).county_review(application_id, review)
        elif step in ("approve", "decline"):
            await self._decide(service(liaison), application_id, plan, step)
        elif step == "disburse":
            bank = self.county.banks[plan.bank]
            n = self.contracts[(bank.code, day.year)] = self.contracts.get((bank.code, day.year), 0) + 1
            await service(liaison).disburse(
                application_id,
                Disbursement(
                    contract_no=f"{bank.code}-{day.year}-{n:04d}",
                    disbursed_on=day,
                    amount=Decimal(plan.approved or plan.amount),
                    bank_txn_ref=f"FK{day:%Y%m%d}{self.rng.randrange(10**6):06d}{n:02d}",
                ),
                day,
            )
        elif step == "withdraw":
            await service(staff).withdraw(application_id, Withdrawal(reason=plan.reason or "申请人撤回"))

    def _application(self, plan: Plan, village: DemoVillage) -> ApplicationCreate:
        kind, investment, jobs, description = plan.project
        partners = [self.applicants[plan.partner]] if plan.partner is not None else []
        enterprise_name = code = None
        if plan.cooperative:
            enterprise_name = plan.cooperative.format(
                county=self.county.name, village=village.name.removesuffix("村")
            )
            code = credit_code(self.rng, "93", self.county.prefix)
        return ApplicationCreate(
            applicant_id=self.applicants[plan.person],
            product_code=self.county.product_code,
            borrower_kind=(
                BorrowerKind.PARTNERSHIP
                if partners
                else BorrowerKind.COOPERATIVE
                if plan.cooperative
                else BorrowerKind.INDIVIDUAL
            ),
            amount_requested=Decimal(plan.amount),
            term_months=plan.term,
            repayment_method=plan.method,
            has_business_licence=plan.licence,
            business_licence_no=credit_code(self.rng, "92", self.county.prefix) if plan.licence else None,
            guarantee_fund_id=self.fund_ids[plan.bank],
            member_applicant_ids=partners,
            enterprise_name=enterprise_name,
            credit_code=code,
            project=ProjectIn(
                type=kind, description=description, investment=Decimal(investment), jobs_expected=jobs
            ),
        )

    async def _decide(
        self, applications: ApplicationService, application_id: UUID, plan: Plan, step: str
    ) -> None:
        if step == "approve":
            decision = BankDecision(
                decision="approve",
                amount=Decimal(plan.approved or plan.amount),
                annual_rate=Decimal(plan.rate or "0.0435"),
                term_months=plan.term,
                repayment_method=plan.method,
                reason="核定金额低于申请金额：按项目自有资金比例核减" if plan.approved else None,
            )
        else:
            decision = BankDecision(decision="decline", reason=plan.reason)
        application = await applications.bank_decision(application_id, decision)
        # The service stamps the decision with the wall clock; in the story it was made on the
        # step's date, and disbursement (days later in the story) must not precede it.
        application.decided_at = self.clock.now

    async def _repayments(self) -> None:
        """Each borrower repays what fell due by today, on the due date or her plan's days late, except the
        last installments her plan says she missed."""
        for plan_index, plan in enumerate(PLANS):
            if plan.status != Status.DISBURSED:
                continue
            loan = await self.session.scalar(
                select(Loan).where(Loan.application_id == self.applications[plan_index])
            )
            liaison = self.actors[self.county.banks[plan.bank].liaison]
            due = [
                row
                for row in await LoanService(self.session, liaison).installments(loan.id)
                if row.due_date <= self.today and row.principal + row.borrower_interest > 0
            ]
            for row in due[: len(due) - plan.missed]:
                paid_on = min(row.due_date + timedelta(days=plan.days_late), self.today)
                await self._at(paid_on)
                await RepaymentService(self.session, liaison).post_repayment(
                    loan.id,
                    RepaymentCreate(
                        amount=fen_to_yuan(row.principal + row.borrower_interest),
                        paid_on=paid_on,
                        bank_txn_ref=f"HK{paid_on:%Y%m%d}{loan.contract_no[-4:]}{row.seq:02d}",
                    ),
                    self.today,
                )


def _actor(user: User) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        region_code=user.region_code,
        bank_code=user.bank_code,
    )
