"""The README's quick start is a contract: CI must run its test command verbatim."""

import re

from tests.conftest import REPO


def quick_start_commands() -> list[str]:
    section = REPO.joinpath("README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```console\n(.+?)\n```", section)


def test_quick_start_has_exactly_two_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert commands[0].endswith("ledger demo")


def test_ci_runs_the_readme_test_command():
    test_command = quick_start_commands()[1]
    ci_lines = REPO.joinpath(".ci", "run").read_text().splitlines()
    assert test_command in ci_lines
