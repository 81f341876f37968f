"""Demo data for `loans dev` and `loans demo-data`: a county's women's guaranteed loans, made by the services.

Everything is made by the real services (RegionService, BankService, ProductService, UserService,
FundService, ApplicantService, ApplicationService) acting as a user of the right role, so every rule
is checked and every step leaves the audit trail a real one would. The story runs over the last
twenty months before ``today``: the county sets up its fund, township offices register women and
their trainings, and applications travel village → township → county → bank, ending in every
status. ``load_demo_data`` is idempotent: when the demo county already exists it creates nothing.

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
