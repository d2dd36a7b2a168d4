"""The release path runs what exists: the workflow calls make test and make dist, make dist
builds every released distribution, and the pre-commit hooks are make lint's ruff checks."""

from __future__ import annotations

import re
import shlex
from typing import Any

import yaml
from test_distributions import PUBLIC, ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def makefile_variable(name: str) -> list[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    [value] = re.findall(rf"^{name} := (.*)$", text, re.MULTILINE)
    return value.split()


def make_recipe(target: str) -> list[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    block = text.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in block.splitlines()[1:] if line.startswith("\t")]


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_make_dist_builds_every_released_distribution_and_checks_them() -> None:
    recipe = " ".join(make_recipe("dist"))

    assert set(makefile_variable("DISTRIBUTIONS")) == set(PUBLIC)
    assert "--no-build-isolation" in recipe
    assert ".ci/check_dist.py --public dist" in recipe


def test_the_release_builds_after_the_whole_test_suite_and_publishes_only_on_a_tag() -> None:
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    build, publish = flow["jobs"]["build"], flow["jobs"]["publish"]

    commands = runs(build)
    assert commands.index("make test") < commands.index("make dist")
    assert publish["needs"] == "build"
    assert publish["if"] == "startsWith(github.ref, 'refs/tags/')"
    assert publish["permissions"] == {"id-token": "write"}
    assert any(
        step.get("uses", "").startswith("pypa/gh-action-pypi-publish") for step in publish["steps"]
    )
    assert 'test "${GITHUB_REF_NAME}" = "v$(cat VERSION)"' in commands


def test_the_pre_commit_hooks_run_make_lints_ruff_checks() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    lint = [shlex.split(line.replace("$(RUN)", "uv run --no-sync")) for line in make_recipe("lint")]
    lint = [argv for argv in lint if "ruff" in argv]  # lint-imports reads the whole tree

    entries = [shlex.split(hook["entry"]) for hook in hooks]
    assert [e[:-1] if e[-1] == "--force-exclude" else e for e in entries] == [
        argv[:-1]
        for argv in lint  # make lint names the folder (.), pre-commit the files
    ]
