"""The README's commands work as printed, and the command lines of the docs are real ones.

A newcomer copies the README's lines into a shell, so they are run here the same way: each
``sh`` line through bash, in a folder of its own holding a ``clip.mp4`` (and ``edits.jsonl``, a manifest of one row naming it), with the project's
environment on ``PATH`` (as after ``. .venv/bin/activate``) and DashScope pointed at the
emulator with a made-up key. The ``python`` blocks run as scripts with the same settings.
``make demo`` and ``make test`` themselves are what ``.ci/run`` runs in a fresh clone;
``make`` lines are checked with a dry run here, and ``pip install`` lines name only
distributions of this workspace.

Every ``videoedit`` command line of the README, the quick start and the CLI page is also
parsed by the real parser, so a flag that was renamed cannot survive in the docs.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import videoedit
from videoedit.cli.parser import build_parser
from videoedit_emulator.render.cache import CACHE_DIR_ENV
from videoedit_emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [README, ROOT / "docs" / "quickstart.md", ROOT / "docs" / "cli.md"]
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: The workspace's released distributions (what a ``pip install`` line may name).
DISTRIBUTIONS = {
    "videoedit",
    "videoedit-dashscope",
    "videoedit-vtrix",
    "videoedit-apimart",
    "videoedit-vace",
    "videoedit-emulator",
}
#: Too slow or recursive to run from a test; .ci/run runs the first two in a fresh clone.
DRY_RUN_ONLY = {"demo", "test", "bench", "docs-serve", "dist"}


def blocks(path: Path, *languages: str) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [body for lang, body in _FENCE.findall(text) if lang in languages]


def shell_lines(path: Path) -> list[str]:
    """Each command line of the page's ``sh`` blocks (continuations joined)."""
    lines = []
    for body in blocks(path, "sh", "bash"):
        for line in body.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append(line.strip())
    return lines


def uncommented(line: str) -> str:
    """``line`` without its ``# comment`` (a ``#`` outside quotes, after a blank)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line


def commands(line: str) -> Iterator[list[str]]:
    """Every simple command in ``line``: pipelines split, ``$( )`` and ``eval`` opened,
    redirections dropped."""
    for segment in re.split(r"\||&&|;", uncommented(line).replace("$(", " ").replace(")", " ")):
        argv = shlex.split(segment)
        while argv and re.match(r"^\w+=", argv[0]):  # VAR=value before a command
            argv = argv[1:]
        redirect = [i for i, arg in enumerate(argv) if re.match(r"^\d?[<>]", arg)]
        argv = argv[: redirect[0]] if redirect else argv
        if argv[:1] == ["eval"]:
            for inner in argv[1:]:
                yield from commands(inner)
        elif argv:
            yield argv


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][\w-]*):", text, re.MULTILINE))


def test_every_command_line_of_the_docs_is_one_this_checkout_has() -> None:
    parser = build_parser()
    seen = set()
    for page in PAGES:
        for line in shell_lines(page):
            for argv in commands(line):
                program = argv[0]
                seen.add(program)
                where = f"{page.name}: {line}"
                if program == "videoedit":
                    try:
                        parser.parse_args(argv[1:])
                    except SystemExit:
                        pytest.fail(f"{where}: the parser refuses {shlex.join(argv)}")
                elif program == "make":
                    assert set(argv[1:2]) <= make_targets(), where
                elif program == "pip":
                    names = [Requirement(a).name for a in argv[2:] if not a.startswith("-")]
                    assert set(names) <= DISTRIBUTIONS, where
    assert {"videoedit", "make", "pip"} <= seen


def test_the_readme_runs_nothing_that_a_fresh_clone_lacks() -> None:
    """``uv`` is on PATH only for some: the Makefile installs it into .tools/ otherwise."""
    programs = {argv[0] for line in shell_lines(README) for argv in commands(line)}

    assert programs <= {"make", "pip", "videoedit", "videoedit-emulator", "python", "export"}
    inline = re.findall(r"`(uv [^`]*)`", README.read_text(encoding="utf-8"))
    assert inline == [], "the README tells to run uv, which a fresh clone may not have on PATH"


@pytest.mark.parametrize(
    "target",
    sorted(
        {argv[1] for line in shell_lines(README) for argv in commands(line) if argv[0] == "make"}
    ),
)
def test_the_make_targets_the_readme_names_exist(target: str) -> None:
    done = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr


# -- running them ---------------------------------------------------------------------------------
@pytest.fixture
def user_env(emulator: EmulatorServer) -> dict[str, str]:
    """A shell as the README's reader has it: the venv's commands first, a key set, and (for
    this test) DashScope's Singapore region answered by the emulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEOEDIT_")}
    env[CACHE_DIR_ENV] = os.environ[
        CACHE_DIR_ENV
    ]  # the test run's render cache stays (tests/conftest.py)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["DASHSCOPE_API_KEY"] = "sk-readme-0123456789"
    env["VIDEOEDIT_DASHSCOPE_SINGAPORE_BASE_URL"] = emulator.base_url("dashscope-singapore")
    env.pop("NO_COLOR", None)
    return env


def as_a_user(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def runnable_lines() -> list[str]:
    out = []
    for line in shell_lines(README):
        programs = {argv[0] for argv in commands(line)}
        if programs & {"make", "pip"}:
            continue  # dry-run and name checks above; .ci/run runs make demo and make test
        out.append(line)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("line", runnable_lines())
def test_the_readme_command_works_as_printed(
    line: str,
    user_env: dict[str, str],
    emulator: EmulatorServer,
    emulator_sample_clip: Path,
    tmp_path: Path,
) -> None:
    shutil.copy(emulator_sample_clip, tmp_path / "clip.mp4")
    (tmp_path / "edits.jsonl").write_text('{"id": "first", "video": "clip.mp4", "prompt": "ink"}\n')
    if "ID" in shlex.split(uncommented(line)):
        with videoedit.Client(
            "dashscope-singapore", base_url=emulator.base_url("dashscope-singapore"), api_key="k"
        ) as client:
            task = client.submit(videoedit.VideoEdit(video="https://example.com/in.mp4"))
        line = line.replace(" ID ", f" {task.task_id} ")

    done = as_a_user(["bash", "-c", f"set -euo pipefail; {line}"], tmp_path, user_env)

    assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    if "-o out.mp4" in line:
        assert (tmp_path / "out.mp4").stat().st_size > 1000
    if "batch run" in line:
        assert (tmp_path / "out" / "first.mp4").stat().st_size > 1000


@pytest.mark.slow
@pytest.mark.parametrize("number", range(len(blocks(README, "python"))))
def test_the_readmes_python_runs_as_printed(
    number: int, user_env: dict[str, str], emulator_sample_clip: Path, tmp_path: Path
) -> None:
    shutil.copy(emulator_sample_clip, tmp_path / "clip.mp4")
    (tmp_path / "example.py").write_text(blocks(README, "python")[number], encoding="utf-8")

    done = as_a_user([sys.executable, "example.py"], tmp_path, user_env)

    assert done.returncode == 0, done.stderr
