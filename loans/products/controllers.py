from __future__ import annotations

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.products.schemas import ProductCreate, ProductOut
from loans.products.service import ProductService


class ProductController(Controller):
    path = "/api/v1/products"
    tags = ["reference data"]

    @post("/")
    async def create_product(self, data: ProductCreate, db_session: AsyncSession, actor: Actor) -> ProductOut:
        return ProductOut.of(await ProductService(db_session, actor).create(data))

    @get("/")
    async def list_products(self, db_session: AsyncSession, actor: Actor) -> list[ProductOut]:
        return [ProductOut.of(p) for p in await ProductService(db_session, actor).list()]

    @get("/{code:str}")
    async def get_product(self, code: str, db_session: AsyncSession, actor: Actor) -> ProductOut:
        return ProductOut.of(await ProductService(db_session, actor).get_by_code(code))
