"""Application workflow services: every transition is a named method; the rules live in workflow.TRANSITIONS.

Over 400 lines by choice: it is the one service of one state machine, each step's checks beside the step
(the bank decision's and the disbursement's fund-capacity checks are most of the length); split, a step's
rules would sit in one file and its transition in another."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applicants.models import Applicant, Training
from loans.applicants.service import REGISTRARS, ApplicantService, applicant_matches
from loans.applications.commitments import approved_not_disbursed
from loans.applications.credit_code import InvalidCreditCode, validate_credit_code
from loans.applications.liaison_scope import bank_applicant_ids
from loans.applications.models import Application, ApplicationMember
from loans.applications.schemas import (
    ApplicationCreate,
    BankDecision,
    CountyReview,
    Disbursement,
    Submission,
    VillageCertification,
    Withdrawal,
)
from loans.applications.workflow import (
    TRANSITIONS,
    Action,
    Status,
    require_role,
    require_state,
    require_step_date,
)
from loans.audit.models import AuditEvent
from loans.audit.service import record_event
from loans.core import clock
from loans.core.actor import Actor
from loans.core.db import locked
from loans.core.errors import Conflict, InvalidInput, NotFound
from loans.funds.models import GuaranteeFund
from loans.funds.service import FundService
from loans.lending.models import Loan
from loans.lending.service import LoanService, SigningTerms
from loans.money import fen_to_str, yuan_to_fen
from loans.products.limits import check_product_terms
from loans.products.models import LoanProduct
from loans.products.schemas import BorrowerKind, GuaranteeMode
from loans.settings import Settings

_LOAN_UNIQUE_FIELDS = {"loan_contract_unique": "contract_no", "loan_disbursement_txn_unique": "bank_txn_ref"}


def _constraint_name(exc: IntegrityError) -> str | None:
    """The violated constraint, from the driver's exception that SQLAlchemy wraps."""
    driver_error = getattr(exc.orig, "__cause__", None)
    return getattr(driver_error, "constraint_name", None)


@dataclass(frozen=True, slots=True)
class ApplicationView:
    application: Application
    product_code: str
    member_ids: list[UUID]
    loan_id: UUID | None


@dataclass
class ApplicationService:
    session: AsyncSession
    actor: Actor
    settings: Settings

    # --- reading -------------------------------------------------------------------------------

    async def _load(self, application_id: UUID, *, for_update: bool = False) -> Application:
        query = select(Application).where(
            Application.id == application_id, self.actor.scope_filter(Application)
        )
        if for_update:
            query = locked(query)
        application = await self.session.scalar(query)
        if application is None:
            raise NotFound("application", "贷款申请", application_id)
        return application

    async def views(self, applications: list[Application]) -> list[ApplicationView]:
        """Product codes, members and loans for a page of applications, in three queries whatever its size."""
        ids = [a.id for a in applications]
        products = dict(
            (
                await self.session.execute(
                    select(LoanProduct.id, LoanProduct.code).where(
                        LoanProduct.id.in_({a.product_id for a in applications})
                    )
                )
            ).all()
        )
        members: dict[UUID, list[UUID]] = {i: [] for i in ids}
        for application_id, applicant_id in await self.session.execute(
            select(ApplicationMember.application_id, ApplicationMember.applicant_id).where(
                ApplicationMember.application_id.in_(ids)
            )
        ):
            members[application_id].append(applicant_id)
        loans = dict(
            (
                await self.session.execute(
                    select(Loan.application_id, Loan.id).where(Loan.application_id.in_(ids))
                )
            ).all()
        )
        return [
            ApplicationView(a, products[a.product_id], sorted(members[a.id], key=str), loans.get(a.id))
            for a in applications
        ]

    async def view(self, application_id: UUID) -> ApplicationView:
        return (await self.views([await self._load(application_id)]))[0]

    async def search(
        self,
        *,
        status: str | None,
        region_code: str | None,
        applicant_id: UUID | None,
        limit: int,
        offset: int,
        q: str | None = None,
        statuses: Collection[str] = (),
    ) -> tuple[list[ApplicationView], int]:
        conditions = [self.actor.scope_filter(Application)]
        if statuses:
            conditions.append(Application.status.in_(statuses))
        if q:
            conditions.append(Application.applicant_id.in_(select(Applicant.id).where(applicant_matches(q))))
        if status:
            conditions.append(Application.status == status)
        if applicant_id:
            conditions.append(Application.applicant_id == applicant_id)
        if region_code:
            conditions.append(
                (Application.county_code == region_code)
                | (Application.township_code == region_code)
                | (Application.village_code == region_code)
            )
        total = await self.session.scalar(select(func.count()).select_from(Application).where(*conditions))
        rows = list(
            await self.session.scalars(
                select(Application)
                .where(*conditions)
                .order_by(Application.created_at.desc())
                .limit(limit)
                .offset(offset)
            )
        )
        return await self.views(rows), int(total or 0)

    async def count_by_status(self, statuses: Collection[Status]) -> dict[Status, int]:
        """How many applications in scope are in each of ``statuses`` (one grouped count; naming the states lets
        it read the few waiting ones, not a county's whole book: 125 ms → a few at a 58k-loan county)."""
        if not statuses:
            return {}
        rows = await self.session.execute(
            select(Application.status, func.count())
            .where(self.actor.scope_filter(Application), Application.status.in_(list(statuses)))
            .group_by(Application.status)
        )
        return {Status(status): count for status, count in rows}

    async def history(self, application_id: UUID) -> list[AuditEvent]:
        application = await self._load(application_id)
        query = (
            select(AuditEvent)
            .where(AuditEvent.entity_type == "application", AuditEvent.entity_id == str(application.id))
            .order_by(AuditEvent.id)
        )
        return list(await self.session.scalars(query))

    # --- making an application ---------------------------------------------------------------------

    async def create(self, data: ApplicationCreate, today: date) -> Application:
        self.actor.require(*REGISTRARS)
        applicants = ApplicantService(self.session, self.actor, self.settings, bank_applicant_ids)
        applicant = await applicants.get(data.applicant_id)
        product = await self._product_for(data.product_code, applicant.county_code, today)
        members = await self._members(data, applicant)
        credit_code = self._credit_code(data)
        if data.has_business_licence and not data.business_licence_no:
            raise InvalidInput(
                "business_licence_no", "required with a business licence", "有营业执照须填写执照号"
            )
        amount = yuan_to_fen(data.amount_requested)
        check_product_terms(
            product,
            borrower_kind=data.borrower_kind,
            amount=amount,
            term_months=data.term_months,
            method=data.repayment_method,
            at_bank=False,
        )
        bank_code = await self._bank_for(data, product, applicant.county_code)
        application = Application(
            applicant_id=applicant.id,
            product_id=product.id,
            borrower_kind=data.borrower_kind,
            enterprise_name=data.enterprise_name,
            credit_code=credit_code,
            amount_requested=amount,
            term_months=data.term_months,
            repayment_method=data.repayment_method,
            has_business_licence=data.has_business_licence,
            business_licence_no=data.business_licence_no,
            guarantee_fund_id=data.guarantee_fund_id,
            bank_code=bank_code,
            status=Status.DRAFT,
            county_code=applicant.county_code,
            township_code=applicant.township_code,
            village_code=applicant.village_code,
            project_type=data.project.type,
            project_description=data.project.description,
            project_investment=yuan_to_fen(data.project.investment),
            jobs_expected=data.project.jobs_expected,
            created_by=self.actor.user_id,
        )
        self.session.add(application)
        await self.session.flush()
        self.session.add_all(
            ApplicationMember(application_id=application.id, applicant_id=m.id) for m in members
        )
        record_event(
            self.session,
            self.actor,
            entity_type="application",
            entity_id=application.id,
            action="create",
            to_status=Status.DRAFT,
            after=data.model_dump(mode="json"),
            effective_on=today,
        )
        await self.session.flush()
        return application

    async def _product_for(self, code: str, county_code: str, today: date) -> LoanProduct:
        product = await self.session.scalar(
            select(LoanProduct).where(LoanProduct.code == code, LoanProduct.county_code == county_code)
        )
        if product is None:
            raise InvalidInput(
                "product_code", f"no product {code} in the applicant's county", f"本县没有贷款产品 {code}"
            )
        if product.effective_from > today or (
            product.effective_to is not None and product.effective_to < today
        ):
            raise InvalidInput(
                "product_code", f"product {code} is not in effect today", f"贷款产品 {code} 当前不在有效期内"
            )
        return product

    async def _members(self, data: ApplicationCreate, applicant: Applicant) -> list[Applicant]:
        partners = [pid for pid in dict.fromkeys(data.member_applicant_ids) if pid != applicant.id]
        if data.borrower_kind == BorrowerKind.PARTNERSHIP and not partners:
            raise InvalidInput(
                "member_applicant_ids", "a partnership needs at least two women", "合伙经营须有两名以上成员"
            )
        if data.borrower_kind != BorrowerKind.PARTNERSHIP and partners:
            raise InvalidInput(
                "member_applicant_ids", "only a partnership has members", "仅合伙经营可填写成员"
            )
        applicants = ApplicantService(self.session, self.actor, self.settings, bank_applicant_ids)
        return [applicant, *[await applicants.get(pid) for pid in partners]]

    @staticmethod
    def _credit_code(data: ApplicationCreate) -> str | None:
        if data.borrower_kind not in (BorrowerKind.ENTERPRISE, BorrowerKind.COOPERATIVE):
            return None
        if not data.credit_code:
            raise InvalidInput(
                "credit_code",
                "required for an enterprise or cooperative",
                "企业或合作社须填写统一社会信用代码",
            )
        try:
            return validate_credit_code(data.credit_code)
        except InvalidCreditCode as exc:
            raise InvalidInput("credit_code", exc.message_en, exc.message_zh) from exc

    async def _bank_for(self, data: ApplicationCreate, product: LoanProduct, county_code: str) -> str | None:
        if data.guarantee_fund_id is None:
            if product.guarantee_mode == GuaranteeMode.FUND:
                raise InvalidInput(
                    "guarantee_fund_id",
                    "this product is guaranteed by a fund: name it",
                    "该产品由担保基金担保，须指定担保基金",
                )
            return data.bank_code
        fund = await self.session.get(GuaranteeFund, data.guarantee_fund_id)
        if fund is None or fund.county_code != county_code:
            raise InvalidInput(
                "guarantee_fund_id", "no such guarantee fund in the applicant's county", "本县没有该担保基金"
            )
        if data.bank_code is not None and data.bank_code != fund.bank_code:
            raise InvalidInput(
                "bank_code", "the guarantee fund is held with another bank", "担保基金存放于其他银行"
            )
        return fund.bank_code

    # --- transitions ---------------------------------------------------------------------------

    async def _transition(self, application_id: UUID, action: Action) -> tuple[Application, Status, Status]:
        """Load under a row lock, then 404 (scope) → 403 (role) → 409 (state), in that order."""
        application = await self._load(application_id, for_update=True)
        require_role(action, self.actor)
        target = require_state(action, application.status)
        return application, Status(application.status), target

    @staticmethod
    def _dated(application: Application, action: Action, on: date | None, today: date) -> date:
        """The step's date (today unless given), checked against workflow's rules and kept on the application."""
        on = on or today
        require_step_date(action, application, on, today)
        if column := TRANSITIONS[action].kept_in:
            setattr(application, column, on)
        return on

    def _audit(
        self,
        application: Application,
        action: Action,
        source: Status,
        effective_on: date,
        changes: dict[str, Any] | None = None,
    ) -> None:
        record_event(
            self.session,
            self.actor,
            entity_type="application",
            entity_id=application.id,
            action=action,
            from_status=source,
            to_status=application.status,
            after=changes,
            effective_on=effective_on,
        )

    async def certify_village(
        self, application_id: UUID, data: VillageCertification, today: date
    ) -> Application:
        application, source, target = await self._transition(application_id, Action.CERTIFY_VILLAGE)
        unconfirmed = [
            f for f in ("residence_confirmed", "credit_good", "project_real") if not getattr(data, f)
        ]
        if unconfirmed:
            raise InvalidInput(
                unconfirmed[0], "the village certificate must confirm this fact", "村级证明须确认此项"
            )
        issued_on = self._dated(application, Action.CERTIFY_VILLAGE, data.issued_on, today)
        application.village_certificate_no = data.certificate_no
        application.village_committee = data.committee
        application.status = target
        self._audit(application, Action.CERTIFY_VILLAGE, source, issued_on, data.model_dump(mode="json"))
        return application

    async def submit(self, application_id: UUID, data: Submission, today: date) -> Application:
        application, source, target = await self._transition(application_id, Action.SUBMIT)
        if source == Status.DRAFT and not application.has_business_licence:
            raise Conflict(
                "a borrower without a business licence needs the village certificate before submission",
                "无营业执照的借款人须先取得村级证明才能报送",
                state=source.value,
            )
        submitted_on = self._dated(application, Action.SUBMIT, data.submitted_on, today)
        application.status = target
        self._audit(application, Action.SUBMIT, source, submitted_on)
        return application

    async def county_review(self, application_id: UUID, data: CountyReview, today: date) -> Application:
        action = Action.RECOMMEND if data.decision == "recommend" else Action.REJECT
        application, source, target = await self._transition(application_id, action)
        reviewed_on = self._dated(application, action, data.reviewed_on, today)
        application.county_opinion = data.opinion
        application.status = target
        self._audit(application, action, source, reviewed_on, {"opinion": data.opinion})
        return application

    async def bank_decision(self, application_id: UUID, data: BankDecision, today: date) -> Application:
        action = Action.APPROVE if data.decision == "approve" else Action.DECLINE
        application, source, target = await self._transition(application_id, action)
        decided_on = self._dated(application, action, data.decided_on, today)
        if action == Action.APPROVE:
            await self._check_approval(application, data)
            application.approved_amount = yuan_to_fen(data.amount)
            application.approved_rate = data.annual_rate
            application.approved_term_months = data.term_months
            application.approved_method = data.repayment_method
        application.bank_code = self.actor.bank_code
        application.decision_reason = data.reason
        application.decided_at = datetime.now(UTC)
        application.status = target
        self._audit(application, action, source, decided_on, data.model_dump(mode="json"))
        return application

    async def _check_approval(self, application: Application, data: BankDecision) -> None:
        product = await self.session.get_one(LoanProduct, application.product_id)
        amount = yuan_to_fen(data.amount)
        check_product_terms(
            product,
            borrower_kind=application.borrower_kind,
            amount=amount,
            term_months=data.term_months,
            method=data.repayment_method,
            annual_rate=data.annual_rate,
            at_bank=True,
        )
        borrowed, unsettled = await LoanService(self.session, self.actor).count_for_applicant(
            application.applicant_id
        )
        if unsettled:
            raise Conflict(
                "the applicant still has a loan that is not repaid",
                "申请人尚有未结清贷款",
                field="applicant_id",
            )
        if borrowed >= product.max_borrowings:
            raise Conflict(
                f"the applicant has borrowed {borrowed} times; product allows {product.max_borrowings}",
                f"申请人已贷款 {borrowed} 次，超过产品允许的 {product.max_borrowings} 次",
                field="applicant_id",
            )
        if product.requires_training:
            certified = await self.session.scalar(
                select(func.count()).where(
                    Training.applicant_id == application.applicant_id, Training.certificate_no.is_not(None)
                )
            )
            if not certified:
                raise Conflict(
                    "the product requires a training certificate",
                    "该产品要求创业培训合格证书",
                    field="applicant_id",
                )
        if application.guarantee_fund_id is not None:
            await self._check_fund_capacity(application.guarantee_fund_id, amount)

    async def _check_fund_capacity(self, fund_id: UUID, amount: int) -> None:
        funds = FundService(self.session, self.actor)
        fund = await funds.get(fund_id, for_update=True)
        figures = await funds.figures(fund, clock.today(self.settings), approved_not_disbursed)
        if amount > figures.capacity_left:
            raise Conflict(
                f"the guarantee fund's capacity left is {fen_to_str(figures.capacity_left)}, "
                f"less than {fen_to_str(amount)}",
                f"担保基金剩余担保能力 {fen_to_str(figures.capacity_left)} 元，不足 {fen_to_str(amount)} 元",
                field="amount",
                capacity_left=fen_to_str(figures.capacity_left),
            )

    async def disburse(self, application_id: UUID, data: Disbursement, today: date) -> Loan:
        application, source, target = await self._transition(application_id, Action.DISBURSE)
        amount = yuan_to_fen(data.amount)
        if application.approved_amount is not None and amount > application.approved_amount:
            raise InvalidInput(
                "amount",
                f"exceeds the approved {fen_to_str(application.approved_amount)}",
                f"超过审批金额 {fen_to_str(application.approved_amount)} 元",
            )
        self._dated(application, Action.DISBURSE, data.disbursed_on, today)
        for field, column, value in (
            ("contract_no", Loan.contract_no, data.contract_no),
            ("bank_txn_ref", Loan.bank_txn_ref, data.bank_txn_ref),
        ):
            if await self.session.scalar(
                select(Loan.id).where(Loan.bank_code == application.bank_code, column == value)
            ):
                raise Conflict(
                    f"{field} {value} is already used by another loan",
                    f"{value} 已被其他贷款使用",
                    field=field,
                )
        product = await self.session.get_one(LoanProduct, application.product_id)
        signing = SigningTerms(data.contract_no, data.bank_txn_ref, data.disbursed_on, amount)
        try:
            # A disbursement of another application may take the same number between the check above
            # and this insert; the unique constraint decides, and the loser gets the same 409.
            async with self.session.begin_nested():
                loan = await LoanService(self.session, self.actor).open_loan(application, product, signing)
        except IntegrityError as exc:
            field = _LOAN_UNIQUE_FIELDS.get(_constraint_name(exc))
            if field is None:
                raise
            value = getattr(data, field)
            raise Conflict(
                f"{field} {value} is already used by another loan", f"{value} 已被其他贷款使用", field=field
            ) from exc
        application.status = target
        self._audit(
            application,
            Action.DISBURSE,
            source,
            data.disbursed_on,
            {"loan_id": str(loan.id), **data.model_dump(mode="json")},
        )
        return loan

    async def withdraw(self, application_id: UUID, data: Withdrawal, today: date) -> Application:
        application, source, target = await self._transition(application_id, Action.WITHDRAW)
        withdrawn_on = self._dated(application, Action.WITHDRAW, data.withdrawn_on, today)
        application.status = target
        self._audit(application, Action.WITHDRAW, source, withdrawn_on, {"reason": data.reason})
        return application
