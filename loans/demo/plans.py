"""The women, their projects and how far each application got: the demo story's cast and script.

People are numbered by their place in ``PEOPLE``; a ``Plan`` names its woman (and partner) by
that number, and ``PLANS`` lists every demo application with the status it ends in.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

from loans.applicants.schemas import Category, Course
from loans.applications.schemas import ProjectType
from loans.applications.workflow import Status
from loans.products.terms import RepaymentMethod

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
TOWNSHIP_OF_PERSON = (0,) * 7 + (1,) * 7 + (2,) * 12 + (3,) * 10

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
