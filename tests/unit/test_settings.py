"""The settings that size the set-wise work: their defaults follow the machine's cores, the environment overrides
them, and a work_mem that is not a PostgreSQL size is refused (it is set in the readers' transactions)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import loans.settings
from loans.settings import Settings


def test_lanes_and_readers_default_to_the_cpu_count_and_at_least_one(monkeypatch):
    monkeypatch.setattr(loans.settings.os, "cpu_count", lambda: 6)
    assert (Settings().lanes, Settings().report_readers) == (6, 6)
    monkeypatch.setattr(loans.settings.os, "cpu_count", lambda: None)
    assert (Settings().lanes, Settings().report_readers) == (1, 1)


def test_the_environment_sets_lanes_readers_and_work_mem(monkeypatch):
    monkeypatch.setenv("LOANS_LANES", "3")
    monkeypatch.setenv("LOANS_REPORT_READERS", "4")
    monkeypatch.setenv("LOANS_REPORT_WORK_MEM", "1GB")
    settings = Settings()
    assert (settings.lanes, settings.report_readers, settings.report_work_mem) == (3, 4, "1GB")


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOANS_LANES", "0"), ("LOANS_REPORT_READERS", "0"), ("LOANS_REPORT_WORK_MEM", "256MB'; SELECT 1; --")],
)
def test_a_setting_out_of_its_range_is_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name):
        Settings()
