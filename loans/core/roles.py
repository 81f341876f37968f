from enum import StrEnum


class Role(StrEnum):
    VILLAGE_OFFICER = "village_officer"
    TOWNSHIP_STAFF = "township_staff"
    COUNTY_OFFICER = "county_officer"
    BANK_LIAISON = "bank_liaison"
    AUDITOR = "auditor"
    ADMIN = "admin"


ROLE_ZH = {
    Role.VILLAGE_OFFICER: "村/居妇代会主任",
    Role.TOWNSHIP_STAFF: "乡镇/街道妇联",
    Role.COUNTY_OFFICER: "县妇联",
    Role.BANK_LIAISON: "合作银行信贷员",
    Role.AUDITOR: "审计（财政局、市妇联）",
    Role.ADMIN: "系统管理员",
}
