"""The Litestar application: plugins, auth, controllers, error handling."""

from __future__ import annotations

import gc
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from arq import create_pool
from arq.connections import RedisSettings
from litestar import Litestar, Request, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

import loans.models  # noqa: F401 - every mapper registered before the first query
from loans.applicants.controllers import ApplicantController
from loans.applications.commitments import approved_not_disbursed
from loans.applications.controllers import ApplicationController
from loans.applications.liaison_scope import bank_applicant_ids
from loans.banks.controllers import BankController
from loans.core.actor import Actor
from loans.core.db import sqlalchemy_config
from loans.funds.controllers import GuaranteeFundController, LoanGuaranteeController
from loans.imports.controllers import ImportController
from loans.jobs.controllers import JobController
from loans.lending.controllers import LoanController
from loans.logging import configure_logging
from loans.products.controllers import ProductController
from loans.regions.controllers import RegionController
from loans.reminders.controllers import ReminderController
from loans.repayments.controllers import LoanRepaymentController, RepaymentController
from loans.reporting.controllers import JobDownloadController, ReportController
from loans.server.errors import exception_handlers
from loans.server.guards import GuardedRequest, refuse_nul_bytes
from loans.server.headers import security_headers
from loans.server.health import health
from loans.server.openapi import SentAsTextPlugin, document_errors
from loans.server.swagger import SelfHostedSwagger
from loans.settings import Settings, get_settings
from loans.targets.controllers import LendingTargetController
from loans.users.auth import TokenStandings, build_jwt_auth
from loans.users.controllers import AuthController, UserController
from loans.users.service import token_lifetime
from loans.visits.controllers import VisitController
from loans.web.router import static_router, web_app_config, web_router

CONTROLLERS = [
    AuthController,
    UserController,
    RegionController,
    BankController,
    ProductController,
    GuaranteeFundController,
    ApplicantController,
    ApplicationController,
    LoanController,
    LoanGuaranteeController,
    LoanRepaymentController,
    RepaymentController,
    ImportController,
    JobController,
    ReminderController,
    VisitController,
    LendingTargetController,
    ReportController,
    JobDownloadController,
]


def provide_actor(request: Request) -> Actor:
    return request.user


@get("/api/v1", include_in_schema=False, exclude_from_auth=True)
async def service_description() -> dict[str, str]:
    return {"service": "Jinguo Loans 巾帼贷款", "web": "/", "openapi": "/schema/swagger", "health": "/health"}


def freeze_startup_objects() -> None:
    """The objects the app is built of live as long as the process: out of the collector's sight, a full
    collection scans only what requests left behind. It scanned everything, pausing a worker 0.15–0.23 s under
    load, every request in flight with it."""
    gc.freeze()


def secret_key(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging()
    secret = secret_key(settings)
    jwt_auth = build_jwt_auth(secret, token_lifetime(settings.token_ttl_minutes))
    db_config = sqlalchemy_config(settings)

    @asynccontextmanager
    async def redis_pool(app: Litestar) -> AsyncIterator[None]:
        app.state.redis = await create_pool(RedisSettings.from_dsn(settings.redis_url or "redis://localhost"))
        try:
            yield
        finally:
            await app.state.redis.aclose()

    app = Litestar(
        route_handlers=[service_description, health, *CONTROLLERS, web_router(), static_router()],
        plugins=[SQLAlchemyPlugin(config=db_config), SentAsTextPlugin()],
        on_app_init=[jwt_auth.on_app_init],
        lifespan=[redis_pool],
        on_startup=[freeze_startup_objects],
        dependencies={
            "actor": Provide(provide_actor, sync_to_thread=False),
            "settings": Provide(lambda: settings, sync_to_thread=False, use_cache=True),
            "commitments": Provide(lambda: approved_not_disbursed, sync_to_thread=False, use_cache=True),
            "bank_applicants": Provide(lambda: bank_applicant_ids, sync_to_thread=False, use_cache=True),
        },
        exception_handlers=exception_handlers,
        request_class=GuardedRequest,
        before_request=refuse_nul_bytes,
        before_send=[security_headers],
        state=State(
            {
                "jwt_auth": jwt_auth,
                "token_standings": TokenStandings(db_config.get_engine),
                "settings": settings,
            }
        ),
        openapi_config=OpenAPIConfig(
            title="Jinguo Loans 巾帼贷款",
            version="1.0.0",
            path="/schema",
            render_plugins=[SelfHostedSwagger()],
        ),
        **web_app_config(secret, settings.timezone),
    )
    document_errors(app)
    return app
