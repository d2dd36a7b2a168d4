"""Where the render cache lives: the user's cache directory unless moved or turned off.

Every test here points ``XDG_CACHE_HOME`` (platformdirs' source on Linux) at a temp dir, so
the default location is exercised without touching the real one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import videoedit
from videoedit_emulator.cli import build_parser, serve_config
from videoedit_emulator.engine.config import EmulatorConfig
from videoedit_emulator.render import probe_output
from videoedit_emulator.render.cache import CACHE_DIR_ENV
from videoedit_emulator.server import EmulatorServer

linux_only = pytest.mark.skipif(
    sys.platform != "linux", reason="XDG_CACHE_HOME is the user cache directory only on Linux"
)


@pytest.fixture
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's cache directory, moved into the test's temp dir; no variable set."""
    home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    return home


def edit_once(server: EmulatorServer, clip: Path, out: Path) -> Path:
    with server.client("dashscope-singapore") as client:
        task = client.submit(
            videoedit.VideoEdit(video=str(clip), prompt="cache me", resolution="720P")
        )
        return client.save(client.wait(task), out)


@linux_only
def test_by_default_the_cache_is_in_the_users_cache_directory(user_cache: Path) -> None:
    assert EmulatorConfig().render_cache_location() == user_cache / "videoedit-emulator" / "renders"


def test_the_variable_moves_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "ci-cache"))

    assert EmulatorConfig().render_cache_location() == tmp_path / "ci-cache"


@pytest.mark.parametrize("value", ["off", "OFF", "0", "false", "no", "none"])
def test_the_variable_turns_the_cache_off(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, value)

    assert EmulatorConfig().render_cache_location() is None


def test_a_configured_directory_wins_over_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, "off")

    config = EmulatorConfig(render_cache_dir=str(tmp_path / "mine"))

    assert config.render_cache_location() == tmp_path / "mine"


@pytest.mark.parametrize(
    "fields",
    [{"render_cache_dir": "off"}, {"render_cache_bytes": 0}],
    ids=["dir-off", "zero-bytes"],
)
def test_the_configuration_turns_the_cache_off(
    fields: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))

    assert EmulatorConfig(**fields).render_cache_location() is None  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["", "  ", 42])
def test_a_bad_cache_directory_is_refused_by_name(value: object) -> None:
    with pytest.raises(ValueError, match=r"render_cache_dir: must be a directory, 'off' or None"):
        EmulatorConfig(render_cache_dir=value)  # type: ignore[arg-type]


def test_serve_moves_bounds_or_turns_off_the_cache(tmp_path: Path) -> None:
    moved = serve_config(
        build_parser().parse_args(["serve", "--cache-dir", str(tmp_path), "--cache-mb", "64"])
    )
    off = serve_config(build_parser().parse_args(["serve", "--cache-dir", "off"]))

    assert moved.render_cache_location() == tmp_path
    assert moved.render_cache_bytes == 64 * 1024 * 1024
    assert off.render_cache_location() is None


@linux_only
def test_a_new_emulator_serves_an_edit_from_the_cache_an_earlier_one_filled(
    user_cache: Path, emulator_sample_clip: Path, tmp_path: Path
) -> None:
    with EmulatorServer(storage_dir=tmp_path / "first") as server:
        first = edit_once(server, emulator_sample_clip, tmp_path / "first.mp4")
    with EmulatorServer(storage_dir=tmp_path / "second") as server:
        second = edit_once(server, emulator_sample_clip, tmp_path / "second.mp4")
        (entry,) = (user_cache / "videoedit-emulator" / "renders").glob("*.mp4")
        # A hit hard-links the entry into the emulator's storage; a render would have
        # replaced it with a new file. So: the entry, the first result, the second result.
        links = entry.stat().st_nlink

    assert links == 3
    assert first.read_bytes() == second.read_bytes()
    assert probe_output(second).frames == 60


@linux_only
def test_with_the_variable_off_an_edit_writes_no_cache(
    user_cache: Path, emulator_sample_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, "off")
    storage = tmp_path / "storage"

    with EmulatorServer(storage_dir=storage) as server:
        saved = edit_once(server, emulator_sample_clip, tmp_path / "out.mp4")
        results = [p for p in storage.rglob("*.mp4") if "upload" not in str(p)]

    assert probe_output(saved).frames == 60
    assert not user_cache.exists()
    assert results
    assert all(p.stat().st_nlink == 1 for p in results)  # no entry shares their bytes
