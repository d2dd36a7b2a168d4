"""Check built distributions before they go to a package index (``make dist`` runs it).

``python .ci/check_dist.py dist/`` reads the core metadata of every wheel (``METADATA``) and
sdist (``PKG-INFO``) in the folder and fails, naming the file and the rule, unless each one:

- is valid core metadata (``packaging.metadata`` in strict mode: the checks ``twine check``
  makes of metadata, and a few more), with the name and version its file name promises;
- has a long description (its README, ``text/markdown``) whose links are absolute, since
  an index page resolves nothing relative to the repository;
- has classifiers that all exist (``trove-classifiers``), project URLs, a licence expression
  and the licence file it names inside the archive;
- bounds every ``videoedit*`` requirement from above (``videoedit>=0.1,<0.2``), so that a
  release of the core that breaks the plugin contract does not reach older plugins;
- unless it is marked ``Private :: Do Not Upload`` (the test and example packages are: an
  index refuses them, and ``make dist`` never builds them): then only that mark is
  reported, and it is an error with ``--public``.

The standard library and ``packaging`` suffice (both are in the dev environment), so the
check runs offline and needs no upload tool.
"""

from __future__ import annotations

import argparse
import email.parser
import re
import sys
import tarfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.metadata import Metadata
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

__all__ = ["PRIVATE", "Artifact", "check", "main", "read_artifact"]

PRIVATE = "Private :: Do Not Upload"
#: Links of a Markdown README that an index page cannot follow: ``[text](docs/x.md)``.
_RELATIVE_LINK = re.compile(r"\]\((?!https?://|mailto:|#)([^)\s]+)\)")
_FAMILY = re.compile(r"^videoedit(-|$)")


@dataclass
class Artifact:
    """One wheel or sdist: its core metadata and the names of the files it holds."""

    path: Path
    kind: str  # "wheel" or "sdist"
    raw: str
    files: list[str] = field(default_factory=list)

    @property
    def headers(self) -> email.message.Message:
        return email.parser.Parser().parsestr(self.raw)


def read_artifact(path: Path) -> Artifact:
    """The metadata text and file list of ``path`` (``.whl`` or ``.tar.gz``)."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
            return Artifact(path, "wheel", archive.read(metadata).decode("utf-8"), names)
    with tarfile.open(path) as archive:
        names = archive.getnames()
        [pkg_info] = [n for n in names if n.count("/") == 1 and n.endswith("/PKG-INFO")]
        member = archive.extractfile(pkg_info)
        assert member is not None
        return Artifact(path, "sdist", member.read().decode("utf-8"), names)


def _filename_claims(path: Path) -> tuple[str, str]:
    """The (name, version) a distribution's file name claims."""
    stem = path.name.removesuffix(".tar.gz").removesuffix(".whl")
    name, version = stem.split("-")[:2]
    return canonicalize_name(name), version


def check(artifact: Artifact, *, public: bool = False) -> list[str]:
    """Every rule ``artifact`` breaks, as sentences naming the file (empty: it passes)."""
    where = artifact.path.name
    problems: list[str] = []
    try:
        meta = Metadata.from_email(artifact.raw, validate=True)
    except Exception as exc:  # an ExceptionGroup of InvalidMetadata, one per field
        causes = getattr(exc, "exceptions", [exc])
        return [f"{where}: invalid metadata: {cause}" for cause in causes]
    classifiers = meta.classifiers or []
    if PRIVATE in classifiers:  # never released: the marker is the one rule that matters
        return [f"{where}: marked {PRIVATE!r}: it must not be released"] if public else []
    name, version = _filename_claims(artifact.path)
    if canonicalize_name(meta.name) != name or str(meta.version) != version:
        problems.append(f"{where}: metadata says {meta.name} {meta.version}")
    description = meta.description or ""
    if len(description.strip()) < 200:
        problems.append(f"{where}: no long description (the member's README.md)")
    if meta.description_content_type is None or not meta.description_content_type.startswith(
        "text/markdown"
    ):
        problems.append(f"{where}: Description-Content-Type is not text/markdown")
    for link in _RELATIVE_LINK.findall(description):
        problems.append(f"{where}: the long description links {link!r}, relative to nothing")
    if not classifiers:
        problems.append(f"{where}: no classifiers")
    problems += [f"{where}: unknown classifier {c!r}" for c in _unknown(classifiers)]
    if not meta.project_urls:
        problems.append(f"{where}: no project URLs")
    if meta.license_expression is None:
        problems.append(f"{where}: no License-Expression")
    license_files = meta.license_files or []
    if not license_files:
        problems.append(f"{where}: no License-File")
    for license_file in license_files:
        if not any(f.endswith("/" + license_file) for f in artifact.files):
            problems.append(f"{where}: names License-File {license_file} but does not hold it")
    for requirement in meta.requires_dist or []:
        problems += _unbounded(where, requirement)
    return problems


def _unknown(classifiers: Sequence[str]) -> list[str]:
    try:
        from trove_classifiers import classifiers as known
    except ImportError:  # the list ships with hatchling; without it, the index will judge
        return []
    return [c for c in classifiers if c not in known and not c.startswith("Private ::")]


def _unbounded(where: str, requirement: Requirement) -> list[str]:
    if not _FAMILY.match(canonicalize_name(requirement.name)):
        return []
    if requirement.marker is not None and "extra" in str(requirement.marker):
        label = f"{requirement.name} (extra)"
    else:
        label = requirement.name
    operators = {spec.operator for spec in requirement.specifier}
    if not operators & {"<", "<=", "~=", "=="}:
        return [f"{where}: requires {label} {requirement.specifier or '(any)'}: no upper bound"]
    return []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="where the wheels and sdists are")
    parser.add_argument("--public", action="store_true", help="refuse distributions marked private")
    args = parser.parse_args(argv)
    paths = sorted([*args.folder.glob("*.whl"), *args.folder.glob("*.tar.gz")])
    if not paths:
        print(f"check_dist: no wheel or sdist in {args.folder}", file=sys.stderr)
        return 1
    problems = [p for path in paths for p in check(read_artifact(path), public=args.public)]
    for problem in problems:
        print(f"check_dist: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_dist: {len(paths)} distributions in {args.folder} passed")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
