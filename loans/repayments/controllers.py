from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.clock import today
from loans.core.schemas import Attributes
from loans.repayments.schemas import RepaymentCreate, RepaymentOut, ReversalCreate
from loans.repayments.service import PostingResult, RepaymentService
from loans.settings import Settings


def repayment_out(result: PostingResult) -> RepaymentOut:
    after = SimpleNamespace(
        allocations=result.repayment.lines,
        loan_status=result.loan.status,
        outstanding_principal=result.loan.outstanding_principal,
    )
    return RepaymentOut.model_validate(Attributes(after, result.repayment))


class LoanRepaymentController(Controller):
    path = "/api/v1/loans/{loan_id:uuid}/repayments"
    tags = ["repayments"]

    @post("/")
    async def post_repayment(
        self,
        loan_id: UUID,
        data: RepaymentCreate,
        db_session: AsyncSession,
        request: Request[Actor, Any, Any],
    ) -> Response[RepaymentOut]:
        # The busiest request takes its caller and settings off the request rather than as dependencies: Litestar
        # resolves several dependencies in a task group, a twelfth of this request's CPU.
        settings: Settings = request.app.state.settings
        result = await RepaymentService(db_session, request.user).post_repayment(
            loan_id, data, today(settings)
        )
        return Response(repayment_out(result), status_code=201 if result.created else 200)

    @get("/")
    async def list_repayments(
        self, loan_id: UUID, db_session: AsyncSession, actor: Actor
    ) -> list[RepaymentOut]:
        return [repayment_out(r) for r in await RepaymentService(db_session, actor).for_loan(loan_id)]


class RepaymentController(Controller):
    path = "/api/v1/repayments"
    tags = ["repayments"]

    @post("/{repayment_id:uuid}/reverse", status_code=200)
    async def reverse(
        self,
        repayment_id: UUID,
        data: ReversalCreate,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> RepaymentOut:
        return repayment_out(
            await RepaymentService(db_session, actor).reverse(repayment_id, data, today(settings))
        )
