"""The command line's grammar: commands, their flags, and the help each one prints.

Request flags are left unset unless given (``argparse.SUPPRESS``), so that the request
model's own defaults apply and its validation (naming the field and the rule) is the only
judge of a value: ``--duration 12`` is refused by ``VideoEdit`` exactly as in Python.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from videoedit.cli.extension import Commands, add_stand_ins

if TYPE_CHECKING:
    from videoedit.plugins import PluginHost

from videoedit.cli.completion import add_completion_command

__all__ = ["DEFAULT_PROVIDER", "PROVIDER_ENV", "REQUEST_FLAGS", "build_parser"]

#: The provider used when neither ``--provider`` nor ``$VIDEOEDIT_PROVIDER`` names one.
DEFAULT_PROVIDER = "dashscope-singapore"
PROVIDER_ENV = "VIDEOEDIT_PROVIDER"

#: ``VideoEdit`` field -> the flag that sets it (``video`` is the positional argument).
REQUEST_FLAGS: dict[str, str] = {
    "model": "--model",
    "prompt": "--prompt",
    "negative_prompt": "--negative-prompt",
    "reference_images": "--reference-image",
    "resolution": "--resolution",
    "ratio": "--ratio",
    "duration": "--duration",
    "audio_setting": "--audio-setting",
    "prompt_extend": "--prompt-extend",
    "watermark": "--watermark",
    "seed": "--seed",
}

_EPILOG = (
    "Exit codes: 0 done, 2 bad command line, 3 invalid request, 4 authentication, "
    "5 permission, 6 rate limit, 7 task failed, 8 task canceled, 9 task not found, "
    "10 wait timed out, 11 network, 12 provider error, 13 download, 14 unsupported, "
    "15 setup (provider/plugin/extra), 130 interrupted (the task goes on). See docs/cli.md."
)


def _option(value: str) -> tuple[str, Any]:
    """``KEY=VALUE``; VALUE is read as JSON when it is JSON (numbers, objects), else as text."""
    key, sep, raw = value.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{value!r}: must read KEY=VALUE, e.g. workspace=ws-1")
    try:
        parsed: Any = json.loads(raw)
    except ValueError:
        parsed = raw
    return key.strip(), parsed


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"{value!r}: must be more than 0 seconds")
    return number


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: must be a whole number >= 1")
    return int(value)


def _output_flags() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("output")
    group.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document on stdout (progress and errors still go to stderr)",
    )
    group.add_argument(
        "-q", "--quiet", action="store_true", help="no progress on stderr, only errors"
    )
    group.add_argument(
        "--debug", action="store_true", help="show tracebacks and the client's debug log"
    )
    return parent


def _provider_flags() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("provider")
    group.add_argument(
        "-p",
        "--provider",
        default=None,
        metavar="ID",
        help=f"provider id or alias (default: ${PROVIDER_ENV}, else {DEFAULT_PROVIDER}); "
        "see `videoedit providers`",
    )
    group.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help="API key (default: the provider's variable, e.g. DASHSCOPE_API_KEY; prefer "
        "the variable: a flag shows in shell history and process lists)",
    )
    group.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help="the provider's base URL (default: VIDEOEDIT_<ID>_BASE_URL, else the provider's own)",
    )
    group.add_argument(
        "-O",
        "--option",
        dest="options",
        type=_option,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a provider option, repeatable (e.g. workspace=ws-1; JSON values are parsed)",
    )
    return parent


def _wait_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="PATH",
        help="save the result here (streamed, written only when complete; missing folders "
        "are created)",
    )
    parser.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="replace the -o file if it exists (without it, the command stops before sending)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="stop waiting after this long; the task goes on (default: 1800)",
    )


def _prices_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prices",
        type=Path,
        default=None,
        metavar="PATH",
        help="a price table you supply (TOML or JSON: a unit price per provider, model and "
        "resolution) to show money as well as seconds (checked before anything is sent); "
        "no price is built in",
    )


def _request_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "request (wan2.7-videoedit; unset flags keep the service's defaults)"
    )
    keep = argparse.SUPPRESS
    group.add_argument("--model", default=keep, help="model id (default: wan2.7-videoedit)")
    group.add_argument("--prompt", default=keep, help="what to change, up to 5000 characters")
    group.add_argument(
        "--negative-prompt", default=keep, help="what to avoid, up to 500 characters"
    )
    group.add_argument(
        "-r",
        "--reference-image",
        dest="reference_images",
        action="append",
        default=keep,
        metavar="IMAGE",
        help="a reference image (URL, local file or data: URI); repeat for up to 4",
    )
    group.add_argument("--resolution", default=keep, metavar="720P|1080P", help="default 1080P")
    group.add_argument(
        "--ratio",
        default=keep,
        metavar="16:9|9:16|1:1|4:3|3:4",
        help="output aspect ratio (default: follow the input video)",
    )
    group.add_argument(
        "--duration",
        type=int,
        default=keep,
        metavar="SECONDS",
        help="0 keeps the input's length (default); 2 to 10 cuts it",
    )
    group.add_argument(
        "--audio-setting",
        default=keep,
        metavar="auto|origin",
        help="auto (default) lets the model decide; origin keeps the input's audio",
    )
    group.add_argument(
        "--prompt-extend",
        action=argparse.BooleanOptionalAction,
        default=keep,
        help="let the service rewrite the prompt (default: on)",
    )
    group.add_argument(
        "--watermark",
        action=argparse.BooleanOptionalAction,
        default=keep,
        help="add the service's watermark (default: off)",
    )
    group.add_argument("--seed", type=int, default=keep, help="0 to 2147483647")


def _batch_commands(
    sub: Any, output: argparse.ArgumentParser, provider: argparse.ArgumentParser
) -> None:
    batch = sub.add_parser(
        "batch",
        help="run many edits from a manifest, resumable after any crash",
        description="Run the edits of a manifest (JSON Lines or CSV, one edit a line) with a "
        "ledger that makes a batch resumable: killed at any instant and run again, it "
        "submits nothing twice. See docs/batches.md.",
        epilog=_EPILOG,
    )
    steps = batch.add_subparsers(dest="batch_command", required=True, metavar="STEP")
    run = steps.add_parser(
        "run",
        parents=[output, provider],
        help="submit, wait for and save every row of MANIFEST",
        description="Submit, wait for and save every row of MANIFEST, N at a time, within "
        "the provider's quotas. Run it again with the same ledger to resume: rows already "
        "saved are left alone, tasks already created are waited for by id.",
        epilog=_EPILOG,
    )
    run.add_argument("manifest", type=Path, metavar="MANIFEST", help="a .jsonl or .csv file")
    run.add_argument(
        "--ledger",
        type=Path,
        default=None,
        metavar="PATH",
        help="the ledger file (default: MANIFEST's name with .ledger, beside it)",
    )
    run.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where results go, and what a row's relative output is read against "
        "(default: MANIFEST's folder)",
    )
    run.add_argument(
        "--concurrency",
        type=_positive,
        default=4,
        metavar="N",
        help="rows under way at once (default: 4; the provider's quotas still apply)",
    )
    run.add_argument(
        "--max-billed-seconds",
        type=_seconds,
        default=None,
        metavar="S",
        help="submit no row that would take the batch's billed seconds past S",
    )
    run.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="give up waiting for one task after this long (default: 1800); it goes on",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="check the manifest and print each row's estimated billable seconds; send nothing",
    )
    _prices_flag(run)
    run.set_defaults(embedded=None, no_wait=False)  # a plugin's flag (--emulator) sets embedded

    status = steps.add_parser(
        "status",
        parents=[output],
        help="show where a batch stands, from its ledger alone (no call to the service)",
        description="Show every row filed in the ledger: its state, task, file and billed "
        "seconds. Reads the ledger only; the service is not asked.",
        epilog=_EPILOG,
    )
    status.add_argument(
        "manifest", type=Path, nargs="?", default=None, metavar="MANIFEST", help="only its rows"
    )
    status.add_argument(
        "--ledger", type=Path, default=None, metavar="PATH", help="default: beside MANIFEST"
    )

    resolve = steps.add_parser(
        "resolve",
        parents=[output],
        help="decide an edit whose creation may or may not have reached the provider",
        description="An edit whose creation may have reached a provider without a task "
        "listing (or several tasks could be it) is not sent again until you decide: give the "
        "task it made (--task ID), or allow a new submission (--resubmit).",
        epilog=_EPILOG,
    )
    resolve.add_argument(
        "edit", metavar="FINGERPRINT|ROW", help="the edit's fingerprint (or its start), or a row id"
    )
    resolve.add_argument("--ledger", type=Path, required=True, metavar="PATH")
    decision = resolve.add_mutually_exclusive_group(required=True)
    decision.add_argument("--task", default=None, metavar="ID", help="the task it made")
    decision.add_argument(
        "--resubmit", action="store_true", help="it made none: submit it on the next run"
    )


def build_parser(plugins: PluginHost | None = None) -> argparse.ArgumentParser:
    """The ``videoedit`` parser: the core's six commands, then what ``plugins`` add through
    the ``register_commands`` hook (the emulator: ``demo``, ``edit --emulator``), then
    stand-ins saying what to install for those the emulator adds, when nothing added them."""
    from videoedit import __version__

    output = _output_flags()
    provider = _provider_flags()
    parser = argparse.ArgumentParser(
        prog="videoedit",
        description="Edit videos with Alibaba's Wan models through any installed provider.",
        epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"videoedit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser(
        "providers",
        parents=[output],
        help="list installed providers (ids, aliases, base URLs, whether a key is set)",
        description="List every installed provider. Keys are never shown, only whether one is set.",
    )

    edit = sub.add_parser(
        "edit",
        parents=[output, provider],
        help="submit an edit, show its progress, and save the result",
        description="Submit an edit of VIDEO (a local file or a URL), wait for it with a "
        "progress display, and save the result with -o. The task id is printed as soon as "
        "it exists; Ctrl-C leaves the task running and prints the command that resumes it.",
        epilog=_EPILOG,
    )
    edit.add_argument("video", help="the input video: a local file, an http(s) or oss:// URL")
    _request_flags(edit)
    _wait_flags(edit)
    edit.add_argument(
        "--no-wait",
        action="store_true",
        help="print the task and exit once it is submitted (resume with `videoedit wait ID`)",
    )
    edit.set_defaults(embedded=None)  # a plugin's flag (--emulator) puts its service here

    estimate = sub.add_parser(
        "estimate",
        parents=[output, provider],
        help="print the billable seconds (and, with --prices, the money) of edits; send nothing",
        description="Estimate what edits will bill, from the documented rules: each FILE "
        "(a video, local or a URL, edited as `videoedit edit` would with the request flags "
        "below) and each row of each MANIFEST (.jsonl, .ndjson or .csv). Local inputs are "
        "measured, so their figure is exact; a URL gets the documented upper bound, and says "
        "so. With --prices, a price table you supply, the money too. See docs/batches.md.",
        epilog=_EPILOG,
    )
    estimate.add_argument(
        "inputs", nargs="+", metavar="MANIFEST|FILE", help="manifests and videos, in any mix"
    )
    _prices_flag(estimate)
    _request_flags(estimate)

    status = sub.add_parser(
        "status",
        parents=[output, provider],
        help="show a task's status (one poll)",
        description="Poll a task once and show it. Exits 0 whatever the task's status, "
        "9 when the id is unknown or expired.",
        epilog=_EPILOG,
    )
    status.add_argument("task_id", metavar="ID", help="the task id")

    wait = sub.add_parser(
        "wait",
        parents=[output, provider],
        help="wait for a task to end (and save its result with -o)",
        description="Poll a task until it ends, with a progress display; -o saves the "
        "result. Ctrl-C stops waiting and leaves the task running.",
        epilog=_EPILOG,
    )
    wait.add_argument("task_id", metavar="ID", help="the task id")
    _wait_flags(wait)

    cancel = sub.add_parser(
        "cancel",
        parents=[output, provider],
        help="cancel a task (DashScope: PENDING tasks only)",
        description="Cancel a task. DashScope cancels only PENDING tasks; the gateways have "
        "no cancel call (exit 14).",
        epilog=_EPILOG,
    )
    cancel.add_argument("task_id", metavar="ID", help="the task id")

    listing = sub.add_parser(
        "list",
        parents=[output, provider],
        help="list recent tasks (where the provider offers a listing)",
        description="One page of the account's recent tasks, newest first.",
        epilog=_EPILOG,
    )
    listing.add_argument("--page", type=_positive, default=1, help="page number (default: 1)")
    listing.add_argument(
        "--page-size", type=_positive, default=10, help="tasks per page, 1 to 100 (default: 10)"
    )
    listing.add_argument("--status", default=None, help="only tasks in this status")
    listing.add_argument("--model", default=None, help="only tasks of this model")

    _batch_commands(sub, output, provider)
    add_completion_command(sub)
    commands = Commands(sub, output)
    if plugins is not None:
        plugins.register_commands(commands)
    add_stand_ins(commands)
    return parser
