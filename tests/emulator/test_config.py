"""Configuration values: progression specs, limits, clocks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from videoedit_emulator.engine.clock import ManualClock
from videoedit_emulator.engine.config import EmulatorConfig, Progression
from videoedit_emulator.web.adapters.dashscope import format_time


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("immediate", Progression.immediate()),
        ("polls=3", Progression.after_polls(3)),
        ("polls:1", Progression.after_polls(1)),
        (" seconds = 2.5 ", Progression.after_seconds(2.5)),
        ("seconds=10", Progression.after_seconds(10)),
    ],
)
def test_progression_specs_parse(spec: str, expected: Progression) -> None:
    assert Progression.parse(spec) == expected


@pytest.mark.parametrize("spec", ["immediate", "polls=3", "seconds=2.5"])
def test_a_progression_prints_as_its_spec(spec: str) -> None:
    assert str(Progression.parse(spec)) == spec


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("polls=0", "N must be an integer >= 1"),
        ("polls=1.5", "N must be an integer >= 1"),
        ("seconds=0", "S must be a number > 0"),
        ("seconds", "needs a value"),
        ("immediate=1", "takes no value"),
        ("later", "must be 'immediate', 'polls=N'"),
    ],
)
def test_bad_progression_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Progression.parse(spec)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("task_ttl", 0),
        ("result_ttl", -1),
        ("max_body_bytes", 0),
        ("render_workers", 0),
        ("render_cache_bytes", -1),
    ],
)
def test_config_refuses_values_that_cannot_work(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        EmulatorConfig(**{field: value})  # type: ignore[arg-type]


def test_defaults_are_the_documented_ones() -> None:
    config = EmulatorConfig()
    assert (config.task_ttl, config.result_ttl, config.upload_ttl) == (86400, 86400, 172800)
    assert config.max_body_bytes == 100 * 1024 * 1024
    assert config.progression == Progression.immediate()
    assert config.workers >= 1


def test_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(100.0)
    assert clock.advance(5) == 105.0
    assert clock.now() == 105.0
    with pytest.raises(ValueError, match="time does not go back"):
        clock.advance(-1)


def test_service_times_are_utc8_wall_clock_with_milliseconds() -> None:
    moment = datetime(2026, 4, 2, 16, 8, 3, 576000, tzinfo=timezone.utc)
    assert format_time(moment.timestamp()) == "2026-04-03 00:08:03.576"
    assert (
        format_time((moment + timedelta(microseconds=999)).timestamp()) == "2026-04-03 00:08:03.576"
    )
