"""The engine raises wire-neutral errors; each adapter words them as its service does.

The engine (``videoedit_emulator.engine``) refuses with a kind, a `Reason`, the field and a
detail, never a service's code or message; DashScope's words for every reason are one table
(``web/adapters/dashscope_errors.py``), OSS's for the store's reasons another
(``web/adapters/oss.py``). What clients see on the wire is checked by the wire tests.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import videoedit_emulator.engine as engine_package
from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.config import EmulatorConfig
from videoedit_emulator.engine.errors import ApiError, ErrorKind, Reason
from videoedit_emulator.engine.quotas import QueryQuota
from videoedit_emulator.web.adapters import dashscope_errors, oss
from videoedit_emulator.web.adapters.dashscope import error_response

ENGINE_DIR = Path(engine_package.__file__).parent
INPUT = {"media": [{"type": "video", "url": "https://example.invalid/clip.mp4"}]}


@pytest.fixture
def engine() -> Iterator[TaskEngine]:
    engine = TaskEngine(EmulatorConfig())
    yield engine
    engine.close()


def _submit(**fields: Any) -> Callable[[TaskEngine], Awaitable[Any]]:
    async def call(engine: TaskEngine) -> Any:
        request: dict[str, Any] = {"model": "wan2.7-videoedit", "input": INPUT, "parameters": {}}
        request.update(fields)
        return await engine.submit(realm="dashscope-beijing", region="beijing", **request)

    return call


async def _cancel_unknown(engine: TaskEngine) -> Any:
    return engine.cancel("no-such-task")


async def _open_unsigned_link(engine: TaskEngine) -> Any:
    return engine.store.open_result("t.mp4", None, None, None)


async def _query_twice(engine: TaskEngine) -> Any:
    quota = QueryQuota(1, lambda: 100.0)
    quota.spend("sk-one")
    return quota.spend("sk-one")


REFUSALS = {
    Reason.EMPTY_MODEL: _submit(model=None),
    Reason.EMPTY_INPUT: _submit(input=None),
    Reason.UNKNOWN_MODEL: _submit(model="wan9-nothing"),
    Reason.INVALID_VALUE: _submit(parameters={"duration": "long"}),
    Reason.NOT_CANCELABLE: _cancel_unknown,
    Reason.NOT_SIGNED: _open_unsigned_link,
    Reason.RATE_QUOTA: _query_twice,
}


@pytest.mark.anyio
@pytest.mark.parametrize("reason", list(REFUSALS), ids=str)
async def test_the_engine_refuses_with_a_reason_and_no_service_code(
    engine: TaskEngine, reason: Reason
) -> None:
    with pytest.raises(ApiError) as refused:
        await REFUSALS[reason](engine)
    assert (refused.value.reason, refused.value.code) == (reason, None)
    assert refused.value.detail


def test_dashscope_words_every_reason() -> None:
    unworded = [reason for reason in Reason if reason not in dashscope_errors.WORDING]
    assert unworded == []


def test_oss_words_every_reason_the_store_raises() -> None:
    tree = ast.parse((ENGINE_DIR / "store.py").read_text())
    raised = {
        Reason[node.attr]
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Reason"
    }
    assert raised, "the store raises no reason at all"
    assert sorted(raised - set(oss.WORDING)) == []


def _service_words() -> set[str]:
    """Every code and fixed message of DashScope's and OSS's tables."""
    words = {w.code for w in dashscope_errors.WORDING.values()}
    words |= set(dashscope_errors.KIND_CODES.values())
    words |= {w.code for w in oss.WORDING.values()}
    for template in [w.message for w in dashscope_errors.WORDING.values()] + [
        w.message for w in oss.WORDING.values()
    ]:
        fixed = re.split(r"\{\w+\}", template)[0].rstrip(" (")
        if len(fixed) > 12:
            words.add(fixed)
    return words


def _code_strings(path: Path) -> Iterator[str]:
    """The string constants of a module that are not docstrings (the text it can raise)."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.value


def test_no_service_code_or_message_is_written_in_the_engine() -> None:
    words = _service_words()
    found = {
        f"{path.relative_to(ENGINE_DIR)}: {text!r}"
        for path in sorted(ENGINE_DIR.rglob("*.py"))
        for text in _code_strings(path)
        for word in words
        if re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", text)
    }
    assert sorted(found) == []


def test_dashscope_words_a_reason_in_its_own_code_and_message() -> None:
    error = ApiError(
        ErrorKind.UNSUPPORTED, "task t-1 is RUNNING", reason=Reason.NOT_CANCELABLE, field="task_id"
    )
    answer = error_response(error, "req-1")
    assert (answer.status_code, answer.body) == (
        400,
        b'{"request_id":"req-1","code":"UnsupportedOperation","message":"Failed to cancel the '
        b'task, please confirm if the task is in PENDING status. (task t-1 is RUNNING)"}',
    )


def test_an_adapters_own_code_is_shown_as_given() -> None:
    error = ApiError(ErrorKind.UNAUTHORIZED, "Invalid API-key provided.", code="InvalidApiKey")
    assert (dashscope_errors.code_of(error), dashscope_errors.message_of(error)) == (
        "InvalidApiKey",
        "Invalid API-key provided.",
    )


def test_oss_words_a_store_reason_with_its_code_status_and_message() -> None:
    error = ApiError(
        ErrorKind.NOT_FOUND, "no object is stored as 'k'", reason=Reason.NO_SUCH_OBJECT
    )
    answer = oss.oss_error(error, "RID")
    assert answer.status_code == 404
    assert b"<Code>NoSuchKey</Code>" in answer.body
    assert b"<Message>The specified key does not exist.</Message>" in answer.body


@pytest.mark.anyio
async def test_a_task_the_engine_failed_keeps_its_reason_across_a_restart(tmp_path: Path) -> None:
    config = EmulatorConfig(state_dir=tmp_path / "state")
    media = {"media": [{"type": "video", "url": "oss://dashscope-instant/none/clip.mp4"}]}
    first = TaskEngine(config)
    try:
        view = await _submit(input=media)(first)
        failed = first.get(view.task_id)
    finally:
        first.close()
    again = TaskEngine(config)
    try:
        restored = again.get(view.task_id)
    finally:
        again.close()
    assert (failed.error_reason, restored.error_reason) == (
        Reason.DOWNLOAD_FAILED,
        Reason.DOWNLOAD_FAILED,
    )
    assert dashscope_errors.failure_of(restored) == dashscope_errors.failure_of(failed)
    assert dashscope_errors.failure_of(restored)[0] == "InvalidParameter"
