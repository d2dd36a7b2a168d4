"""Plugins add commands (the ``register_commands`` hook): the emulator's ``demo`` and
``--emulator`` come this way, and without them those words say what to install.

These run ``main`` in this process, with a default plugin host of their own.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from typing import Any

import pytest

import videoedit.plugins
from videoedit import PluginHost, hookimpl
from videoedit.cli import main
from videoedit.cli.commands import Context
from videoedit.hookspecs import CommandLine


@pytest.fixture(autouse=True)
def _restore_default_host() -> Any:
    yield
    videoedit.plugins.reset_default_host()


def run(*argv: str, plugins: PluginHost) -> tuple[int, str, str]:
    """``videoedit ARGV`` with ``plugins`` as the process's plugin host."""
    videoedit.plugins._default = plugins
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def core_only(*, strict: bool = True) -> PluginHost:
    """The core's plugins and one provider: no emulator among them."""
    return PluginHost.from_entry_points(allow=["wan27", "dashscope"], strict=strict)


def help_of(capsys: pytest.CaptureFixture[str], *argv: str, plugins: PluginHost) -> str:
    """What ``--help`` prints (argparse writes it to the process's stdout)."""
    code, _, _ = run(*argv, "--help", plugins=plugins)
    assert code == 0
    return capsys.readouterr().out


class Greeter:
    @hookimpl
    def register_commands(self, cli: CommandLine) -> None:
        hello = cli.add_command("hello", self.hello, help="say hello")
        hello.add_argument("--name", default="world")
        cli.command("status").add_argument("--shout", action="store_true", help="louder")

    @staticmethod
    def hello(args: argparse.Namespace, ctx: Context) -> int:
        ctx.console.result({"hello": args.name}, [f"hello {args.name}"])
        return 0


def test_a_plugin_adds_a_command_with_the_output_flags() -> None:
    host = core_only()
    host.register(Greeter(), name="greeter")

    code, out, _ = run("hello", "--name", "acme", "--json", plugins=host)

    assert code == 0
    assert json.loads(out) == {"hello": "acme"}


def test_a_plugin_adds_a_flag_to_a_core_command_and_comes_last_in_the_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    host = core_only()
    host.register(Greeter(), name="greeter")

    listing = help_of(capsys, plugins=host)
    status_help = help_of(capsys, "status", plugins=host)

    commands = re.findall(r"^ {4}(\S+)", listing, re.MULTILINE)
    assert commands == [
        "providers",
        "edit",
        "estimate",
        "status",
        "wait",
        "cancel",
        "list",
        "batch",
        "completion",
        "hello",
        "demo",
    ]
    assert "--shout" in status_help


class Broken:
    @hookimpl
    def register_commands(self, cli: Any) -> None:
        raise RuntimeError("no config file")


def test_a_plugin_whose_register_commands_raises_is_a_warning() -> None:
    host = core_only(strict=False)
    host.register(Broken(), name="broken")

    code, out, err = run("providers", "--json", plugins=host)

    assert code == 0
    assert [p["id"] for p in json.loads(out)["providers"]] == [
        "dashscope-beijing",
        "dashscope-singapore",
    ]
    assert (
        "videoedit: warning: videoedit plugin 'broken' was skipped: register_commands failed: "
        "RuntimeError: no config file"
    ) in err


def test_in_strict_mode_a_plugin_whose_register_commands_raises_is_fatal() -> None:
    host = core_only(strict=True)
    host.register(Broken(), name="broken")

    code, out, err = run("providers", plugins=host)

    assert code == 15
    assert out == ""
    assert "videoedit: error: videoedit plugin 'broken' was skipped: register_commands" in err


def test_without_the_emulators_plugin_demo_says_what_to_load(tmp_path: Any) -> None:
    code, _, err = run("demo", "-o", str(tmp_path / "x.mp4"), plugins=core_only())

    assert code == 15
    assert (
        "videoedit: error: videoedit demo needs the offline emulator (the videoedit-emulator "
        "package), which is installed but whose videoedit plugin 'emulator' is not loaded"
    ) in err
    assert "To fix: Install it with: pip install 'videoedit[emulator]'" in err
    assert list(tmp_path.iterdir()) == []


def test_without_the_emulators_plugin_emulator_says_what_to_load() -> None:
    code, _, err = run(
        "edit",
        "https://example.com/in.mp4",
        "--emulator",
        "--emulator-progression",
        "polls=2",
        plugins=core_only(),
    )

    assert code == 15
    assert "videoedit: error: --emulator needs the offline emulator" in err


def test_the_emulator_contributes_demo_and_emulator_through_its_entry_point(
    capsys: pytest.CaptureFixture[str],
) -> None:
    host = PluginHost.from_entry_points(allow=["wan27", "dashscope", "emulator"], strict=True)

    listing = help_of(capsys, plugins=host)
    edit_help = help_of(capsys, "edit", plugins=host)

    assert "emulator" in host.plugin_names
    assert "an offline edit of a sample clip on the embedded emulator" in listing
    assert "run against an emulator started in this process" in edit_help
    assert "not installed" not in listing + edit_help
