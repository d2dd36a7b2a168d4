"""A key no HTTP header can carry (a line break, a NUL, a control character, a non-ASCII
letter) is refused when the client is made, given or read from the environment, by both
clients: an ``InvalidRequestError`` on ``api_key`` that names the rule and never shows the
key. Before, a line break or a NUL came back whole in httpx's "illegal header value" error
(and its traceback, the CLI's stderr and ``--json``), and a non-ASCII letter raised a raw
``UnicodeEncodeError`` holding the key, on which the CLI exited 1 with nothing on stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback

import pytest

from videoedit import ApiKey, AsyncClient, Client, InvalidRequestError
from videoedit.cli import ExitCode
from videoedit.keys import KEY_RULE
from videoedit_emulator.render.cache import CACHE_DIR_ENV

#: The secret part of every hostile key: it must appear in no output.
SECRET = "sk-hostile-4c1d7e0b9a3f5e2d"

HOSTILE = {
    "line feed": (f"{SECRET}\nX-Injected: 1", "a line break"),
    "carriage return": (f"{SECRET}\r\nHost: elsewhere.example", "a line break"),
    "NUL": (f"{SECRET}\x00tail", "a NUL character"),
    "escape": (f"{SECRET}\x1b[2J", "a control character"),
    "DEL": (f"{SECRET}\x7f", "a control character"),
    "space": (f"{SECRET} second-half", "a space or tab"),
    "tab": (f"{SECRET}\tsecond-half", "a space or tab"),
    "non-ASCII": (f"{SECRET}-ключ", "a non-ASCII character"),
    "non-breaking space": (f"{SECRET}\u00a0x", "a non-ASCII character"),
    "line separator": (f"{SECRET}\u2028x", "a non-ASCII character"),
}
CLIENTS = {"sync": Client, "async": AsyncClient}


def everything_about(error: BaseException) -> str:
    return "\n".join(
        [str(error), repr(error), *traceback.format_exception(error), repr(vars(error))]
    )


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize(("key", "flaw"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_key_no_header_can_carry_is_refused_when_given(
    kind: str, key: str, flaw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    with pytest.raises(InvalidRequestError) as caught:
        CLIENTS[kind]("dashscope-beijing", api_key=key)
    error = caught.value
    assert (error.field, error.rule, error.code) == ("api_key", KEY_RULE, "InvalidApiKey")
    assert error.message == f"api_key: holds {flaw}; a key may hold {KEY_RULE}"
    assert error.provider == "dashscope-beijing"
    assert SECRET not in everything_about(error)


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize(
    ("key", "flaw"),
    [v for k, v in HOSTILE.items() if k != "NUL"],  # no environment variable can hold a NUL
    ids=[k for k in HOSTILE if k != "NUL"],
)
def test_a_key_no_header_can_carry_is_refused_from_the_environment(
    kind: str, key: str, flaw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", key)
    with pytest.raises(InvalidRequestError) as caught:
        CLIENTS[kind]("dashscope-singapore")
    error = caught.value
    assert (error.field, error.rule) == ("api_key", KEY_RULE)
    assert (
        error.message
        == f"api_key (from DASHSCOPE_API_KEY): holds {flaw}; a key may hold {KEY_RULE}"
    )
    assert SECRET not in everything_about(error)


def test_a_key_object_with_a_line_break_cannot_be_made() -> None:
    """A provider built by hand (``ProviderConfig(api_key=ApiKey(...))``) is covered too."""
    with pytest.raises(InvalidRequestError) as caught:
        ApiKey(f"{SECRET}\nX-Injected: 1")
    assert caught.value.field == "api_key"
    assert SECRET not in everything_about(caught.value)


def test_a_key_that_is_not_a_string_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        Client("dashscope-beijing", api_key=b"sk-bytes")  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.message) == (
        "api_key",
        "api_key: must be a string or an ApiKey, not bytes",
    )


def test_the_newline_around_a_pasted_key_is_not_a_flaw(monkeypatch: pytest.MonkeyPatch) -> None:
    """``DASHSCOPE_API_KEY=$(cat key.txt)`` style whitespace around the key is dropped."""
    monkeypatch.setenv("DASHSCOPE_API_KEY", f"  {SECRET}\n")
    with Client("dashscope-beijing") as client:
        assert client.provider.config.api_key == ApiKey(SECRET)


# -- the command line ---------------------------------------------------------------------
def videoedit(*args: str, key_env: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEOEDIT_")}
    env[CACHE_DIR_ENV] = os.environ[
        CACHE_DIR_ENV
    ]  # the test run's render cache stays (tests/conftest.py)
    env.pop("DASHSCOPE_API_KEY", None)
    if key_env is not None:
        env["DASHSCOPE_API_KEY"] = key_env
    return subprocess.run(
        [sys.executable, "-m", "videoedit.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(
    ("how", "flaw"),
    [("env", "line feed"), ("env", "non-ASCII"), ("flag", "carriage return")],
)
def test_the_cli_refuses_a_hostile_key_with_the_invalid_request_code_and_json(
    how: str, flaw: str
) -> None:
    key, words = HOSTILE[flaw]
    args = ["status", "some-task", "--provider", "dashscope-beijing", "--json"]
    done = videoedit(*args, key_env=key) if how == "env" else videoedit(*args, "--api-key", key)
    assert done.returncode == ExitCode.INVALID_REQUEST
    document = json.loads(done.stdout)["error"]
    assert (document["type"], document["field"], document["code"]) == (
        "InvalidRequestError",
        "api_key",
        "InvalidApiKey",
    )
    assert f"holds {words}" in document["message"]
    assert document["exit_code"] == ExitCode.INVALID_REQUEST
    assert "--api-key" in document["fix"]
    assert SECRET not in done.stdout + done.stderr


def test_the_cli_says_what_is_wrong_with_the_key_on_stderr() -> None:
    done = videoedit("status", "t1", "--provider", "dashscope-beijing", key_env=f"{SECRET}\x1b")
    assert done.returncode == ExitCode.INVALID_REQUEST
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[0].startswith(
        "videoedit: error: api_key (from DASHSCOPE_API_KEY): holds a control character;"
    )
    assert lines[1] == (
        "To fix: Pass the key again with --api-key, or set DASHSCOPE_API_KEY, exactly as the "
        "provider's console shows it."
    )
    assert "Traceback" not in done.stderr
    assert SECRET not in done.stderr
