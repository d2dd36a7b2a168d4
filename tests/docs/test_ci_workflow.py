"""The ready-to-copy CI workflow (docs/examples/acme-video/.github/workflows/contract.yml)
runs what exists: the example's tests on the emulator, its live contract with its key."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

import videoedit
from videoedit_emulator.render.cache import CACHE_DIR_ENV

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "acme-video"
WORKFLOW = EXAMPLE / ".github" / "workflows" / "contract.yml"


def workflow() -> dict[str, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def pytest_commands(job: dict[str, Any]) -> list[list[str]]:
    runs = [shlex.split(step["run"]) for step in job["steps"] if "run" in step]
    return [argv for argv in runs if argv[:3] == ["python", "-m", "pytest"]]


def test_the_emulator_job_runs_the_packages_tests_on_every_push() -> None:
    flow = workflow()
    job = flow["jobs"]["emulator"]

    assert {"push", "pull_request"} <= set(flow[True])  # YAML reads the key `on` as True
    [argv] = pytest_commands(job)
    paths = [arg for arg in argv[3:] if not arg.startswith("-")]
    assert paths
    assert all((EXAMPLE / path).exists() for path in paths)
    assert "--live" not in argv


def test_the_live_job_runs_the_contract_with_the_providers_key() -> None:
    job = workflow()["jobs"]["live"]
    info = videoedit.default_host().provider("acme-cloud")

    [argv] = pytest_commands(job)
    assert "--live" in argv
    assert (EXAMPLE / argv[-1]).is_file()
    assert set(info.api_key_env) <= set(job["env"])
    assert job["needs"] == "emulator"


def test_the_emulator_job_keeps_the_render_cache_between_runs() -> None:
    job = workflow()["jobs"]["emulator"]
    [cache] = [step for step in job["steps"] if step.get("uses", "").startswith("actions/cache@")]

    assert cache["with"]["path"] == job["env"][CACHE_DIR_ENV]
    assert cache["with"]["restore-keys"]  # a changed key still starts from the last cache
