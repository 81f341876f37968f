"""Demo data for `loans dev` and `loans demo-data`: a county's women's guaranteed loans, made by the services.

Everything is made through the front door: the real services (RegionService, BankService,
ProductService, UserService, FundService, ApplicantService, ApplicationService, ImportService) acting
as a user of the right role, so every rule is checked and every step leaves the audit trail a real one
would. The story runs over the last twenty months before ``today`` and is entered the way a county
starting with the system enters its paper: each workflow step dated as it took effect (the audit
events' `at` is when it was entered), the county's fund set up, women registered with their trainings,
applications travelling village → township → county → bank and ending in every status, and the past
repayments brought in by the banks' repayment files, a file a month, posted before any close of
business. ``load_demo_data`` is idempotent: when the demo county already exists it creates nothing.

Region codes follow the 统计用区划代码 layout; county and township codes are the published ones,
village and community codes are illustrative where the published list was not at hand.
"""

from loans.demo.counties import (
    DEMO_PASSWORD,
    JINCHUAN,
    DemoBank,
    DemoCounty,
    DemoTownship,
    DemoVillage,
    demo_logins,
)
from loans.demo.identities import credit_code, female_national_id, national_id_check_char
from loans.demo.story import load_demo_data
from loans.demo.summary import DemoSummary, summarize

__all__ = [
    "DEMO_PASSWORD",
    "JINCHUAN",
    "DemoBank",
    "DemoCounty",
    "DemoSummary",
    "DemoTownship",
    "DemoVillage",
    "credit_code",
    "demo_logins",
    "female_national_id",
    "load_demo_data",
    "national_id_check_char",
    "summarize",
]
