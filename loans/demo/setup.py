"""The demo loader's groundwork: its state and the county's reference data.

``CountySetup`` holds what the loader builds up (the actors, the guarantee funds, the applicants
and applications made so far) and sets the county up: regions, banks, the product, the users, and
the guarantee funds with their first deposits, dated ``_SETUP_DAYS_AGO`` days before today. The
story itself (``story._DemoLoader``) builds on it.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from loans.banks.schemas import BankCreate
from loans.banks.service import BankService
from loans.bootstrap import ADMIN_USERNAME
from loans.core.actor import Actor
from loans.core.roles import Role
from loans.demo.counties import DemoCounty, demo_logins
from loans.funds.schemas import DepositCreate, FundCreate
from loans.funds.service import FundService
from loans.products.schemas import GuaranteeMode, MaxAmounts, ProductCreate
from loans.products.service import ProductService
from loans.products.terms import RepaymentMethod
from loans.regions.schemas import RegionCreate
from loans.regions.service import RegionService
from loans.settings import Settings
from loans.users.models import User
from loans.users.schemas import UserCreate
from loans.users.service import UserService

SEED = 2026
_SETUP_DAYS_AGO = 600


class CountySetup:
    """The loader's state and the county's reference data; ``story._DemoLoader`` adds the story."""

    def __init__(self, session: AsyncSession, settings: Settings, county: DemoCounty, today: date) -> None:
        if len(county.townships) != 4 or len(county.banks) != 2:
            raise ValueError("a demo county has four townships and two banks")
        self.session = session
        self.settings = settings
        self.county = county
        self.today = today
        self.rng = random.Random(SEED)
        self.actors: dict[str, Actor] = {}
        self.fund_ids: list[UUID] = []
        self.applicants: dict[int, UUID] = {}
        self.applications: dict[int, UUID] = {}
        self.contracts: dict[tuple[str, int], int] = {}
        self.contract_of: dict[int, str] = {}  # plan index → its loan's contract number
        self.books: list[list[dict[str, str]]] = [[] for _ in county.banks]  # each bank's loan book rows
        self.certificates: dict[tuple[str, int], int] = {}

    def day(self, days_ago: int) -> date:
        return self.today - timedelta(days=days_ago)

    # --- reference data: regions, banks, product, users, guarantee funds ----------------------------

    async def _setup(self) -> None:
        county = self.county
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
            user = await users.create_demo_user(
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
            self.actors[username] = actor_of(user)
        officer = self.actors[county.county_officer]
        funds = FundService(self.session, officer)
        for i, bank in enumerate(county.banks):
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


def actor_of(user: User) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        region_code=user.region_code,
        bank_code=user.bank_code,
    )
