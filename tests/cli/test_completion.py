"""``videoedit completion bash|zsh|fish``: scripts that complete commands, flags, flag values,
provider ids and files, checked by running them in the shells themselves."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import Run

from videoedit.cli.commands import COMMANDS
from videoedit.cli.completion import grammar, installed_provider_names, script
from videoedit.cli.parser import build_parser


def needs(shell: str) -> str:
    found = shutil.which(shell)
    if found is None:
        pytest.skip(f"{shell} is not installed")
    return found


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("completion")
    out = {}
    for shell in ("bash", "zsh", "fish"):
        out[shell] = folder / f"videoedit.{shell}"
        out[shell].write_text(script(shell, build_parser(), installed_provider_names()))
    return out


def bash_complete(script_path: Path, words: list[str], cwd: Path) -> list[str]:
    """What bash offers for the last of ``words`` (the word being typed)."""
    line = " ".join(f"'{w}'" for w in words)
    program = (
        f"source {script_path}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; "
        '_videoedit; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(
        [needs("bash"), "-c", program], capture_output=True, text=True, cwd=cwd, check=True
    )
    return [w for w in done.stdout.splitlines() if w]


def test_the_command_prints_each_shells_script(cli: Callable[..., Run]) -> None:
    for shell, first in (("bash", "# videoedit"), ("zsh", "#compdef videoedit"), ("fish", "#")):
        run = cli("completion", shell)
        assert run.code == 0, run.stderr
        assert run.stdout.startswith(first)
        assert "dashscope-singapore" in run.stdout


def test_an_unknown_shell_is_a_usage_error(cli: Callable[..., Run]) -> None:
    run = cli("completion", "tcsh")

    assert run.code == 2
    assert "invalid choice: 'tcsh'" in run.stderr


def test_the_grammar_holds_every_command_and_every_flag_of_edit() -> None:
    parser = build_parser()
    commands = {c.name: c for c in grammar(parser, ("vtrix",))}
    edit = build_parser()._subparsers._group_actions[0].choices["edit"]  # type: ignore[union-attr]

    assert set(commands) == set(COMMANDS) | {"demo"}  # demo: the emulator's plugin adds it
    flags = {name for flag in commands["edit"].flags for name in flag.names}
    shown = [a for a in edit._actions if a.help != argparse.SUPPRESS]  # hidden: not completed
    assert flags == {n for a in shown for n in a.option_strings}


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["videoedit", "ed"], ["edit"]),
        (["videoedit", "--ver"], ["--version"]),
        (["videoedit", "edit", "clip.mp4", "--reso"], ["--resolution"]),
        (["videoedit", "edit", "--resolution", ""], ["720P", "1080P"]),
        (["videoedit", "wait", "ID", "-p", "dashscope-b"], ["dashscope-beijing"]),
        (["videoedit", "completion", "f"], ["fish"]),
        (["videoedit", "edit", "cl"], ["clip.mp4"]),
        (["videoedit", "edit", "x", "-o", "cl"], ["clip.mp4"]),
        (["videoedit", "status", "--no-w"], []),  # a flag of edit, not of status
    ],
)
def test_bash_completes(
    scripts: dict[str, Path], tmp_path: Path, words: list[str], expected: list[str]
) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"")

    assert bash_complete(scripts["bash"], words, tmp_path) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("videoedit ed", "edit"),
        ("videoedit edit --resolution ", "720P"),
        ("videoedit edit x -p vtr", "vtrix"),
        ("videoedit edit --no-w", "--no-wait"),
        ("videoedit completion ", "zsh"),
    ],
)
def test_fish_completes(scripts: dict[str, Path], line: str, expected: str) -> None:
    done = subprocess.run(
        [needs("fish"), "--no-config", "-c", f"source {scripts['fish']}; complete -C '{line}'"],
        capture_output=True,
        text=True,
        check=True,
    )

    offered = [row.split("\t")[0] for row in done.stdout.splitlines()]
    assert expected in offered


def test_the_zsh_script_parses_and_declares_each_command_and_value(
    scripts: dict[str, Path],
) -> None:
    done = subprocess.run([needs("zsh"), "-n", str(scripts["zsh"])], capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    text = scripts["zsh"].read_text()
    assert text.startswith("#compdef videoedit\n")
    for command in COMMANDS:
        assert f"\n        {command})\n" in text
    assert "--ratio'[output aspect ratio]:value:(16\\:9 9\\:16 1\\:1 4\\:3 3\\:4)'" in text
    output = next(line for line in text.splitlines() if "{-o,--output}'[save the result" in line)
    assert output.strip().startswith("'(-o --output)'{-o,--output}")
    assert output.endswith(":value:_files' \\")
