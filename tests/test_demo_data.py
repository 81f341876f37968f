"""The demo data loader (`loans dev`, `loans demo-data`): a whole county built through the services.

The test loads 甘肃省白银市会宁县 with its own usernames and bank codes, so that it never collides with
the reference world (金川区, 永昌县) that the API tests build in the same database.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from loans.applicants.models import Applicant, Training
from loans.applicants.national_id import validate_applicant_id
from loans.applications.commitments import approved_not_disbursed
from loans.applications.credit_code import validate_credit_code
from loans.applications.models import Application, ApplicationMember
from loans.applications.service import ApplicationService
from loans.applications.workflow import TRANSITIONS, Action, Status
from loans.audit.models import AuditEvent
from loans.bootstrap import ensure_admin
from loans.cob.reconcile import ledger_drift
from loans.cob.service import close_of_business
from loans.core.actor import Actor
from loans.core.region_codes import RegionLevel, ancestor_code, level_of
from loans.core.roles import Role
from loans.demo import (
    DEMO_PASSWORD,
    JINCHUAN,
    DemoBank,
    DemoCounty,
    DemoTownship,
    DemoVillage,
    credit_code,
    female_national_id,
    load_demo_data,
    national_id_check_char,
)
from loans.funds.models import FundEntry, GuaranteeFund
from loans.funds.service import FundService
from loans.imports.models import ImportRow, RepaymentImport
from loans.lending.models import Loan, LoanInstallment
from loans.money import parse_amount, round_fen
from loans.products.terms import RepaymentMethod
from loans.repayments.models import Repayment
from loans.settings import Settings
from loans.users.models import User
from loans.users.service import UserService
from tests.support.ids import with_check_digit
from tests.support.world import LANES

TODAY = date(2026, 11, 20)
SHANGHAI = ZoneInfo("Asia/Shanghai")

HUINING = DemoCounty(
    code="620422000000",
    name="会宁县",
    city="白银市",
    townships=(
        DemoTownship(
            "620422100000",
            "会师镇",
            "hn_township_huishi",
            (DemoVillage("620422100001", "东关社区"), DemoVillage("620422100002", "西关社区")),
        ),
        DemoTownship(
            "620422101000",
            "郭城驿镇",
            "hn_township_guochengyi",
            (DemoVillage("620422101001", "郭城社区"), DemoVillage("620422101201", "红堡子村")),
        ),
        DemoTownship(
            "620422102000",
            "河畔镇",
            "hn_township_hepan",
            (
                DemoVillage("620422102201", "河畔村", officer="hn_village_hepan"),
                DemoVillage("620422102202", "高堡村"),
                DemoVillage("620422102203", "李家塬村"),
            ),
        ),
        DemoTownship(
            "620422103000",
            "头寨子镇",
            "hn_township_touzhaizi",
            (
                DemoVillage("620422103201", "头寨子村"),
                DemoVillage("620422103202", "牛营村"),
                DemoVillage("620422103203", "岔口村"),
            ),
        ),
    ),
    banks=(
        DemoBank("ABC-HN", "中国农业银行会宁县支行", "hn_bank_abc", ("2000000.00", "1000000.00")),
        DemoBank("HNRCB", "甘肃会宁农村商业银行", "hn_bank_rcc", ("1000000.00",)),
    ),
    product_code="HN-CYDB-WOMEN",
    county_officer="hn_county",
    auditor="hn_auditor",
    birthplaces=("620422", "620422", "620421", "620402"),
)


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.username, Role(user.role), user.region_code, user.bank_code)


async def table_counts(session: AsyncSession) -> dict[str, int]:
    models = (
        Applicant,
        Training,
        Application,
        ApplicationMember,
        Loan,
        LoanInstallment,
        FundEntry,
        AuditEvent,
        User,
    )
    return {
        m.__tablename__: int(await session.scalar(select(func.count()).select_from(m)) or 0) for m in models
    }


async def test_demo_data_builds_a_county_in_every_status_and_loads_only_once(
    engine: AsyncEngine, settings: Settings
) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await ensure_admin(session, None)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        summary = await load_demo_data(session, settings, today=TODAY, county=HUINING)

    assert summary.created
    assert summary.applications_by_status.keys() == {s.value for s in Status}
    assert summary.applications_by_status[Status.DISBURSED] == summary.loans >= 10
    assert (summary.regions, summary.banks, summary.funds) == (15, 2, 2)
    assert summary.applicants >= 30 and summary.applications >= 28 and summary.trainings > 0
    assert {role for _, _, role, _, _ in summary.logins} == {r.value for r in Role} - {Role.ADMIN}

    async with AsyncSession(engine, expire_on_commit=False) as session:
        users = {u.username: u for u in await session.scalars(select(User))}
        auditor = actor_of(users[HUINING.auditor])

        # Every demo login works with the demo password and has the scope it is listed with.
        for username, password, role, region_code, bank_code in summary.logins:
            assert password == DEMO_PASSWORD
            user = await UserService(session).verify_credentials(username, password)
            assert user is not None and (user.role, user.region_code, user.bank_code) == (
                role,
                region_code,
                bank_code,
            )

        # Applicants: valid female IDs, 18–60 on TODAY, spread over the county's villages.
        applicants = list(
            await session.scalars(select(Applicant).where(Applicant.county_code == HUINING.code))
        )
        assert len(applicants) == summary.applicants
        assert len({a.national_id for a in applicants}) == len(applicants)
        for applicant in applicants:
            national_id = validate_applicant_id(applicant.national_id, today=TODAY, min_age=18, max_age=60)
            assert national_id.is_female and national_id.birth_date == applicant.birth_date
            assert applicant.national_id[:6] in HUINING.birthplaces
            assert applicant.phone and re.fullmatch(r"1\d{10}", applicant.phone)
        villages = {v.code for t in HUINING.townships for v in t.villages}
        assert {a.village_code for a in applicants} == villages

        applications = {
            a.id: a
            for a in await session.scalars(select(Application).where(Application.county_code == HUINING.code))
        }
        loans = list(await session.scalars(select(Loan).where(Loan.county_code == HUINING.code)))
        assert {loan.application_id for loan in loans} == {
            a.id for a in applications.values() if a.status == Status.DISBURSED
        }

        # Loans: signed terms as the bank approved them, in the past, with a frozen schedule.
        assert {loan.repayment_method for loan in loans} == {m.value for m in RepaymentMethod}
        assert len({(loan.bank_code, loan.contract_no) for loan in loans}) == len(loans)
        assert len({(loan.bank_code, loan.bank_txn_ref) for loan in loans}) == len(loans)
        for loan in loans:
            application = applications[loan.application_id]
            assert re.fullmatch(
                rf"{re.escape(loan.bank_code)}-{loan.disbursed_on.year}-\d{{4}}", loan.contract_no
            )
            assert parse_amount("30000") <= loan.principal <= parse_amount("200000")
            assert loan.principal == application.approved_amount
            assert Decimal("0.0435") <= loan.annual_rate <= Decimal("0.0500")
            assert application.decided_on is not None
            assert application.reviewed_on <= application.decided_on <= loan.disbursed_on < TODAY
            installments = list(
                await session.scalars(select(LoanInstallment).where(LoanInstallment.loan_id == loan.id))
            )
            assert loan.outstanding_principal == loan.principal - sum(i.paid_principal for i in installments)
            assert (loan.status == "settled") == (loan.outstanding_principal == 0)
            assert installments and sum(i.principal for i in installments) == loan.principal
            assert max(i.due_date for i in installments) == loan.maturity_date
            assert all(i.interest == i.subsidy_interest + i.borrower_interest for i in installments)

        # Borrowers repay: the three oldest loans are settled, some are partly repaid, two are in arrears.
        statuses = [loan.status for loan in loans]
        assert statuses.count("settled") == 3
        assert any(0 < loan.outstanding_principal < loan.principal for loan in loans)
        unpaid_due = await session.scalar(
            select(func.count(func.distinct(LoanInstallment.loan_id))).where(
                LoanInstallment.loan_id.in_([loan.id for loan in loans]),
                LoanInstallment.due_date < TODAY,
                LoanInstallment.principal + LoanInstallment.borrower_interest
                > LoanInstallment.paid_principal + LoanInstallment.paid_interest,
            )
        )
        assert unpaid_due == 2

        # Every repayment came in a bank's monthly file, uploaded and posted as a liaison does, every row posted.
        imports = list(
            await session.scalars(
                select(RepaymentImport).where(
                    RepaymentImport.county_code == HUINING.code, RepaymentImport.kind == "repayments"
                )
            )
        )
        assert {i.bank_code for i in imports} == {b.code for b in HUINING.banks} and len(imports) > 2
        assert all(i.status == "done" and i.posted == i.total_rows > 0 for i in imports)
        from_files = await session.scalars(
            select(ImportRow.repayment_id).where(ImportRow.import_id.in_([i.id for i in imports]))
        )
        repaid = await session.scalars(
            select(Repayment.id).where(Repayment.loan_id.in_([x.id for x in loans]))
        )
        assert set(from_files) == set(repaid) != set()

        # A partnership of two women, and a licensed borrower submitted straight from draft.
        partnerships = [a for a in applications.values() if a.borrower_kind == "partnership"]
        assert len(partnerships) == 1
        members = await session.scalar(
            select(func.count()).where(ApplicationMember.application_id == partnerships[0].id)
        )
        assert members == 2
        licensed = [a for a in applications.values() if a.has_business_licence]
        assert licensed and all(a.business_licence_no and a.village_certificate_no is None for a in licensed)
        licensed_history = await ApplicationService(session, auditor, settings).history(licensed[0].id)
        assert any(e.action == Action.SUBMIT and e.from_status == Status.DRAFT for e in licensed_history)
        for application in applications.values():
            if application.credit_code:
                assert validate_credit_code(application.credit_code) == application.credit_code

        # The loans of the county's book before it took the system up came in through the loan-book import, the
        # later ones through the whole workflow, by the right roles, in order; each entered now, dated on paper.
        imported, worked = [], []
        for loan in loans:
            history = await ApplicationService(session, auditor, settings).history(loan.application_id)
            actions = [e.action for e in history]
            assert history[-1].effective_on == loan.disbursed_on < history[-1].at.astimezone(SHANGHAI).date()
            if actions == ["import_loan_book"]:
                imported.append(loan)
                assert history[0].after["contract_no"] == loan.contract_no
                continue
            worked.append(loan)
            assert actions[0] == "create" and actions[-3:] == [
                Action.RECOMMEND,
                Action.APPROVE,
                Action.DISBURSE,
            ]
            for audit_event in history[1:]:
                assert audit_event.role in TRANSITIONS[Action(audit_event.action)].roles
            assert [e.at for e in history] == sorted(e.at for e in history)
            assert history[-1].after["contract_no"] == loan.contract_no
        assert len(imported) >= 3 and len(worked) >= 8
        assert max(loan.disbursed_on for loan in imported) < min(loan.disbursed_on for loan in worked)
        assert {loan.bank_code for loan in imported} == {b.code for b in HUINING.banks}

        # Guarantee funds: deposits, guaranteed outstanding and capacity agree with the rows behind them.
        county_officer = actor_of(users[HUINING.county_officer])
        funds = FundService(session, county_officer)
        balances = 0
        for fund in await session.scalars(
            select(GuaranteeFund).where(GuaranteeFund.county_code == HUINING.code)
        ):
            figures = await funds.figures(fund, TODAY, approved_not_disbursed)
            deposits = [e for e in await funds.entries(fund.id) if e.kind == "deposit"]
            assert deposits and all(e.occurred_on < TODAY for e in deposits)
            assert figures.balance == sum(e.amount for e in deposits)
            live = sum(loan.outstanding_principal for loan in loans if loan.guarantee_fund_id == fund.id)
            waiting = sum(
                a.approved_amount or 0
                for a in applications.values()
                if a.guarantee_fund_id == fund.id and a.status == Status.BANK_APPROVED
            )
            assert figures.guaranteed_outstanding == live + waiting > 0
            assert (
                figures.capacity_left == round_fen(Decimal(figures.balance) * fund.leverage) - live - waiting
            )
            assert figures.capacity_left > 0
            balances += figures.balance
        assert balances == parse_amount("4000000.00")

        before = await table_counts(session)

    # A second load on the same data finds the county and creates nothing.
    async with AsyncSession(engine, expire_on_commit=False) as session:
        again = await load_demo_data(session, settings, today=TODAY + timedelta(days=1), county=HUINING)
        assert not again.created
        assert again.applications_by_status == summary.applications_by_status
        assert (again.applicants, again.loans, again.users) == (
            summary.applicants,
            summary.loans,
            summary.users,
        )
        assert await table_counts(session) == before

    # Close of business catches up from the oldest unpaid due date to the day before TODAY, as `loans dev` does:
    # the two loans in arrears are overdue, the rest current, and every kept figure agrees with its ledger.
    await close_of_business(engine, TODAY - timedelta(days=1), TODAY, lanes=LANES)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        closed = list(await session.scalars(select(Loan).where(Loan.county_code == HUINING.code)))
        assert sorted(loan.status for loan in closed).count("overdue") == 2
        assert all(loan.days_past_due == 0 for loan in closed if loan.status != "overdue")
        assert await ledger_drift(session) == (0, [])


def test_generated_ids_and_codes_pass_the_validators() -> None:
    import random

    rng = random.Random(7)
    for age in range(18, 61):
        number = female_national_id(rng, "620302", age, TODAY)
        assert number == with_check_digit(number[:17])
        assert national_id_check_char(number[:17]) == number[17]
        assert validate_applicant_id(number, today=TODAY, min_age=18, max_age=60).age_on(TODAY) == age
    for kind in ("92", "93"):
        code = credit_code(rng, kind, "620302")
        assert validate_credit_code(code) == code


def test_default_county_is_a_consistent_region_tree() -> None:
    assert level_of(JINCHUAN.code) == RegionLevel.COUNTY
    usernames = [JINCHUAN.county_officer, JINCHUAN.auditor, *(b.liaison for b in JINCHUAN.banks)]
    for township in JINCHUAN.townships:
        assert level_of(township.code) == RegionLevel.TOWNSHIP
        assert ancestor_code(township.code, RegionLevel.COUNTY) == JINCHUAN.code
        usernames.append(township.staff)
        for village in township.villages:
            assert level_of(village.code) == RegionLevel.VILLAGE
            assert ancestor_code(village.code, RegionLevel.TOWNSHIP) == township.code
            usernames.extend([village.officer] if village.officer else [])
    assert len(usernames) == len(set(usernames)) == 9
    assert JINCHUAN.birthplaces[0] == JINCHUAN.prefix
