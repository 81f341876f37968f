from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.service import add_recorded
from loans.core.actor import Actor
from loans.core.errors import Conflict, NotFound
from loans.core.region_codes import RegionLevel, ancestor_code
from loans.core.roles import Role
from loans.money import yuan_to_fen
from loans.products.models import LoanProduct
from loans.products.schemas import BorrowerKind, ProductCreate
from loans.regions.service import require_region


@dataclass
class ProductService:
    session: AsyncSession
    actor: Actor

    def _visible(self):
        if self.actor.region_code is None:
            return LoanProduct.county_code.is_not(None)
        return LoanProduct.county_code == ancestor_code(self.actor.region_code, RegionLevel.COUNTY)

    async def create(self, data: ProductCreate) -> LoanProduct:
        self.actor.require(Role.ADMIN)
        await require_region(self.session, "county_code", data.county_code, RegionLevel.COUNTY)
        if await self.session.scalar(select(LoanProduct.id).where(LoanProduct.code == data.code)):
            raise Conflict(
                f"product {data.code} exists", f"贷款产品 {data.code} 已存在", existing_code=data.code
            )
        limits = {
            f"max_amount_{kind.value}": yuan_to_fen(getattr(data.max_amount, kind.value))
            for kind in BorrowerKind
        }
        product = LoanProduct(
            code=data.code,
            county_code=data.county_code,
            name=data.name,
            max_term_months=data.max_term_months,
            repayment_methods=[m.value for m in data.repayment_methods],
            max_annual_rate=data.max_annual_rate,
            subsidy_share=data.subsidy_share,
            penalty_markup=data.penalty_markup,
            guarantee_mode=data.guarantee_mode,
            max_borrowings=data.max_borrowings,
            requires_training=data.requires_training,
            effective_from=data.effective_from,
            effective_to=data.effective_to,
            **limits,
        )
        return await add_recorded(
            self.session,
            self.actor,
            product,
            entity_type="product",
            action="create_product",
            after=data.model_dump(mode="json"),
        )

    async def list(self) -> list[LoanProduct]:
        query = select(LoanProduct).where(self._visible()).order_by(LoanProduct.code)
        return list(await self.session.scalars(query))

    async def get_by_code(self, code: str) -> LoanProduct:
        product = await self.session.scalar(
            select(LoanProduct).where(LoanProduct.code == code, self._visible())
        )
        if product is None:
            raise NotFound("product", "贷款产品", code)
        return product
