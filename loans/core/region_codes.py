"""统计用区划代码: 12 digits; a county uses 6 significant digits, a township 9, a village 12."""

from __future__ import annotations

from enum import StrEnum


class RegionLevel(StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


SIGNIFICANT_DIGITS = {RegionLevel.COUNTY: 6, RegionLevel.TOWNSHIP: 9, RegionLevel.VILLAGE: 12}
PARENT_LEVEL = {RegionLevel.TOWNSHIP: RegionLevel.COUNTY, RegionLevel.VILLAGE: RegionLevel.TOWNSHIP}


def level_of(code: str) -> RegionLevel:
    if code.endswith("000000"):
        return RegionLevel.COUNTY
    if code.endswith("000"):
        return RegionLevel.TOWNSHIP
    return RegionLevel.VILLAGE


def is_region_code(code: str) -> bool:
    return len(code) == 12 and code.isascii() and code.isdigit() and not code.startswith("000000")


def ancestor_code(code: str, level: RegionLevel) -> str:
    """The code of the county or township that contains ``code`` (itself at its own level)."""
    digits = SIGNIFICANT_DIGITS[level]
    return code[:digits].ljust(12, "0")


def region_path(village_code: str) -> tuple[str, str, str]:
    """(county, township, village) codes of a village."""
    return (
        ancestor_code(village_code, RegionLevel.COUNTY),
        ancestor_code(village_code, RegionLevel.TOWNSHIP),
        village_code,
    )
