"""The release check (``.ci/check_dist.py``) refuses what an index would take badly."""

from __future__ import annotations

import zipfile
from pathlib import Path

from test_distributions import ROOT, check_dist

GOOD = """\
Metadata-Version: 2.4
Name: videoedit-acme
Version: 0.1.0
Summary: A provider.
Project-URL: Homepage, https://example.com
License-Expression: Apache-2.0
License-File: LICENSE
Classifier: Typing :: Typed
Requires-Python: >=3.10
Requires-Dist: videoedit<0.2,>=0.1
Description-Content-Type: text/markdown

{readme}
"""
README = (
    "# videoedit-acme\n\n" + "A provider for Acme. " * 20 + "\n\nSee https://example.com/docs.\n"
)


def wheel(tmp_path: Path, metadata: str, *, licence: bool = True) -> Path:
    path = tmp_path / "videoedit_acme-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("videoedit_acme-0.1.0.dist-info/METADATA", metadata)
        if licence:
            archive.writestr("videoedit_acme-0.1.0.dist-info/licenses/LICENSE", "Apache")
    return path


def problems(path: Path, *, public: bool = True) -> list[str]:
    return list(check_dist.check(check_dist.read_artifact(path), public=public))


def test_a_complete_distribution_passes(tmp_path: Path) -> None:
    assert problems(wheel(tmp_path, GOOD.format(readme=README))) == []


def test_an_unbounded_videoedit_requirement_is_refused(tmp_path: Path) -> None:
    text = GOOD.format(readme=README).replace("videoedit<0.2,>=0.1", "videoedit>=0.1")

    assert problems(wheel(tmp_path, text)) == [
        "videoedit_acme-0.1.0-py3-none-any.whl: requires videoedit >=0.1: no upper bound"
    ]


def test_a_missing_long_description_and_licence_file_are_refused(tmp_path: Path) -> None:
    found = problems(wheel(tmp_path, GOOD.format(readme=""), licence=False))

    assert any("no long description" in p for p in found)
    assert any("does not hold it" in p for p in found)


def test_a_relative_link_in_the_readme_is_refused(tmp_path: Path) -> None:
    readme = README + "\nSee [the CLI](docs/cli.md).\n"

    found = problems(wheel(tmp_path, GOOD.format(readme=readme)))

    assert found == [
        "videoedit_acme-0.1.0-py3-none-any.whl: the long description links 'docs/cli.md', "
        "relative to nothing"
    ]


def test_an_unknown_classifier_is_refused(tmp_path: Path) -> None:
    text = GOOD.format(readme=README).replace("Typing :: Typed", "Typing :: Typo")

    assert any("unknown classifier 'Typing :: Typo'" in p for p in problems(wheel(tmp_path, text)))


def test_a_private_distribution_is_refused_only_for_a_release(tmp_path: Path) -> None:
    text = GOOD.format(readme=README).replace(
        "Classifier: Typing :: Typed", "Classifier: Private :: Do Not Upload"
    )
    path = wheel(tmp_path, text)

    assert problems(path, public=False) == []
    assert problems(path, public=True) == [
        "videoedit_acme-0.1.0-py3-none-any.whl: marked 'Private :: Do Not Upload': it must "
        "not be released"
    ]


def test_every_member_carries_the_repository_licence_text() -> None:
    licence = (ROOT / "LICENSE").read_bytes()
    members = [
        "core",
        "emulator",
        *(f"providers/{p}" for p in ("dashscope", "vtrix", "apimart", "vace")),
    ]

    assert [m for m in members if (ROOT / m / "LICENSE").read_bytes() != licence] == []
