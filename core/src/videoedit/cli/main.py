"""``videoedit``'s entry point: parse, run the command, turn failures into sentences.

Every failure ends the same way: the error's own message (with the provider's code and
request id), then what to do about it, then the command that resumes the task when one is
running; an exit code from `videoedit.cli.exits`; and, with ``--json``, the same facts
as one JSON document on stdout. Tracebacks only with ``--debug``.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import sys
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

from videoedit.cli.commands import COMMANDS, Context, Interrupted
from videoedit.cli.exits import ExitCode, exit_code_for, fix_for
from videoedit.cli.extension import command_run
from videoedit.cli.logging_setup import debug_logging, print_traceback, secrets_of
from videoedit.cli.output import Console, error_json, task_json
from videoedit.cli.parser import build_parser
from videoedit.errors import (
    InvalidRequestError,
    PluginLoadError,
    TaskFailedError,
    TaskNotFoundError,
    VideoEditError,
)
from videoedit.plugins import default_host

__all__ = ["main"]

#: After these the task cannot be resumed (it ended, never existed, or was never sent).
_NOT_RESUMABLE = (TaskFailedError, TaskNotFoundError, InvalidRequestError)


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run ``videoedit`` with ``argv`` (default: the process's) and return the exit code."""
    # The plugins may add commands, so they load first; what they warn of (a broken plugin)
    # is printed like every other warning once the output is set up.
    with warnings.catch_warnings(record=True) as early:
        try:
            parser = build_parser(default_host())
            setup_error: PluginLoadError | None = None
        except PluginLoadError as exc:  # strict mode and a broken plugin: said once set up
            parser, setup_error = build_parser(), exc
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (argparse printed it)
        return int(exc.code or 0) if isinstance(exc.code, int) else ExitCode.USAGE
    console = Console(
        json=bool(getattr(args, "json", False)),
        quiet=bool(getattr(args, "quiet", False)),
        out=stdout or sys.stdout,
        err=stderr or sys.stderr,
    )
    redacting = None  # --debug: videoedit's log records, scrubbed (cli/logging_setup.py)
    if getattr(args, "debug", False):
        redacting = debug_logging(console.err, secrets_of(args))
    _catch_ctrl_c()
    ctx = Context(console)
    with warnings.catch_warnings():
        warnings.showwarning = _warning_printer(console)
        for caught in early:
            warnings.showwarning(caught.message, caught.category, caught.filename, caught.lineno)
        try:
            if setup_error is not None:
                raise setup_error
            run = command_run(args) or COMMANDS[args.command]
            return run(args, ctx)
        except Interrupted as stop:
            return _report_interrupt(ctx, stop)
        except VideoEditError as exc:
            if redacting is not None:
                print_traceback(console.err, redacting)
            return _report_error(ctx, exc)
        except KeyboardInterrupt:
            console.say("videoedit: interrupted")
            return ExitCode.INTERRUPTED
        except BrokenPipeError:
            # The reader went away (``videoedit list | head``): say nothing more, like `git`.
            _silence_stdout(console)
            return ExitCode.BROKEN_PIPE
        except OSError as exc:
            if redacting is not None:
                print_traceback(console.err, redacting)
            return _report_os_error(ctx, exc)
        except Exception as exc:
            if redacting is not None:
                print_traceback(console.err, redacting)
            console.say(f"videoedit: internal error: {type(exc).__name__}: {exc}")
            console.say(
                "This is a bug in videoedit or a plugin: run again with --debug and report it."
            )
            return ExitCode.ERROR


def _silence_stdout(console: Console) -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    if console.out is sys.stdout:
        devnull = os.open(os.devnull, os.O_WRONLY)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, sys.stdout.fileno())


def _catch_ctrl_c() -> None:
    """Ctrl-C raises KeyboardInterrupt even if the parent process ignored SIGINT for us."""
    # ValueError: not the main thread (main() called from a worker thread): leave it be.
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _warning_printer(console: Console) -> Any:
    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        console.say(f"{console.style.role('videoedit: warning:', 'warning')} {message}")

    return show


def _describe(exc: VideoEditError) -> str:
    """The error's message with the facts a support desk asks for, as one sentence."""
    facts = []
    if exc.code:
        facts.append(f"code {exc.code}")
    if exc.provider:
        facts.append(f"provider {exc.provider}")
    if exc.status_code is not None:
        facts.append(f"HTTP {exc.status_code}")
    if exc.task_id and exc.task_id not in exc.message:
        facts.append(f"task {exc.task_id}")
    if exc.request_id:
        facts.append(f"request id {exc.request_id}")
    text = exc.message.rstrip(".")
    return f"{text} ({', '.join(facts)})." if facts else f"{text}."


def _sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else text + "."


def _report_error(ctx: Context, exc: VideoEditError) -> int:
    code = exit_code_for(exc)
    fix = fix_for(exc)
    if getattr(exc, "maybe_submitted", False):
        # A creation that may have reached the service: never suggest a blind resubmission.
        fix = (
            f"The task may have been created: check with `videoedit list --provider "
            f"{exc.provider}` (where the provider offers a listing) before submitting again, "
            "so that the edit is not billed twice"
        )
    console = ctx.console
    console.say(f"{console.style.role('videoedit: error:', 'error')} {_describe(exc)}")
    if isinstance(exc, InvalidRequestError) and len(exc.errors) > 1:
        for field, rule in exc.errors:
            console.say(f"  - {field}: {rule}")
    if fix:
        console.say(f"To fix: {_sentence(fix)}")
    resume = None
    if ctx.resume and not isinstance(exc, _NOT_RESUMABLE):
        resume = shlex.join(ctx.resume)
        console.say(f"Resume with: {resume}")
        if ctx.resume_caveat:
            console.say(f"  ({ctx.resume_caveat})")
    if console.json:
        document = error_json(exc, int(code), fix)
        if resume:
            document["error"]["resume"] = resume
        if ctx.task is not None and "task" not in document["error"]:
            document["error"]["task"] = task_json(ctx.task)
        console.result(document)
    return code


def _report_interrupt(ctx: Context, stop: Interrupted) -> int:
    console = ctx.console
    console.say(f"videoedit: {stop.message}.")
    resume = shlex.join(ctx.resume) if ctx.resume else None
    if resume:
        console.say(f"Resume with: {resume}")
        if ctx.resume_caveat:
            console.say(f"  ({ctx.resume_caveat})")
    if console.json:
        document: dict[str, Any] = {
            "interrupted": True,
            "message": stop.message,
            "resume": resume,
            "exit_code": int(ExitCode.INTERRUPTED),
            "task": task_json(ctx.task) if ctx.task is not None else None,
        }
        console.result(document)
    return ExitCode.INTERRUPTED


def _report_os_error(ctx: Context, exc: OSError) -> int:
    where = f": {exc.filename}" if exc.filename else ""
    ctx.console.say(f"videoedit: error: {exc.strerror or exc}{where}.")
    ctx.console.say("To fix: check the path and its permissions.")
    if ctx.resume:
        ctx.console.say(f"Resume with: {shlex.join(ctx.resume)}")
    if ctx.console.json:
        ctx.console.result(
            {"error": {"type": type(exc).__name__, "message": str(exc), "exit_code": 1}}
        )
    return ExitCode.ERROR
