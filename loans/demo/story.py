"""The demo story: twenty months of registrations, trainings, applications and repayments.

``_DemoLoader`` sets the county up (see ``setup``) and then plays every step of the story in
date order through the services, acting as the user whose step it is and dating the step on the
story's day; the repayments follow as the banks' files. ``load_demo_data`` runs it once, unless the
demo county already exists.

Over 400 lines by choice: it is a script read top to bottom, the county's twenty months in date order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applicants.models import Applicant
from loans.applicants.schemas import ApplicantCreate, TrainingCreate
from loans.applicants.service import ApplicantService
from loans.applications.liaison_scope import bank_applicant_ids
from loans.applications.schemas import (
    ApplicationCreate,
    BankDecision,
    CountyReview,
    Disbursement,
    ProjectIn,
    Submission,
    VillageCertification,
    Withdrawal,
)
from loans.applications.service import ApplicationService
from loans.applications.workflow import Status
from loans.bootstrap import ADMIN_USERNAME
from loans.core.actor import Actor
from loans.demo.counties import JINCHUAN, DemoCounty, DemoTownship, DemoVillage
from loans.demo.files import csv_text, xlsx_bytes
from loans.demo.identities import credit_code, female_national_id
from loans.demo.plans import CLASSES, PEOPLE, PLANS, TOWNSHIP_OF_PERSON, TRAINED, Plan
from loans.demo.setup import CountySetup, actor_of
from loans.demo.summary import DemoSummary, summarize
from loans.funds.models import GuaranteeFund
from loans.imports.book import BOOK_COLUMNS
from loans.imports.models import RepaymentImport
from loans.imports.service import ImportService, process_import
from loans.lending.models import Loan
from loans.lending.service import LoanService
from loans.money import fen_to_str
from loans.products.schemas import BorrowerKind
from loans.regions.models import Region
from loans.settings import Settings
from loans.users.models import User
from reports.render.labels import PROJECT_TYPE_LABELS, REPAYMENT_METHOD_LABELS

# The workflow steps each final status went through, and the days between consecutive steps.
_STEPS: dict[Status, tuple[str, ...]] = {
    Status.DRAFT: ("create",),
    Status.VILLAGE_CERTIFIED: ("create", "certify"),
    Status.TOWNSHIP_SUBMITTED: ("create", "certify", "submit"),
    Status.COUNTY_RECOMMENDED: ("create", "certify", "submit", "recommend"),
    Status.REJECTED: ("create", "certify", "submit", "reject"),
    Status.BANK_APPROVED: ("create", "certify", "submit", "recommend", "approve"),
    Status.DECLINED: ("create", "certify", "submit", "recommend", "decline"),
    Status.DISBURSED: ("create", "certify", "submit", "recommend", "approve", "disburse"),
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
_SECOND_DEPOSIT_DAYS_AGO = 240
# The county took the system up a year before today: the loans disbursed before then were running on its books,
# and come in as each bank's loan book (存量贷款) - the applications and loans after it go through the workflow.
_BOOK_BEFORE_DAYS_AGO = 365
_RECOMMEND_OPINION = "经审核，申请人符合妇女创业担保贷款条件，村级证明齐全，项目真实可行，同意推荐。"


def on_the_books(plan: Plan) -> bool:
    """Disbursed before the county took the system up: brought in by the loan-book import."""
    return plan.status == Status.DISBURSED and plan.days_ago > _BOOK_BEFORE_DAYS_AGO


class _DemoLoader(CountySetup):
    async def load(self) -> None:
        admin = await self.session.scalar(select(User).where(User.username == ADMIN_USERNAME))
        if admin is None:
            raise RuntimeError("the admin user must exist before demo data is loaded (see loans.bootstrap)")
        self.actors[ADMIN_USERNAME] = actor_of(admin)
        await self._setup()
        for _when, _seq, step in sorted(self._story(), key=lambda s: (s[0], s[1])):
            await step()
        await self.session.flush()

    # --- the story: registrations, trainings, applications, later deposits -------------------------

    def _story(self) -> list[tuple[date, int, Callable[[], Awaitable[None]]]]:
        steps: list[tuple[date, int, Callable[[], Awaitable[None]]]] = []

        def at(day: date, action: Callable[[], Awaitable[Any]]) -> None:
            steps.append((day, len(steps), action))

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
            if on_the_books(plan):
                day = self.day(plan.days_ago)
                at(day, lambda plan_index=plan_index, day=day: self._write_in_book(plan_index, day))
                continue
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
        township_index = TOWNSHIP_OF_PERSON[person]
        township = self.county.townships[township_index]
        first = TOWNSHIP_OF_PERSON.index(township_index)
        return township, township.villages[(person - first) % len(township.villages)]

    async def _register(self, person: int, identity: tuple[str, str], day: date) -> None:
        name, _age, categories = PEOPLE[person]
        township, village = self._village_of(person)
        staff = self.actors[township.staff]
        applicants = ApplicantService(self.session, staff, self.settings, bank_applicant_ids)
        national_id, phone = identity
        applicant = await applicants.register(
            ApplicantCreate(
                national_id=national_id,
                name=name,
                phone=phone,
                village_code=village.code,
                categories=list(categories),
            ),
            self.today,
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
            application = await service(staff).create(self._application(plan, village), self.today)
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
                self.today,
            )
        elif step == "submit":
            await service(staff).submit(application_id, Submission(submitted_on=day), self.today)
        elif step in ("recommend", "reject"):
            review = CountyReview(
                decision="recommend" if step == "recommend" else "reject",
                opinion=_RECOMMEND_OPINION if step == "recommend" else plan.reason or "不予推荐",
                reviewed_on=day,
            )
            await service(county_officer).county_review(application_id, review, self.today)
        elif step in ("approve", "decline"):
            await self._decide(service(liaison), application_id, plan, step, day)
        elif step == "disburse":
            contract_no, bank_txn_ref = self._contract(plan_index, day)
            await service(liaison).disburse(
                application_id,
                Disbursement(
                    contract_no=contract_no,
                    disbursed_on=day,
                    amount=Decimal(plan.approved or plan.amount),
                    bank_txn_ref=bank_txn_ref,
                ),
                self.today,
            )
        elif step == "withdraw":
            await service(staff).withdraw(
                application_id, Withdrawal(reason=plan.reason or "申请人撤回", withdrawn_on=day), self.today
            )

    def _contract(self, plan_index: int, day: date) -> tuple[str, str]:
        """The next contract number of the plan's bank in ``day``'s year, and the disbursement's transaction
        reference."""
        bank = self.county.banks[PLANS[plan_index].bank]
        n = self.contracts[(bank.code, day.year)] = self.contracts.get((bank.code, day.year), 0) + 1
        contract_no = self.contract_of[plan_index] = f"{bank.code}-{day.year}-{n:04d}"
        return contract_no, f"FK{day:%Y%m%d}{self.rng.randrange(10**6):06d}{n:02d}"

    async def _write_in_book(self, plan_index: int, day: date) -> None:
        """The loan's row in its bank's book, as the bank exports it (the woman is registered already)."""
        plan = PLANS[plan_index]
        contract_no, bank_txn_ref = self._contract(plan_index, day)
        woman = await self.session.get_one(Applicant, self.applicants[plan.person])
        fund = await self.session.get_one(GuaranteeFund, self.fund_ids[plan.bank])
        kind, investment, jobs, description = plan.project
        self.books[plan.bank].append(
            {
                "contract_no": contract_no,
                "national_id": woman.national_id,
                "name": woman.name,
                "phone": woman.phone or "",
                "village_code": woman.village_code,
                "product_code": self.county.product_code,
                "borrower_kind": "个人",
                "amount": plan.approved or plan.amount,
                "annual_rate": plan.rate or "0.0435",
                "term_months": str(plan.term),
                "repayment_method": REPAYMENT_METHOD_LABELS[plan.method],
                "disbursed_on": day.isoformat(),
                "bank_txn_ref": bank_txn_ref,
                "project_type": PROJECT_TYPE_LABELS[kind],
                "project_description": description,
                "project_investment": investment,
                "jobs_expected": str(jobs),
                "guarantee_fund": fund.name,
            }
        )

    async def post_loan_books(self) -> None:
        """Each bank's book of the loans it disbursed before the county took the system up, uploaded by its liaison
        and posted by process_import (the story is committed: the import posts in sessions of its own). One bank
        exports XLSX, the other a CSV saved by a Chinese Excel (GBK)."""
        for bank, rows in zip(self.county.banks, self.books, strict=True):
            if not rows:
                continue
            header = [BOOK_COLUMNS[column][0] for column in rows[0]]
            lines = [list(row.values()) for row in rows]
            if bank is self.county.banks[0]:
                filename, content = f"{bank.code}-存量贷款.xlsx", xlsx_bytes(header, lines)
            else:
                filename, content = f"{bank.code}-存量贷款.csv", csv_text(header, lines).encode("gb18030")
            imports = ImportService(self.session, self.actors[bank.liaison])
            await self._post(imports, await imports.upload_book(filename, content), "created")

    async def _post(self, imports: ImportService, batch: RepaymentImport, outcome: str) -> None:
        """Post an uploaded file as the worker would (after a commit: the import posts in sessions of its own);
        every row must come out ``outcome``, else the load stops naming the file and the first reasons."""
        await self.session.commit()
        await process_import(self.session, batch.id, self.today, self.settings)
        _, taken = await imports.rows(batch.id, outcome, 1, 0)
        if taken != batch.total_rows:
            others = [r for r in (await imports.rows(batch.id, None, 5, 0))[0] if r.outcome != outcome]
            reasons = "; ".join(f"row {r.row_no} {r.outcome}: {r.reason}" for r in others)
            raise RuntimeError(
                f"demo file {batch.filename}: {taken} of {batch.total_rows} {outcome}; {reasons}"
            )

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
        self, applications: ApplicationService, application_id: UUID, plan: Plan, step: str, day: date
    ) -> None:
        if step == "approve":
            decision = BankDecision(
                decision="approve",
                amount=Decimal(plan.approved or plan.amount),
                annual_rate=Decimal(plan.rate or "0.0435"),
                term_months=plan.term,
                repayment_method=plan.method,
                reason="核定金额低于申请金额：按项目自有资金比例核减" if plan.approved else None,
                decided_on=day,
            )
        else:
            decision = BankDecision(decision="decline", reason=plan.reason, decided_on=day)
        await applications.bank_decision(application_id, decision, self.today)

    async def post_bank_files(self) -> None:
        """Each bank's repayments, a file a month, uploaded and posted as a liaison does (the story is committed:
        the import posts in sessions of its own). Each borrower repays what fell due by today, on the due date or
        her plan's days late, except the last installments her plan says she missed."""
        paid: list[list[BankFileRow]] = [[] for _ in self.county.banks]
        for plan_index, contract_no in self.contract_of.items():
            plan = PLANS[plan_index]
            bank_code = self.county.banks[plan.bank].code
            loan = await self.session.scalar(
                select(Loan).where(Loan.bank_code == bank_code, Loan.contract_no == contract_no)
            )
            liaison = self.actors[self.county.banks[plan.bank].liaison]
            due = [
                row
                for row in await LoanService(self.session, liaison).installments(loan.id)
                if row.due_date <= self.today and row.principal + row.borrower_interest > 0
            ]
            for row in due[: len(due) - plan.missed]:
                paid_on = min(row.due_date + timedelta(days=plan.days_late), self.today)
                paid[plan.bank].append(
                    BankFileRow(
                        loan.contract_no,
                        f"HK{paid_on:%Y%m%d}{loan.contract_no[-4:]}{row.seq:02d}",
                        paid_on,
                        row.principal + row.borrower_interest,
                    )
                )
        for bank, rows in zip(self.county.banks, paid, strict=True):
            imports = ImportService(self.session, self.actors[bank.liaison])
            by_month = groupby(
                sorted(rows, key=lambda r: (r.paid_on, r.reference)), key=lambda r: r.paid_on.replace(day=1)
            )
            for month, lines in by_month:
                filename = f"{bank.code}-还款流水-{month:%Y%m}.csv"
                await self._post(
                    imports, await imports.upload(filename, bank_file(lines), self.today), "posted"
                )


class BankFileRow(NamedTuple):
    contract_no: str
    reference: str
    paid_on: date
    amount: int


def bank_file(rows: Iterable[BankFileRow]) -> bytes:
    """A bank's repayment export: UTF-8 CSV with a BOM, Chinese headers."""
    lines = [(r.contract_no, r.reference, r.paid_on.isoformat(), fen_to_str(r.amount)) for r in rows]
    return csv_text(("合同编号", "交易流水号", "还款日期", "还款金额"), lines).encode("utf-8-sig")


async def load_demo_data(
    session: AsyncSession, settings: Settings, *, today: date, county: DemoCounty = JINCHUAN
) -> DemoSummary:
    """Load the demo county unless it exists: the story in one commit, then the banks' loan books and repayment
    files, each posted as its import commits. The `admin` user must exist."""
    if await session.get(Region, county.code) is None:
        loader = _DemoLoader(session, settings, county, today)
        await loader.load()
        await loader.post_loan_books()
        await loader.post_bank_files()
        summary = await summarize(session, county, created=True)
        await session.commit()
        return summary
    return await summarize(session, county, created=False)
