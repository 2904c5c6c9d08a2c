"""README states the truth: its configuration table is the settings, its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from egovsim.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_the_configuration_table_lists_every_setting_and_nothing_else() -> None:
    documented = set(re.findall(r"^\| `(EGOVSIM_[A-Z_]+)` \|", README, flags=re.M))
    assert documented == {f"EGOVSIM_{name.upper()}" for name in Settings.model_fields}


def test_every_default_in_the_table_is_the_real_default() -> None:
    rows = dict(re.findall(r"^\| `EGOVSIM_([A-Z_]+)` \| ([^|]+) \|", README, flags=re.M))
    for name, field in Settings.model_fields.items():
        shown = rows[name.upper()].strip()
        expected = "(empty)" if field.default is None else f"`{field.default}`"
        assert shown == expected, name


def test_quick_start_is_the_two_commands_ci_runs() -> None:
    block = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["./run up", "./run test"]
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "\n./run test\n" in ci
