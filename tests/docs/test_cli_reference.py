"""docs/cli.md tells the truth about the command line: its exit codes and its commands."""

from __future__ import annotations

import re
from pathlib import Path

from videoedit.cli.commands import COMMANDS
from videoedit.cli.exits import EXIT_TABLE, ExitCode
from videoedit.cli.parser import REQUEST_FLAGS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
_ROW = re.compile(r"^\| (\d+) \| (.*) \|$", re.MULTILINE)


def exit_rows() -> dict[int, str]:
    section = PAGE.read_text(encoding="utf-8").split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(code): rest for code, rest in _ROW.findall(section)}


def test_the_exit_code_table_lists_every_code_and_no_other() -> None:
    assert set(exit_rows()) == {int(code) for code in ExitCode}


def test_each_error_class_is_on_the_row_of_its_code() -> None:
    rows = exit_rows()
    for rule in EXIT_TABLE:
        assert f"`{rule.error.__name__}`" in rows[int(rule.code)], (
            f"{rule.error.__name__} exits {int(rule.code)}, but docs/cli.md says otherwise"
        )


def test_every_command_and_request_flag_is_documented() -> None:
    page = PAGE.read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"videoedit {command}" in page, f"docs/cli.md does not show `videoedit {command}`"
    for flag in REQUEST_FLAGS.values():
        assert f"`{flag}" in page, f"docs/cli.md does not document {flag}"
