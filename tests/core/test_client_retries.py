"""Safe retries: polls are retried with backoff honouring Retry-After; a creation only when it
certainly never reached the service, so that no edit is ever submitted (and billed) twice."""

from __future__ import annotations

import httpx
import pytest

from videoedit import (
    RateLimitError,
    RetryPolicy,
    ServiceError,
    TaskStatus,
    TransportError,
    VideoEdit,
)

pytestmark = pytest.mark.anyio

EDIT = VideoEdit(video="https://cdn.example.com/in.mp4", prompt="pencil sketch")


def throttled(service, retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else None
    return service.error(
        429,
        "Throttling.RateQuota",
        "Requests rate limit exceeded, please try again later.",
        headers,
    )


# -- polls ---------------------------------------------------------------------------------
async def test_a_poll_throttled_with_retry_after_waits_that_long(
    client, service, clock, callback
) -> None:
    service.script("status", throttled(service, "7"))
    task = await client.wait(service.task_id, on_event=callback)
    assert task.status is TaskStatus.SUCCEEDED
    [retrying] = callback.of("retrying")
    assert (retrying.delay, retrying.attempt, retrying.error) == (7.0, 1, "RateLimitError")
    assert clock.sleeps == [7.0]
    assert len(service.calls("status")) == 2


async def test_a_poll_throttled_without_retry_after_backs_off(
    make_client, service, clock, callback
) -> None:
    client = make_client(retry=RetryPolicy(base_delay=1.0))
    service.script("status", throttled(service), throttled(service), throttled(service))
    await client.wait(service.task_id, on_event=callback)
    delays = [e.delay for e in callback.of("retrying")]
    # Full jitter within a doubling ceiling: [c/2, c] for c = 1, 2, 4.
    assert len(delays) == 3
    assert all(d is not None and c / 2 <= d <= c for d, c in zip(delays, (1, 2, 4), strict=True))
    assert clock.sleeps == delays


async def test_a_poll_answered_503_is_retried(client, service, callback) -> None:
    service.script("status", httpx.Response(503, text="Service Unavailable"))
    task = await client.wait(service.task_id, on_event=callback)
    assert task.status is TaskStatus.SUCCEEDED
    assert [e.error for e in callback.of("retrying")] == ["ServiceError"]


async def test_a_poll_honours_retry_after_on_a_503(client, service, clock) -> None:
    service.script("status", httpx.Response(503, headers={"Retry-After": "11"}))
    await client.wait(service.task_id)
    assert clock.sleeps == [11.0]


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("eof")],
    ids=["connect", "read-timeout", "protocol"],
)
async def test_a_poll_lost_on_the_network_is_retried(
    client, service, callback, failure: Exception
) -> None:
    service.script("status", failure, httpx.ConnectError("refused again"))
    task = await client.wait(service.task_id, on_event=callback)
    assert task.status is TaskStatus.SUCCEEDED
    assert [e.attempt for e in callback.of("retrying")] == [1, 2]
    assert len(service.calls("status")) == 3


async def test_a_poll_answered_with_an_unreadable_200_is_asked_again(
    client, service, callback
) -> None:
    service.script("status", httpx.Response(200, text="<html>gateway hiccup</html>"))
    task = await client.wait(service.task_id, on_event=callback)
    assert task.status is TaskStatus.SUCCEEDED
    assert [e.error for e in callback.of("retrying")] == ["ServiceError"]
    assert len(service.calls("status")) == 2


async def test_polls_answered_unreadably_give_up_with_malformed_response(
    make_client, service
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=2))
    service.script("status", *[httpx.Response(200, json={"request_id": "r"}) for _ in range(2)])
    with pytest.raises(ServiceError) as caught:
        await client.wait(service.task_id)
    assert caught.value.code == "MalformedResponse"
    assert caught.value.task_id == service.task_id
    assert len(service.calls("status")) == 2


async def test_polls_give_up_after_max_attempts_with_the_typed_error(make_client, service) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=3))
    service.script("status", *[service.error(500, "InternalError", "boom") for _ in range(3)])
    with pytest.raises(ServiceError) as caught:
        await client.wait(service.task_id)
    assert (caught.value.code, caught.value.status_code) == ("InternalError", 500)
    assert caught.value.task_id == service.task_id
    assert len(service.calls("status")) == 3


async def test_polls_lost_on_the_network_give_up_with_a_transport_error(
    make_client, service
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=2))
    service.script("status", httpx.ConnectError("refused"), httpx.ConnectError("refused"))
    with pytest.raises(TransportError) as caught:
        await client.wait(service.task_id)
    assert caught.value.task_id == service.task_id
    assert caught.value.maybe_submitted is False
    assert "ConnectError: refused" in str(caught.value)


async def test_a_retry_after_longer_than_the_cap_is_not_waited_out(
    make_client, service, clock
) -> None:
    client = make_client(retry=RetryPolicy(max_retry_after=60))
    service.script("status", throttled(service, "600"))
    with pytest.raises(RateLimitError) as caught:
        await client.wait(service.task_id)
    assert caught.value.retry_after == 600.0
    assert clock.sleeps == []
    assert len(service.calls("status")) == 1


async def test_a_poll_that_is_refused_for_good_is_not_retried(client, service) -> None:
    service.script("status", service.error(401, "InvalidApiKey", "Invalid API-key provided."))
    with pytest.raises(Exception, match="InvalidApiKey"):
        await client.wait(service.task_id)
    assert len(service.calls("status")) == 1


# -- creations -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("timed out waiting for the answer"),
        httpx.RemoteProtocolError("peer closed connection without sending a response"),
        httpx.ReadError("connection reset"),
        httpx.WriteTimeout("timed out sending"),
    ],
    ids=["read-timeout", "protocol", "read-error", "write-timeout"],
)
async def test_a_creation_that_may_have_arrived_is_not_repeated(
    client, service, clock, failure: Exception
) -> None:
    service.script("create", failure)
    with pytest.raises(TransportError) as caught:
        await client.submit(EDIT)
    error = caught.value
    assert error.maybe_submitted is True
    assert "it was not repeated" in str(error)
    assert error.hint is not None
    assert "client.list()" in error.hint
    assert len(service.calls("create")) == 1
    assert clock.sleeps == []


async def test_a_creation_refused_at_connect_is_repeated(client, service, callback) -> None:
    service.script("create", httpx.ConnectError("connection refused"), httpx.ConnectTimeout("x"))
    task = await client.submit(EDIT, on_event=callback)
    assert task.status is TaskStatus.PENDING
    assert len(service.calls("create")) == 3
    assert [e.kind for e in callback.events][-1] == "submitted"
    assert len(callback.of("retrying")) == 2


async def test_a_creation_throttled_is_repeated_after_retry_after(client, service, clock) -> None:
    service.script("create", throttled(service, "2"))
    task = await client.submit(EDIT)
    assert task.task_id == service.task_id
    assert len(service.calls("create")) == 2
    assert clock.sleeps == [2.0]
    first, second = service.calls("create")
    assert first.content == second.content


async def test_a_creation_throttled_by_allocation_quota_is_repeated(client, service) -> None:
    service.script("create", service.error(429, "Throttling.AllocationQuota", "quota"))
    await client.submit(EDIT)
    assert len(service.calls("create")) == 2


async def test_a_creation_answered_503_is_not_repeated(client, service) -> None:
    service.script("create", httpx.Response(503, text="<html>Service Unavailable</html>"))
    with pytest.raises(ServiceError) as caught:
        await client.submit(EDIT)
    assert caught.value.status_code == 503
    assert len(service.calls("create")) == 1


async def test_a_creation_refused_at_connect_gives_up_without_maybe_submitted(
    make_client, service
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=2))
    service.script("create", httpx.ConnectError("refused"), httpx.ConnectError("refused"))
    with pytest.raises(TransportError) as caught:
        await client.submit(EDIT)
    assert caught.value.maybe_submitted is False
    assert len(service.calls("create")) == 2


async def test_creations_throttled_past_max_attempts_raise_rate_limit(make_client, service) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=2))
    service.script("create", throttled(service, "1"), throttled(service, "1"))
    with pytest.raises(RateLimitError) as caught:
        await client.submit(EDIT)
    assert (caught.value.code, caught.value.retry_after) == ("Throttling.RateQuota", 1.0)
    assert len(service.calls("create")) == 2


async def test_no_retries_at_all_with_retry_policy_none(make_client, service) -> None:
    client = make_client(retry=RetryPolicy.none())
    service.script("status", throttled(service, "1"))
    with pytest.raises(RateLimitError):
        await client.wait(service.task_id)
    assert len(service.calls("status")) == 1


def test_retry_policy_backoff_is_capped() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=5)
    assert all(2.5 <= policy.delay(10) <= 5 for _ in range(50))
    assert policy.delay(3, retry_after=0) == 0


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"base_delay": -1}, {"max_retry_after": -0.5}],
)
def test_a_nonsensical_retry_policy_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
