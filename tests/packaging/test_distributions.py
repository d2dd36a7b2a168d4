"""Every distribution builds as a wheel and an sdist that an index would accept and show well.

The whole workspace is built once (``uv build --all-packages``, offline, with the locked
hatchling), then each artifact's core metadata is read as an index reads it: the README as
its page, classifiers, project URLs, the licence text inside the archive, a bounded
``videoedit`` requirement, the version of ``VERSION``; the test and example packages are
marked so that no index takes them. ``make dist`` runs the same check (``.ci/check_dist.py``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from packaging.metadata import Metadata
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
VERSION = (ROOT / "VERSION").read_text(encoding="utf-8").strip()
#: Released distributions and their member folders.
PUBLIC = {
    "videoedit": "core",
    "videoedit-dashscope": "providers/dashscope",
    "videoedit-vtrix": "providers/vtrix",
    "videoedit-apimart": "providers/apimart",
    "videoedit-vace": "providers/vace",
    "videoedit-emulator": "emulator",
}
PRIVATE = {"acme-videoedit": "tests/plugins/acme", "acme-video": "docs/examples/acme-video"}

pytestmark = pytest.mark.slow


def load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_dist", ROOT / ".ci" / "check_dist.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_dist"] = module
    spec.loader.exec_module(module)
    return module


check_dist = load_checker()


def find_uv() -> str:
    """uv as ``make`` runs it: ``uv run`` names itself in $UV; else PATH, else .tools/."""
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(ROOT / ".tools/bin/uv")):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.skip("uv is not installed (make test installs it into .tools/)")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """distribution name -> {"wheel": path, "sdist": path}, built from this checkout."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            *(find_uv(), "build", "--all-packages", "--no-build-isolation", "--quiet"),
            *("--python", sys.executable, "--out-dir", str(out)),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=600,
    )
    found: dict[str, dict[str, Path]] = {}
    for path in [*out.glob("*.whl"), *out.glob("*.tar.gz")]:
        artifact = check_dist.read_artifact(path)
        name = artifact.headers["Name"]
        found.setdefault(name, {})[artifact.kind] = path
    return found


def metadata(path: Path) -> Metadata:
    return Metadata.from_email(check_dist.read_artifact(path).raw, validate=True)


def test_every_member_is_built_as_a_wheel_and_an_sdist(
    built: dict[str, dict[str, Path]],
) -> None:
    assert set(built) == set(PUBLIC) | set(PRIVATE)
    assert all(set(kinds) == {"wheel", "sdist"} for kinds in built.values())


def test_the_released_distributions_pass_the_release_check(
    built: dict[str, dict[str, Path]],
) -> None:
    problems = [
        problem
        for name in PUBLIC
        for path in built[name].values()
        for problem in check_dist.check(check_dist.read_artifact(path), public=True)
    ]

    assert problems == []


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_the_long_description_is_the_members_readme(
    built: dict[str, dict[str, Path]], name: str
) -> None:
    readme = (ROOT / PUBLIC[name] / "README.md").read_text(encoding="utf-8")
    for path in built[name].values():
        meta = metadata(path)
        assert meta.description is not None
        assert meta.description.strip() == readme.strip()
        assert meta.description_content_type == "text/markdown"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_classifiers_urls_and_licence_are_declared(
    built: dict[str, dict[str, Path]], name: str
) -> None:
    for path in built[name].values():
        meta = metadata(path)
        assert meta.license_expression == "Apache-2.0"
        assert meta.license_files == ["LICENSE"]
        assert "Typing :: Typed" in (meta.classifiers or [])
        assert "Programming Language :: Python :: 3.10" in (meta.classifiers or [])
        assert set(meta.project_urls or {}) >= {"Homepage", "Documentation", "Repository"}
        assert str(meta.requires_python) == ">=3.10"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_the_apache_licence_text_is_in_the_wheel_and_the_sdist(
    built: dict[str, dict[str, Path]], name: str
) -> None:
    import tarfile
    import zipfile

    licence = (ROOT / "LICENSE").read_bytes()
    with zipfile.ZipFile(built[name]["wheel"]) as wheel:
        [inside] = [n for n in wheel.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert wheel.read(inside) == licence
    with tarfile.open(built[name]["sdist"]) as sdist:
        [inside] = [n for n in sdist.getnames() if n.count("/") == 1 and n.endswith("/LICENSE")]
        member = sdist.extractfile(inside)
        assert member is not None
        assert member.read() == licence
    assert b"Apache License" in licence
    assert b"Version 2.0, January 2004" in licence


def test_the_emulator_wheel_carries_the_consoles_templates_and_scripts(
    built: dict[str, dict[str, Path]],
) -> None:
    """Package data: without them the console answers 500 on every page once installed."""
    console = ROOT / "emulator/src/videoedit_emulator/web/console"
    wanted = {
        "videoedit_emulator/web/console/" + str(path.relative_to(console))
        for folder in ("templates", "static")
        for path in (console / folder).iterdir()
    }
    names = set(check_dist.read_artifact(built["videoedit-emulator"]["wheel"]).files)

    assert {"videoedit_emulator/web/console/templates/base.html"} <= wanted
    assert {"videoedit_emulator/web/console/static/console.js"} <= wanted
    assert wanted <= names


def test_every_distribution_has_the_version_of_the_version_file(
    built: dict[str, dict[str, Path]],
) -> None:
    versions = {name: str(metadata(built[name]["wheel"]).version) for name in PUBLIC}

    assert versions == dict.fromkeys(PUBLIC, VERSION)


@pytest.mark.parametrize("name", sorted(set(PUBLIC) - {"videoedit"}))
def test_plugins_and_the_emulator_require_a_bounded_videoedit_that_includes_this_one(
    built: dict[str, dict[str, Path]], name: str
) -> None:
    requires = metadata(built[name]["wheel"]).requires_dist or []
    [core] = [r for r in requires if r.name == "videoedit"]
    current = Version(VERSION)
    next_minor = Version(f"{current.major}.{current.minor + 1}")

    assert current in core.specifier
    assert next_minor not in core.specifier


def test_anyio_is_declared_by_the_distributions_that_import_it(
    built: dict[str, dict[str, Path]],
) -> None:
    for name in ("videoedit", "videoedit-emulator"):
        requires = [str(r) for r in metadata(built[name]["wheel"]).requires_dist or []]
        assert any(r.startswith("anyio") for r in requires), name


@pytest.mark.parametrize("name", sorted(PRIVATE))
def test_the_test_and_example_packages_are_marked_do_not_upload(
    built: dict[str, dict[str, Path]], name: str
) -> None:
    for path in built[name].values():
        assert check_dist.PRIVATE in (metadata(path).classifiers or [])
        assert check_dist.check(check_dist.read_artifact(path), public=True) != []
