"""What the demo county looks like: its townships and villages, its two banks, and who logs in.

Each demo user's username is named here (the county officer, a township office per township,
the village officers a demo village has, a liaison per bank, the auditor); they all share
``DEMO_PASSWORD``.
"""

from __future__ import annotations

from dataclasses import dataclass

from loans.core.roles import Role
from loans.users.password_policy import DEMO_PASSWORD


@dataclass(frozen=True, slots=True)
class DemoVillage:
    code: str
    name: str
    officer: str | None = None  # username of the village_officer (村/居妇代会主任), if the demo has one


@dataclass(frozen=True, slots=True)
class DemoTownship:
    code: str
    name: str
    staff: str  # username of the township_staff user (乡镇/街道妇联)
    villages: tuple[DemoVillage, ...]


@dataclass(frozen=True, slots=True)
class DemoBank:
    code: str
    name: str
    liaison: str  # username of the bank_liaison (合作银行信贷员)
    deposits: tuple[str, ...]  # yuan deposited into the county's guarantee fund held with this bank


@dataclass(frozen=True, slots=True)
class DemoCounty:
    code: str
    name: str
    city: str
    townships: tuple[DemoTownship, ...]  # exactly four: two urban (streets), then two rural (towns)
    banks: tuple[DemoBank, ...]  # exactly two
    product_code: str
    county_officer: str
    auditor: str
    birthplaces: tuple[str, ...]  # 6-digit prefixes for the women's ID numbers, the county's own first

    @property
    def prefix(self) -> str:
        return self.code[:6]


JINCHUAN = DemoCounty(
    code="620302000000",
    name="金川区",
    city="金昌市",
    townships=(
        DemoTownship(
            "620302001000",
            "滨河路街道",
            "township_binhelu",
            (DemoVillage("620302001001", "新华社区"), DemoVillage("620302001002", "金山社区")),
        ),
        DemoTownship(
            "620302002000",
            "桂林路街道",
            "township_guilinlu",
            (DemoVillage("620302002001", "桂林路社区"), DemoVillage("620302002002", "金泉社区")),
        ),
        DemoTownship(
            "620302100000",
            "宁远堡镇",
            "township_ningyuanbu",
            (
                DemoVillage("620302100201", "龙景村", officer="village_longjing"),
                DemoVillage("620302100202", "白家咀村"),
                DemoVillage("620302100203", "西坡村"),
            ),
        ),
        DemoTownship(
            "620302101000",
            "双湾镇",
            "township_shuangwan",
            (
                DemoVillage("620302101201", "陈家沟村"),
                DemoVillage("620302101202", "天生炕村"),
                DemoVillage("620302101203", "九个井村"),
            ),
        ),
    ),
    banks=(
        DemoBank("ABC-JC", "中国农业银行金川支行", "bank_abc", ("2000000.00", "1000000.00")),
        DemoBank("JCRCB", "甘肃金川农村商业银行", "bank_rcc", ("1000000.00",)),
    ),
    product_code="JC-CYDB-WOMEN",
    county_officer="county",
    auditor="auditor",
    birthplaces=("620302", "620302", "620302", "620321", "620102"),
)


def demo_logins(county: DemoCounty = JINCHUAN) -> list[tuple[str, str, str, str | None, str | None]]:
    """(username, password, role, region_code, bank_code) of every demo user (the admin is not one)."""
    logins: list[tuple[str, str, str, str | None, str | None]] = [
        (county.county_officer, DEMO_PASSWORD, Role.COUNTY_OFFICER.value, county.code, None)
    ]
    for township in county.townships:
        logins.append((township.staff, DEMO_PASSWORD, Role.TOWNSHIP_STAFF.value, township.code, None))
        logins.extend(
            (v.officer, DEMO_PASSWORD, Role.VILLAGE_OFFICER.value, v.code, None)
            for v in township.villages
            if v.officer
        )
    logins.extend(
        (b.liaison, DEMO_PASSWORD, Role.BANK_LIAISON.value, county.code, b.code) for b in county.banks
    )
    logins.append((county.auditor, DEMO_PASSWORD, Role.AUDITOR.value, county.code, None))
    return logins
