"""The provider contract as a pytest suite: subclass [`ProviderContract`][videoedit_emulator.contract.suite.ProviderContract], name a provider.

::

    from videoedit_emulator.contract import ProviderContract

    class TestAcmeCloud(ProviderContract):
        provider = "acme-cloud"

Every check runs against the emulator (``[emulator]``) and, with ``pytest --live`` and the
provider's key set, against the real service (``[live]``; skipped otherwise). Checks that
need to steer a task (make it fail, keep it PENDING) or to know the input's exact length
run on the emulator only. To run the suite for several providers, parametrize
``contract_provider``::

    @pytest.mark.parametrize("contract_provider", ["dashscope-beijing", "vtrix"])
    class TestOurProviders(ProviderContract):
        pass

The class attributes below tune the suite for a provider whose requests or outputs differ
(another request type, another size table); override [`ProviderContract.make_request`][videoedit_emulator.contract.suite.ProviderContract.make_request]
for another request type.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import anyio
import pytest

import videoedit
from videoedit.errors import (
    InvalidRequestError,
    ProviderNotFoundError,
    TaskCanceledError,
    TaskFailedError,
    TaskNotFoundError,
    UnsupportedOperationError,
)
from videoedit.events import EventKind, TaskEvent
from videoedit.requests import EditRequest
from videoedit.task import TaskStatus
from videoedit_emulator.contract.emulator_checks import EmulatorChecks
from videoedit_emulator.contract.recorder import RecordingTransport, wire_code, wire_request_id
from videoedit_emulator.contract.target import (
    EMULATOR_WAIT,
    LIVE_WAIT,
    ContractTarget,
    emulator_base_url,
    live_video,
)

__all__ = ["ProviderContract"]

#: Where each status stands in the lifecycle; a poll may never go back.
_RANK = {
    TaskStatus.PENDING: 0,
    TaskStatus.RUNNING: 1,
    TaskStatus.SUCCEEDED: 2,
    TaskStatus.FAILED: 2,
    TaskStatus.CANCELED: 2,
    TaskStatus.UNKNOWN: 2,
}
_UNDER_WAY = (TaskStatus.PENDING, TaskStatus.RUNNING)


class _Unencodable(EditRequest):
    """A request type no plugin encodes: every provider must refuse it before sending."""

    request_kind: ClassVar[str] = "contract-kit-probe"
    model: str = "contract-kit-probe"


class ProviderContract(EmulatorChecks):
    """The provider contract, end to end. Subclass it in a test module and set ``provider``.

    Its checks of the emulator's faults, journal and key binding for the provider's adapter
    are [`EmulatorChecks`][videoedit_emulator.contract.emulator_checks.EmulatorChecks]."""

    #: The provider under test: an id or an alias.
    provider: ClassVar[str] = ""
    #: The emulator route that serves this provider's wire format, when it is not the
    #: provider's own id (a white-label host of a format the emulator speaks, a proxy).
    emulator_route: ClassVar[str | None] = None
    #: Provider options every client of the suite gets.
    options: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    #: The request the suite submits, and what its output must be.
    prompt: ClassVar[str] = "contract check: turn the scene into claymation"
    resolution: ClassVar[str] = "720P"
    ratio: ClassVar[str] = "16:9"
    duration: ClassVar[int] = 2
    expected_size: ClassVar[tuple[int, int]] = (1280, 720)
    #: Seconds the saved MP4 may differ from ``duration``.
    duration_tolerance: ClassVar[float] = 0.1
    #: A field and a value the request type refuses (before anything is sent).
    invalid_field: ClassVar[tuple[str, Any]] = ("duration", 12)
    #: The code and message a task is made to fail with through the control plane.
    failure: ClassVar[tuple[str, str]] = (
        "DataInspectionFailed",
        "Input data may contain inappropriate content.",
    )

    # -- what is submitted ----------------------------------------------------------------------
    def make_request(self, video: str, **changes: Any) -> EditRequest:
        """The request the suite submits, with ``changes`` applied (override for other types)."""
        fields: dict[str, Any] = {
            "video": video,
            "prompt": self.prompt,
            "resolution": self.resolution,
            "ratio": self.ratio,
            "duration": self.duration,
        }
        fields.update(changes)
        return videoedit.VideoEdit(**fields)

    def service_refused_request(self, video: str) -> EditRequest:
        """A request only the service can refuse: longer than the 2 s input, which the
        client cannot know about a URL."""
        return self.make_request(video, duration=10)

    # -- fixtures -------------------------------------------------------------------------------
    @pytest.fixture
    def contract_provider(self) -> str:
        """The provider id under test (``provider``, or a parametrized value)."""
        if not self.provider:
            pytest.fail(
                f"{type(self).__name__}: set the class attribute 'provider' (or parametrize "
                "contract_provider) to the id of the provider under test"
            )
        return self.provider

    @pytest.fixture
    def contract_options(self) -> Mapping[str, Any]:
        """Provider options for every client of the suite (``options``)."""
        return dict(self.options)

    @pytest.fixture(
        params=[
            pytest.param("emulator", marks=pytest.mark.videoedit_contract),
            pytest.param(
                "live", marks=[pytest.mark.videoedit_contract, pytest.mark.videoedit_live]
            ),
        ]
    )
    def contract_target(
        self,
        request: pytest.FixtureRequest,
        contract_provider: str,
        contract_options: Mapping[str, Any],
    ) -> Iterator[ContractTarget]:
        """The provider on the emulator, then (with ``--live`` and its key) the real service."""
        try:
            info = videoedit.default_host().provider(contract_provider)
        except ProviderNotFoundError as exc:
            pytest.fail(f"{exc} (is the provider's plugin installed?)")
        if request.param == "emulator":
            server = request.getfixturevalue("emulator")
            try:
                base_url = emulator_base_url(server, self.emulator_route or info.id)
            except LookupError as exc:
                pytest.fail(str(exc))
            target = ContractTarget(
                "emulator",
                info,
                video=request.getfixturevalue("contract_video_url"),
                options=contract_options,
                base_url=base_url,
                api_key="sk-contract-kit",
                server=server,
                wait_timeout=EMULATOR_WAIT,
            )
        else:
            if not request.config.getoption("videoedit_live", default=False):
                pytest.skip("live contract: run pytest with --live (real edits are billed)")
            key = next((os.environ[n] for n in info.api_key_env if os.environ.get(n)), None)
            if info.api_key_env and key is None:
                pytest.skip(f"live contract of {info.id}: set {' or '.join(info.api_key_env)}")
            probe = videoedit.Client(info.id, api_key=key, options=dict(contract_options))
            has_uploader = probe.provider.uploader() is not None
            probe.close()
            clip = request.getfixturevalue("emulator_sample_clip")
            target = ContractTarget(
                "live",
                info,
                video=live_video(info, has_uploader, str(clip)),
                options=contract_options,
                api_key=key,
                wait_timeout=LIVE_WAIT,
            )
        yield target
        target.close()

    # -- the lifecycle --------------------------------------------------------------------------
    def test_submit_answers_a_task_id_while_pending_or_running(
        self, contract_target: ContractTarget
    ) -> None:
        """A submission answers a task of this provider with an id, PENDING or RUNNING; so
        does its first poll."""
        target = contract_target
        target.progress("polls=3")
        client = target.client()

        task = client.submit(self.make_request(target.video))

        assert isinstance(task.task_id, str)
        assert task.task_id.strip()
        assert task.provider == target.provider_id
        assert task.status in _UNDER_WAY, f"a new task is {task.status}"
        again = client.status(task.task_id)
        assert again.task_id == task.task_id
        allowed = _UNDER_WAY if not target.live else (*_UNDER_WAY, TaskStatus.SUCCEEDED)
        assert again.status in allowed, f"the first poll of a new task says {again.status}"

    def test_polling_reaches_succeeded_and_saves_the_requested_mp4(
        self, contract_target: ContractTarget, tmp_path: Path
    ) -> None:
        """Polling (from another client, by id alone) reaches SUCCEEDED without the status
        ever going back; the saved MP4 has the requested size and duration, in H.264."""
        from videoedit_emulator.render import probe_output

        target = contract_target
        target.progress("polls=3")
        task = target.client().submit(self.make_request(target.video))
        seen: list[TaskStatus] = []

        def record(event: TaskEvent) -> None:
            if event.kind is EventKind.POLLED and event.task is not None:
                seen.append(event.task.status)

        # Another client resumes the task from its id alone, as another process would.
        resumed = target.client()
        done = resumed.wait(task.task_id, on_event=record)
        saved = resumed.save(done, tmp_path / "contract.mp4")

        assert done.status is TaskStatus.SUCCEEDED
        assert done.task_id == task.task_id
        assert done.result is not None
        assert done.result.video_url
        ranks = [_RANK[s] for s in [task.status, *seen]]
        assert ranks == sorted(ranks), f"the status went back: {[task.status, *seen]}"
        info = probe_output(saved)
        assert (info.width, info.height) == self.expected_size
        assert abs(info.duration - self.duration) <= self.duration_tolerance, info.duration
        assert info.codec == "h264"

    def test_the_async_client_reaches_the_same_end(self, contract_target: ContractTarget) -> None:
        """The AsyncClient drives the same provider to the same end (emulator only)."""
        target = contract_target
        target.require_emulator("one lifecycle is enough to bill on the real service")
        target.progress("polls=2")
        request = self.make_request(target.video)

        async def edit() -> videoedit.Task:
            async with target.async_client() as client:
                task = await client.submit(request)
                return await client.wait(task)

        done = anyio.run(edit)

        assert done.status is TaskStatus.SUCCEEDED
        assert done.provider == target.provider_id
        assert done.result is not None

    # -- requests refused locally -------------------------------------------------------------------
    def test_an_invalid_request_fails_locally_naming_the_field(
        self, contract_target: ContractTarget
    ) -> None:
        """A request breaking a rule (``invalid_field``) raises InvalidRequestError naming
        the field, and nothing is sent."""
        target = contract_target
        field, value = self.invalid_field
        recorder = RecordingTransport()
        client = target.client(recorder=recorder)

        with pytest.raises(InvalidRequestError) as caught:
            client.submit(self.make_request(target.video, **{field: value}))

        assert caught.value.field == field
        assert field in str(caught.value)
        assert recorder.exchanges == [], "an invalid request reached the network"

    def test_a_request_type_it_cannot_carry_is_refused_before_sending(
        self, contract_target: ContractTarget
    ) -> None:
        """A request type no plugin encodes for the provider's dialect is refused, naming
        a field, before anything is sent."""
        recorder = RecordingTransport()
        client = contract_target.client(recorder=recorder)

        with pytest.raises(InvalidRequestError) as caught:
            client.submit(_Unencodable())

        assert caught.value.field, "the refusal names no field"
        assert recorder.exchanges == [], "a request it cannot carry reached the network"

    def test_an_unknown_option_is_refused_naming_it(self, contract_target: ContractTarget) -> None:
        """An option the provider does not know is refused at construction as
        ``options.<name>``."""
        options = {**contract_target.options, "no_such_option": True}

        with pytest.raises(InvalidRequestError) as caught:
            contract_target.client(options=options)

        assert caught.value.field == "options.no_such_option"

    # -- failures keep the provider's words --------------------------------------------------------
    def test_a_task_failed_through_the_control_plane_raises_task_failed_error_with_its_code(
        self, contract_target: ContractTarget
    ) -> None:
        """A task failed through the emulator's control plane makes ``wait`` raise
        TaskFailedError with the code, the message, the task id and the FAILED task
        (emulator only)."""
        target = contract_target
        target.require_emulator("a real service cannot be told to fail a task")
        target.progress("polls=2")
        client = target.client()
        task = client.submit(self.make_request(target.video))
        code, message = self.failure
        target.fail(task.task_id, code, message)

        with pytest.raises(TaskFailedError) as caught:
            client.wait(task.task_id)

        error = caught.value
        assert not isinstance(error, TaskCanceledError)
        assert error.code == code
        assert error.provider == target.provider_id
        assert error.task_id == task.task_id
        assert message.rstrip(".") in error.message
        assert error.task is not None
        assert error.task.status is TaskStatus.FAILED
        assert error.task.error_code == code

    def test_an_unknown_task_id_raises_task_not_found_error(
        self, contract_target: ContractTarget
    ) -> None:
        """Waiting on an unknown id raises TaskNotFoundError naming it, with a code,
        keeping the code and request id the service sent."""
        recorder = RecordingTransport()
        client = contract_target.client(recorder=recorder)
        task_id = str(uuid.uuid4())

        with pytest.raises(TaskNotFoundError) as caught:
            client.wait(task_id)

        error = caught.value
        assert error.task_id == task_id
        assert error.provider == contract_target.provider_id
        assert error.code, "the error keeps no code"
        _keeps_the_wire_words(error, recorder)

    def test_a_refusal_by_the_service_keeps_its_code_request_id_and_field(
        self, contract_target: ContractTarget
    ) -> None:
        """A request only the service can refuse raises InvalidRequestError with the HTTP
        status, the service's code and request id, and a field; no task is created
        (emulator only)."""
        target = contract_target
        server = target.require_emulator("only the emulator's input is known to last 2 s")
        recorder = RecordingTransport()
        client = target.client(recorder=recorder)
        request = self.service_refused_request(target.video)

        with pytest.raises(InvalidRequestError) as caught:
            client.submit(request)

        error = caught.value
        answer = recorder.last.response
        assert answer.status_code >= 400
        assert error.status_code == answer.status_code
        assert error.provider == target.provider_id
        assert error.code, "the error keeps no code"
        _keeps_the_wire_words(error, recorder)
        assert error.field, "the refusal names no field"
        assert error.field in error.message or error.field.split("[")[0].split(".")[0] in (
            type(request).model_fields
        ), f"field {error.field!r} is neither in the message nor a request field"
        assert server.engine.all_tasks() == [], "a refused request created a task"

    # -- cancel, as declared --------------------------------------------------------------------------
    def test_cancel_of_a_pending_task_cancels_it(self, contract_target: ContractTarget) -> None:
        """Where the provider declares a cancel call: a PENDING task is canceled, polls
        say CANCELED, and ``wait`` raises TaskCanceledError (emulator only)."""
        target = contract_target
        if not target.declares_cancel:
            pytest.skip(f"{target.provider_id} declares no cancel call")
        target.require_emulator("only the emulator can keep a task PENDING for sure")
        target.progress("seconds=3600")
        client = target.client()
        task = client.submit(self.make_request(target.video))

        canceled = client.cancel(task.task_id)

        assert canceled.task_id == task.task_id
        assert canceled.status is TaskStatus.CANCELED
        assert client.status(task.task_id).status is TaskStatus.CANCELED
        with pytest.raises(TaskCanceledError) as caught:
            client.wait(task.task_id)
        assert caught.value.task_id == task.task_id

    def test_cancel_is_refused_before_sending_where_none_is_declared(
        self, contract_target: ContractTarget
    ) -> None:
        """Where the provider declares no cancel call: ``cancel`` raises
        UnsupportedOperationError before sending anything, and the task goes on."""
        target = contract_target
        if target.declares_cancel:
            pytest.skip(f"{target.provider_id} declares a cancel call")
        recorder = RecordingTransport()
        client = target.client(recorder=recorder)
        task_id = str(uuid.uuid4())
        if not target.live:  # a real task, which must go on (live, that would bill an edit)
            target.progress("seconds=3600")
            task_id = client.submit(self.make_request(target.video)).task_id
        sent = len(recorder.exchanges)

        with pytest.raises(UnsupportedOperationError) as caught:
            client.cancel(task_id)

        assert caught.value.provider == target.provider_id
        assert caught.value.task_id == task_id
        assert len(recorder.exchanges) == sent, "a cancel the provider lacks reached the network"
        if not target.live:
            assert client.status(task_id).status in _UNDER_WAY


def _keeps_the_wire_words(error: videoedit.VideoEditError, recorder: RecordingTransport) -> None:
    """The code and request id the service put on the wire are the error's."""
    exchange = recorder.last
    code = wire_code(exchange)
    if code is not None:
        assert error.code == code, f"the service said code {code!r}; the error says {error.code!r}"
    request_id = wire_request_id(exchange)
    if request_id is not None:
        assert error.request_id == request_id, (
            f"the service gave request id {request_id!r}; the error keeps {error.request_id!r}"
        )
