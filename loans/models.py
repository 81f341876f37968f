"""Every mapped class, imported once so that metadata (and Alembic) sees the whole schema."""

from loans.applicants.models import Applicant, IdAccessLog, Training
from loans.applications.models import Application, ApplicationMember
from loans.audit.models import AuditEvent
from loans.banks.models import Bank
from loans.cob.models import BusinessDay, PenaltyAccrual, PortfolioSnapshot
from loans.core.db import metadata
from loans.funds.models import FundEntry, GuaranteeFund
from loans.imports.models import ImportRow, RepaymentImport
from loans.jobs.models import Job
from loans.lending.models import Loan, LoanInstallment
from loans.outbox.models import OutboxTask, WorkerBeat
from loans.products.models import LoanProduct
from loans.regions.models import Region
from loans.reminders.models import Reminder
from loans.repayments.models import Repayment, RepaymentAllocation, RepaymentReversal
from loans.reporting.models import ReportFile
from loans.targets.models import LendingTarget
from loans.users.models import User
from loans.visits.models import Visit

__all__ = [
    "Applicant",
    "IdAccessLog",
    "Application",
    "ApplicationMember",
    "AuditEvent",
    "Bank",
    "BusinessDay",
    "Visit",
    "FundEntry",
    "GuaranteeFund",
    "ImportRow",
    "Job",
    "LendingTarget",
    "RepaymentImport",
    "Loan",
    "LoanInstallment",
    "LoanProduct",
    "OutboxTask",
    "PenaltyAccrual",
    "PortfolioSnapshot",
    "Region",
    "Reminder",
    "ReportFile",
    "Repayment",
    "RepaymentAllocation",
    "RepaymentReversal",
    "Training",
    "User",
    "WorkerBeat",
    "metadata",
]
