"""Every hook of ``videoedit.hookspecs`` is documented with its parameters, on the hooks page,
and exercised by at least one test (an implementation somewhere in the tests tree)."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from videoedit import hookspecs

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
HOOKS_PAGE = ROOT / "docs" / "hooks.md"
_PARAM = re.compile(r":param (\w+):\s*\S")


def hook_names() -> list[str]:
    marker = f"{hookspecs.PROJECT}_spec"  # what pluggy's HookspecMarker sets on a hook
    return sorted(
        name
        for name, member in vars(hookspecs.VideoEditHookSpecs).items()
        if callable(member) and hasattr(member, marker)
    )


HOOKS = hook_names()


def test_the_hook_specification_is_found() -> None:
    # Guards the tests below against passing vacuously if hooks were no longer found.
    assert {"register_providers", "encode_request", "on_task_event"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_the_hook_has_a_docstring_documenting_every_parameter(hook: str) -> None:
    function = getattr(hookspecs.VideoEditHookSpecs, hook)
    doc = inspect.getdoc(function) or ""
    parameters = [p for p in inspect.signature(function).parameters if p != "self"]

    assert doc.split("\n", 1)[0].strip(), f"{hook} has no docstring"
    documented = _PARAM.findall(doc)
    assert documented == parameters, (
        f"{hook}: document each parameter, in order, as ':param name: what it is' "
        f"(documented {documented}, parameters {parameters})"
    )


@pytest.mark.parametrize("hook", HOOKS)
def test_the_hook_is_on_the_hooks_page(hook: str) -> None:
    page = HOOKS_PAGE.read_text(encoding="utf-8")

    assert f"::: videoedit.hookspecs.VideoEditHookSpecs.{hook}\n" in page, (
        f"docs/hooks.md has no section rendering the {hook} hook"
    )


def _implementations(tree: ast.AST) -> Iterator[str]:
    """Names of functions decorated with ``hookimpl`` (bare, dotted or called)."""
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name == "hookimpl":
                yield node.name


def implemented_in_tests() -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for path in sorted(TESTS.rglob("*.py")):
        if path.is_relative_to(Path(__file__).parent):
            continue  # this directory implements nothing; it must not count for itself
        for name in _implementations(ast.parse(path.read_text(encoding="utf-8"))):
            found.setdefault(name, []).append(path)
    return found


@pytest.mark.parametrize("hook", HOOKS)
def test_the_hook_is_implemented_by_a_test(hook: str) -> None:
    assert implemented_in_tests().get(hook), (
        f"no test under tests/ implements the {hook} hook (a function named {hook} "
        "decorated with @hookimpl)"
    )
