"""A canary key goes through whole scenarios (every provider, both clients, uploads, saves,
listings, cancels, refusals, injected faults, a key echoed back by the service, a key from the
other region) and is then searched for in everything they produced: the client's DEBUG log
(httpx and httpcore included), the emulator's logs, the journal (control plane and Python),
every error (str, repr, traceback, attributes, body), every repr, and the output of both
command-line programs. It must appear nowhere.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from videoedit import RetryPolicy, VideoEdit, VideoEditError
from videoedit_emulator.server import EmulatorServer

REMOTE = "https://example.invalid/clip.mp4"
EDIT = VideoEdit(video=REMOTE, prompt="canary", resolution="720P", duration=2)
FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)


def everything_about(error: BaseException) -> str:
    """All an application could print or log of an error, its causes included."""
    return "\n".join(
        [
            str(error),
            repr(error),
            *traceback.format_exception(error),
            repr(vars(error)),
            json.dumps(getattr(error, "body", None), default=repr),
        ]
    )


def leaks(text: str, canary: str) -> bool:
    """The key, or a long piece of it, in ``text``."""
    return canary in text or canary[3:20] in text


class Scenario:
    """Runs calls, keeping every error and every object a caller would print."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self.texts: list[str] = []

    def call(self, action: Callable[[], Any]) -> Any:
        try:
            result = action()
        except VideoEditError as exc:
            self.errors.append(exc)
            return None
        self.texts.append(repr(result))
        return result

    async def acall(self, action: Callable[[], Any]) -> Any:
        try:
            result = await action()
        except VideoEditError as exc:
            self.errors.append(exc)
            return None
        self.texts.append(repr(result))
        return result


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, the server's (which do not propagate) included."""
    caplog.set_level(logging.DEBUG)
    names = ["uvicorn", "uvicorn.error", "uvicorn.access", "videoedit_emulator"]
    for name in names:
        logging.getLogger(name).addHandler(caplog.handler)
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield caplog
    for name in names:
        logging.getLogger(name).removeHandler(caplog.handler)


@pytest.mark.anyio
async def test_a_canary_key_appears_in_no_output_of_a_whole_scenario(
    canary: str,
    http: httpx.Client,
    logs: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    emulator_sample_clip: Path,
) -> None:
    run = Scenario()
    with EmulatorServer(keys={canary: "dashscope-beijing"}) as server:
        server.engine.set_default_progression("polls=2")  # a fresh task can be canceled
        # -- DashScope, sync: upload, edit, save, list, cancel, refusals, faults --------------
        with server.client("dashscope-beijing", api_key=canary, retry=FAST) as client:
            run.texts += [repr(client), repr(client.provider), repr(client.provider.config)]
            local = VideoEdit(video=str(emulator_sample_clip), resolution="720P", duration=2)
            run.call(lambda: client.edit(local, tmp_path / "local.mp4"))
            pending = run.call(lambda: client.submit(EDIT))
            run.call(lambda: client.cancel(pending))
            run.call(lambda: client.cancel(pending))  # refused: no longer PENDING
            run.call(lambda: client.list())
            run.call(lambda: client.status("no-such-task"))
            run.call(lambda: client.wait("no-such-task"))
            bad = VideoEdit(video=REMOTE, reference_images=["data:image/png;base64,AAAA"])
            run.call(lambda: client.submit(bad))  # the emulator's 400
            server.faults.add("status", route="create", status=503, when="after", times=1)
            run.call(lambda: client.submit(EDIT))
            server.faults.add("reset", route="create", times=1)
            run.call(lambda: client.submit(EDIT))
            # A service that echoes the key it was sent, in an error message.
            server.faults.add(
                "status", route="status", status=500, message=f"upstream saw Bearer {canary}"
            )
            run.call(lambda: client.wait(client.submit(EDIT)))
            server.faults.clear()
            server.faults.add("task_failure", code="DataInspectionFailed", times=1)
            run.call(lambda: client.wait(client.submit(EDIT)))
            done = run.call(lambda: client.wait(client.submit(EDIT)))
            server.faults.add("status", provider="oss", route="download", status=403)
            run.call(lambda: client.save(done, tmp_path / "refused.mp4"))
            server.faults.clear()
        # -- the same key in the other region: refused, with the region hint --------------
        with server.client("dashscope-singapore", api_key=canary, retry=FAST) as client:
            run.call(lambda: client.submit(EDIT))
        # -- the gateways and the async client ---------------------------------------------
        for provider in ("vtrix", "apimart"):
            async with server.async_client(provider, api_key=canary, retry=FAST) as aclient:
                run.texts.append(repr(aclient))
                task = await run.acall(lambda c=aclient: c.submit(EDIT))
                await run.acall(lambda c=aclient, t=task: c.wait(t))
                await run.acall(lambda c=aclient: c.status("task_nothing"))
                await run.acall(lambda c=aclient: c.cancel("task_nothing"))
        journal_wire = http.get(server.url + "/_emulator/journal").text
        journal_python = repr([entry.to_json() for entry in server.journal.entries()])
        control_tasks = http.get(server.url + "/_emulator/tasks").text
        server_repr = repr(server)

    assert len(run.errors) >= 12  # the scenario did go through its failures
    kinds = {type(e).__name__ for e in run.errors}
    assert {
        "AuthenticationError",
        "InvalidRequestError",
        "ServiceError",
        "TransportError",
        "TaskFailedError",
        "TaskNotFoundError",
        "DownloadError",
        "UnsupportedOperationError",
    } <= kinds
    assert "Bearer ***" in " ".join(str(e) for e in run.errors)  # scrubbed, not dropped
    captured = capfd.readouterr()
    outputs = {
        "errors": "\n".join(everything_about(e) for e in run.errors),
        "reprs": "\n".join(run.texts),
        "log text": logs.text,
        "log records": "\n".join(
            f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in logs.records
        ),
        "journal (control plane)": journal_wire,
        "journal (python)": journal_python,
        "control plane tasks": control_tasks,
        "server": server_repr,
        "stdout": captured.out,
        "stderr": captured.err,
    }
    assert {r.name.split(".")[0] for r in logs.records} >= {"httpx", "httpcore"}
    assert [name for name, text in outputs.items() if leaks(text, canary)] == []


def _env(canary: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(DASHSCOPE_API_KEY=canary, VTRIX_API_KEY=canary, APIMART_API_KEY=canary)
    return env


def test_a_canary_key_appears_in_no_output_of_the_command_line_programs(
    canary: str, http: httpx.Client, tmp_path: Path
) -> None:
    serve = subprocess.Popen(
        [
            *(sys.executable, "-m", "videoedit_emulator.cli", "serve", "--port", "0"),
            *("--progression", "polls=2", "--key", f"{canary}=dashscope-beijing"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(canary),
    )
    outputs: dict[str, str] = {}
    try:
        assert serve.stdout is not None
        root = serve.stdout.readline().split()[3]

        def videoedit_cli(name: str, *args: str, code: int | None = None) -> str:
            done = subprocess.run(
                [sys.executable, "-m", "videoedit.cli", *args, "--debug"],
                capture_output=True,
                text=True,
                timeout=120,
                env=_env(canary),
            )
            outputs[f"videoedit {name} (out)"] = done.stdout
            outputs[f"videoedit {name} (err)"] = done.stderr
            if code is not None:
                assert done.returncode == code, done.stderr
            return done.stdout

        beijing = ["-p", "dashscope-beijing", "--base-url", root + "/api/v1"]
        made = videoedit_cli(
            "edit",
            "edit",
            REMOTE,
            *beijing,
            "--resolution",
            "720P",
            "--duration",
            "2",
            "-o",
            str(tmp_path / "out.mp4"),
            "--json",
            code=0,
        )
        task_id = json.loads(made)["task_id"]
        videoedit_cli("status", "status", task_id, *beijing, "--json", code=0)
        videoedit_cli("list", "list", *beijing, code=0)
        singapore = ["-p", "dashscope-singapore", "--base-url", root + "/intl/api/v1"]
        videoedit_cli("wrong region", "status", task_id, *singapore, code=4)
        http.post(
            root + "/_emulator/faults", json={"spec": "create:task_failure=DataInspectionFailed"}
        )
        videoedit_cli("failed", "edit", REMOTE, *beijing, "--resolution", "720P", code=7)
        http.post(root + "/_emulator/faults", json={"spec": "create:reset"})
        videoedit_cli("reset", "edit", REMOTE, *beijing, "--resolution", "720P", code=11)
        videoedit_cli("explicit key", "status", task_id, *beijing, "--api-key", canary, code=0)
        videoedit_cli("providers", "providers", code=0)
        outputs["journal"] = http.get(root + "/_emulator/journal").text
    finally:
        serve.terminate()
        out, err = serve.communicate(timeout=30)
    outputs["videoedit-emulator serve (out)"] = out
    outputs["videoedit-emulator serve (err)"] = err
    assert (tmp_path / "out.mp4").stat().st_size > 1000
    assert task_id in outputs["journal"]  # the scenario did reach the emulator
    assert [name for name, text in outputs.items() if leaks(text, canary)] == []
