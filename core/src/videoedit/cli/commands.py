"""The core's six commands. Each takes the parsed arguments and a `Context`, and
returns 0 or raises; `videoedit.cli.main` turns what is raised into a sentence and an exit
code. Plugins add more (the emulator: ``demo``) through `videoedit.cli.extension`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from videoedit._flows import raise_for_task
from videoedit.cli.completion import cmd_completion
from videoedit.cli.destination import check_output, emulator_output
from videoedit.cli.extension import Embedded, Endpoint
from videoedit.cli.output import (
    Console,
    carried,
    local_time,
    page_json,
    provider_json,
    table,
    task_json,
    task_lines,
)
from videoedit.cli.parser import DEFAULT_PROVIDER, PROVIDER_ENV, REQUEST_FLAGS
from videoedit.cli.progress import Progress
from videoedit.client import DEFAULT_WAIT_TIMEOUT, Client
from videoedit.errors import (
    AuthenticationError,
    InvalidRequestError,
    ProviderNotFoundError,
    VideoEditError,
)
from videoedit.plugins import ProviderInfo, default_host
from videoedit.provider import Uploader
from videoedit.requests import VideoEdit
from videoedit.task import Task, TaskStatus

__all__ = ["COMMANDS", "Context", "Interrupted"]


@dataclass
class Context:
    """What a command shares with the error handler: the console, and how to resume."""

    console: Console
    #: The command that picks up the current task where this one stopped, once a task exists.
    resume: list[str] | None = None
    #: Why that command may not work as printed (a key given by flag, an embedded emulator).
    resume_caveat: str | None = None
    #: The task as last seen, for the JSON error document.
    task: Task | None = None
    #: Set when the task cannot outlive the command (an embedded emulator): why.
    ephemeral: str | None = None
    notes: list[str] = field(default_factory=list)


class Interrupted(Exception):
    """Ctrl-C: the command stopped; whether and how the task goes on is in ``message``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- shared pieces ----------------------------------------------------------------------------
def provider_name(args: argparse.Namespace) -> str:
    return str(args.provider or os.environ.get(PROVIDER_ENV) or DEFAULT_PROVIDER)


def lookup_provider(name: str) -> ProviderInfo:
    """The provider's listing entry; an unknown name says how it was chosen."""
    try:
        return default_host().provider(name)
    except ProviderNotFoundError as exc:
        if name == DEFAULT_PROVIDER and not os.environ.get(PROVIDER_ENV):
            exc.hint = (
                f"no --provider was given and the default ({DEFAULT_PROVIDER}) is not "
                f"installed: pass --provider or set {PROVIDER_ENV}"
            )
        raise


def provider_options(args: argparse.Namespace) -> dict[str, Any]:
    return dict(args.options)


def make_client(
    args: argparse.Namespace,
    info: ProviderInfo,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    progress: Progress | None = None,
    uploader: Uploader | None = None,
) -> Client:
    """A client for the chosen provider; a missing key names the flag and the variable."""
    with client_errors(info):
        return Client(
            info.id,
            api_key=api_key or args.api_key,
            base_url=base_url or args.base_url,
            options=provider_options(args),
            on_event=progress,
            uploader=uploader,
        )


@contextlib.contextmanager
def client_errors(info: ProviderInfo) -> Iterator[None]:
    """Building a client: a refused or missing key says which flag and variable to use."""
    try:
        yield
    except InvalidRequestError as exc:
        if exc.code == "InvalidApiKey":
            exc.hint = (
                f"pass the key again with --api-key, or set {' or '.join(info.api_key_env)}, "
                "exactly as the provider's console shows it"
                if info.api_key_env
                else "pass the key again with --api-key, exactly as the provider gave it"
            )
        raise
    except AuthenticationError as exc:
        if exc.code == "MissingApiKey":
            exc.message = f"no API key for provider {info.id!r}"
            exc.args = (exc.message,)
            exc.hint = (
                f"pass --api-key or set {' or '.join(info.api_key_env)}; to try it without "
                "a key, add --emulator (videoedit edit) or run videoedit demo"
            )
        raise


def resume_command(
    args: argparse.Namespace, info: ProviderInfo, task_id: str, base_url: str | None
) -> list[str]:
    """``videoedit wait ID`` with the flags that reach the same task again (never the key)."""
    command = ["videoedit", "wait", task_id, "--provider", info.id]
    if base_url:
        command += ["--base-url", base_url]
    for key, value in args.options:
        command += ["--option", f"{key}={value if isinstance(value, str) else _json(value)}"]
    output = getattr(args, "output", None)
    if output is not None:
        command += ["-o", str(output)]
        if getattr(args, "force", False):
            command.append("--force")
    if args.json:
        command.append("--json")
    return command


def _json(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


def key_caveat(args: argparse.Namespace, info: ProviderInfo) -> str | None:
    if args.api_key and info.api_key_env:
        return f"pass your key again with --api-key, or set {' or '.join(info.api_key_env)}"
    return None


def wait_timeout(args: argparse.Namespace) -> float:
    return float(args.timeout) if args.timeout is not None else DEFAULT_WAIT_TIMEOUT


def build_request(args: argparse.Namespace) -> VideoEdit:
    """The request from the flags that were given (the model validates every value)."""
    fields: dict[str, Any] = {
        name: getattr(args, name) for name in REQUEST_FLAGS if hasattr(args, name)
    }
    try:
        request = VideoEdit(video=args.video, **fields)
        # Submission checks a local video's content again; here it is checked before the
        # command starts anything (an embedded emulator, a client), to name the flag to change.
        request.check_local_files()
        return request
    except InvalidRequestError as exc:
        # Name the flag as well as the field: the user typed the flag.
        flag = REQUEST_FLAGS.get((exc.field or "").split("[")[0].split(".")[0])
        if flag and not exc.hint:
            exc.hint = f"change {flag} and run the command again; nothing was submitted"
        elif exc.field == "video" and not exc.hint:
            exc.hint = "change the VIDEO argument and run the command again; nothing was submitted"
        raise


def _finished_document(task: Task, saved: Path | None) -> tuple[dict[str, Any], list[str]]:
    document = task_json(task)
    document["saved"] = str(saved) if saved is not None else None
    return document, task_lines(task, saved)


def _interrupted(ctx: Context, progress: Progress, what: str) -> Interrupted:
    progress.finish()
    if progress.task_id is None:
        return Interrupted(
            f"interrupted {what} before the provider answered the submission: the task may "
            "or may not have been created (videoedit list shows recent tasks where the "
            "provider offers a listing)"
        )
    ctx.task = progress.last
    if ctx.ephemeral:
        return Interrupted(f"interrupted {what}; task {progress.task_id} {ctx.ephemeral}")
    return Interrupted(f"interrupted {what}; task {progress.task_id} goes on running")


@contextlib.contextmanager
def _interruptible(ctx: Context, progress: Progress, what: str) -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        raise _interrupted(ctx, progress, what) from None
    except VideoEditError as exc:
        progress.finish()
        ctx.task = getattr(exc, "task", None) or progress.last
        raise
    finally:
        progress.finish()


# -- providers ----------------------------------------------------------------------------------
def cmd_providers(args: argparse.Namespace, ctx: Context) -> int:
    host = default_host()
    infos = host.providers()
    carries = {info.id: host.request_types(info.id) for info in infos}
    rows = []
    for info in infos:
        if not info.api_key_env:
            key = "not needed"
        elif info.key_is_set:
            key = f"set ({'/'.join(info.api_key_env)})"
        else:
            key = f"not set ({'/'.join(info.api_key_env)})"
        rows.append([info.id, ", ".join(info.aliases) or "-", info.base_url, key])
    lines = table(rows, ["PROVIDER", "ALIASES", "BASE URL", "KEY"]) if rows else []
    if rows:  # which request types reach each one (what "cannot carry" would refuse)
        requests = [[info.id, carried(carries[info.id])] for info in infos]
        lines += ["", *table(requests, ["PROVIDER", "REQUEST TYPES"])]
    else:
        ctx.console.say(
            "no provider is installed: install one, e.g. pip install videoedit-dashscope"
        )
    documents = [provider_json(info, carries[info.id]) for info in infos]
    ctx.console.result({"providers": documents}, lines)
    return 0


# -- edit ---------------------------------------------------------------------------------------
def cmd_edit(args: argparse.Namespace, ctx: Context) -> int:
    console = ctx.console
    info = lookup_provider(provider_name(args))
    embedded: Embedded | None = args.embedded  # a plugin's service (--emulator), or None
    if embedded is not None:
        embedded.check(args)
    request = build_request(args)  # before anything starts: a bad flag costs nothing
    default_output = embedded is not None and args.output is None
    if default_output:  # the result's link ends with the embedded emulator: keep the file
        args.output = emulator_output(args.video)
    check_output(args.output, force=args.force, default=default_output)
    with contextlib.ExitStack() as stack:
        base_url = args.base_url
        api_key = args.api_key
        endpoint: Endpoint | None = None
        if embedded is not None:
            endpoint = stack.enter_context(embedded.serve(args, info))
            base_url = endpoint.base_url
            api_key = api_key or endpoint.api_key
            console.note(endpoint.note)
            if default_output:
                console.note(f"output     {args.output} (no -o: the emulator's link ends with it)")
            ctx.ephemeral = endpoint.ephemeral
        else:
            ctx.resume_caveat = key_caveat(args, info)

        def submitted(task: Task) -> None:
            if not ctx.ephemeral:  # a task that dies with this process cannot be resumed
                ctx.resume = resume_command(args, info, task.task_id, base_url)

        progress = Progress(console, on_submitted=submitted)
        client = stack.enter_context(
            make_client(args, info, base_url=base_url, api_key=api_key, progress=progress)
        )
        if (
            endpoint is not None
            and endpoint.files is not None
            and client.provider.uploader() is None
            and request.local_files()
        ):
            # No upload API (a gateway): the embedded service serves the file itself.
            uploader = stack.enter_context(endpoint.files())
            client.close()
            client = stack.enter_context(
                make_client(
                    args,
                    info,
                    base_url=base_url,
                    api_key=api_key,
                    progress=progress,
                    uploader=uploader,
                )
            )
        saved: Path | None = None
        with _interruptible(ctx, progress, "while the task ran"):
            try:
                task = client.submit(request)
            except InvalidRequestError as exc:
                if exc.rule == "local files need an uploader on this provider":
                    exc.hint = (
                        f"{info.id} has no upload API: pass an http(s) URL it can fetch, or "
                        "try the file offline with --emulator"
                    )
                raise
            ctx.task = task
            if args.no_wait:
                progress.finish()
                document, lines = _finished_document(task, None)
                lines.append(f"resume    {shlex.join(ctx.resume or [])}")
                console.result(document, lines)
                return 0
            task = client.wait(task, timeout=wait_timeout(args))
            ctx.task = task
            if args.output is not None:
                saved = client.save(task, args.output)
    document, lines = _finished_document(task, saved)
    if saved is None and ctx.resume and embedded is None:
        lines.append(f"save      {shlex.join([*ctx.resume, '-o', 'out.mp4'])}")
    console.result(document, lines)
    return 0


# -- status, wait, cancel, list -----------------------------------------------------------------
def cmd_status(args: argparse.Namespace, ctx: Context) -> int:
    info = lookup_provider(provider_name(args))
    with make_client(args, info) as client:
        task = client.status(args.task_id)
    ctx.task = task
    if task.status is TaskStatus.UNKNOWN:
        raise_for_task(task)  # TaskNotFoundError: the id is wrong, of another provider, or expired
    ctx.console.result(task_json(task), task_lines(task))
    return 0


def cmd_wait(args: argparse.Namespace, ctx: Context) -> int:
    info = lookup_provider(provider_name(args))
    check_output(args.output, force=args.force)
    ctx.resume = resume_command(args, info, args.task_id, args.base_url)
    ctx.resume_caveat = key_caveat(args, info)
    progress = Progress(ctx.console)
    progress.task_id = args.task_id
    saved: Path | None = None
    with (
        make_client(args, info, progress=progress) as client,
        _interruptible(ctx, progress, "while waiting"),
    ):
        task = client.wait(args.task_id, timeout=wait_timeout(args))
        ctx.task = task
        if args.output is not None:
            saved = client.save(task, args.output)
    document, lines = _finished_document(task, saved)
    ctx.console.result(document, lines)
    return 0


def cmd_cancel(args: argparse.Namespace, ctx: Context) -> int:
    info = lookup_provider(provider_name(args))
    with make_client(args, info) as client:
        task = client.cancel(args.task_id)
    ctx.task = task
    ctx.console.result(task_json(task), task_lines(task))
    return 0


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    info = lookup_provider(provider_name(args))
    with make_client(args, info) as client:
        page = client.list(
            page=args.page, page_size=args.page_size, status=args.status, model=args.model
        )
    rows = [
        [
            t.task_id,
            t.status.value,
            local_time(t.submitted_at) if t.submitted_at else "-",
            local_time(t.ended_at) if t.ended_at else "-",
        ]
        for t in page.tasks
    ]
    lines = table(rows, ["TASK", "STATUS", "SUBMITTED", "ENDED"]) if rows else ["no tasks"]
    if page.total is not None:
        lines.append(f"page {page.page}, {len(page.tasks)} of {page.total} task(s)")
    ctx.console.result(page_json(page), lines)
    return 0


def cmd_estimate(args: argparse.Namespace, ctx: Context) -> int:
    """``videoedit estimate`` (imported when used)."""
    from videoedit.cli.estimate_commands import cmd_estimate as run_estimate

    return run_estimate(args, ctx)


def cmd_batch(args: argparse.Namespace, ctx: Context) -> int:
    """``videoedit batch run|status|resolve`` (imported when used: a ledger needs sqlite3)."""
    from videoedit.cli.batch_commands import run_batch_step

    return run_batch_step(args, ctx)


COMMANDS = {
    "providers": cmd_providers,
    "edit": cmd_edit,
    "status": cmd_status,
    "wait": cmd_wait,
    "cancel": cmd_cancel,
    "list": cmd_list,
    "estimate": cmd_estimate,
    "batch": cmd_batch,
    "completion": cmd_completion,
}
