"""Exit codes by error class, and the sentence that tells the user how to fix each error.

A script tells "fix your request" from "try later" from "this edit failed" by the exit code
alone; a person reads the error's own message followed by what to do about it. The table is
ordered most specific class first (``TaskCanceledError`` before ``TaskFailedError``), and
``docs/cli.md`` prints it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from videoedit.errors import (
    AuthenticationError,
    DownloadError,
    InvalidRequestError,
    LedgerError,
    PermissionDeniedError,
    PluginLoadError,
    ProviderNotFoundError,
    RateLimitError,
    ServiceError,
    SubmissionUncertainError,
    TaskCanceledError,
    TaskFailedError,
    TaskNotFoundError,
    TransportError,
    UnsupportedOperationError,
    VideoEditError,
    WaitTimeoutError,
)

__all__ = ["EXIT_TABLE", "ExitCode", "exit_code_for", "fix_for"]


class ExitCode(enum.IntEnum):
    """What the ``videoedit`` process exits with."""

    OK = 0
    ERROR = 1  # an error of no more specific class (or a bug: rerun with --debug)
    USAGE = 2  # the command line itself is wrong (argparse's own code)
    INVALID_REQUEST = 3
    AUTHENTICATION = 4
    PERMISSION_DENIED = 5
    RATE_LIMITED = 6
    TASK_FAILED = 7
    TASK_CANCELED = 8
    TASK_NOT_FOUND = 9
    WAIT_TIMEOUT = 10
    TRANSPORT = 11
    SERVICE = 12
    DOWNLOAD = 13
    UNSUPPORTED = 14
    SETUP = 15  # no such provider, a broken plugin, a missing extra
    BATCH_INCOMPLETE = 16  # a batch ended with rows not saved (the report says which and why)
    LEDGER = 17  # the ledger file cannot be used (another version, not a ledger, corrupt)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it
    BROKEN_PIPE = 141  # stdout was closed early (``| head``): 128 + SIGPIPE, as shells report it


@dataclass(frozen=True)
class ExitRule:
    """One row of the table: an error class, its exit code, and the fix when it gives none."""

    error: type[VideoEditError]
    code: ExitCode
    fix: str


#: Most specific first: the first class an error is an instance of decides.
EXIT_TABLE: tuple[ExitRule, ...] = (
    ExitRule(
        InvalidRequestError,
        ExitCode.INVALID_REQUEST,
        "Correct the value named above and run the command again; nothing was submitted.",
    ),
    ExitRule(
        AuthenticationError,
        ExitCode.AUTHENTICATION,
        "Check the API key: pass --api-key or set the provider's key variable "
        "(videoedit providers shows which one and whether it is set).",
    ),
    ExitRule(
        PermissionDeniedError,
        ExitCode.PERMISSION_DENIED,
        "The key is valid but may not do this: check the account's balance and permissions.",
    ),
    ExitRule(
        RateLimitError,
        ExitCode.RATE_LIMITED,
        "The provider is throttling this key: wait a little and run the command again.",
    ),
    ExitRule(
        TaskCanceledError,
        ExitCode.TASK_CANCELED,
        "The task was canceled before it produced a result: submit the edit again.",
    ),
    ExitRule(
        TaskFailedError,
        ExitCode.TASK_FAILED,
        "The provider ran the task and it failed: read its code and message above, change "
        "the input or the prompt, and submit again.",
    ),
    ExitRule(
        TaskNotFoundError,
        ExitCode.TASK_NOT_FOUND,
        "Check the task id and --provider (and --base-url): ids belong to one provider and "
        "live 24 hours.",
    ),
    ExitRule(
        WaitTimeoutError,
        ExitCode.WAIT_TIMEOUT,
        "The task goes on running: wait again later with the command above, or a longer --timeout.",
    ),
    ExitRule(
        SubmissionUncertainError,
        ExitCode.BATCH_INCOMPLETE,
        "The creation may have reached the provider: look for the task in its console, then "
        "videoedit batch resolve FINGERPRINT --task ID, or --resubmit if there is none.",
    ),
    ExitRule(
        LedgerError,
        ExitCode.LEDGER,
        "Give another --ledger path; the file named above was left as it was.",
    ),
    ExitRule(
        TransportError,
        ExitCode.TRANSPORT,
        "Check the network connection and --base-url, then run the command again.",
    ),
    ExitRule(
        ServiceError,
        ExitCode.SERVICE,
        "The provider failed on its side: try again in a few minutes.",
    ),
    ExitRule(
        DownloadError,
        ExitCode.DOWNLOAD,
        "Nothing was written. Fetch the result again with videoedit wait ID -o PATH while "
        "its link lives (24 hours).",
    ),
    ExitRule(
        UnsupportedOperationError,
        ExitCode.UNSUPPORTED,
        "This provider does not offer that operation (or not in the task's current state).",
    ),
    ExitRule(
        ProviderNotFoundError,
        ExitCode.SETUP,
        "Pick one of the installed providers (videoedit providers), or install the plugin "
        "that offers it.",
    ),
    ExitRule(
        PluginLoadError,
        ExitCode.SETUP,
        "Fix or uninstall the plugin named above, or leave it out with VIDEOEDIT_PLUGINS.",
    ),
)


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit code of ``error``'s class (``ERROR`` for anything the table does not name)."""
    for rule in EXIT_TABLE:
        if isinstance(error, rule.error):
            return rule.code
    return ExitCode.ERROR


def fix_for(error: VideoEditError) -> str | None:
    """What to do about ``error``: its own hint when it has one, else its class's advice."""
    if error.hint:
        return error.hint
    for rule in EXIT_TABLE:
        if isinstance(error, rule.error):
            return rule.fix
    return None
