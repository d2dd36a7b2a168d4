"""Manifests: many edits in one file, one edit a line, read into requests or clear errors.

Two formats, told apart by the file's extension: JSON Lines (``.jsonl``, ``.ndjson``: one JSON
object a line; blank lines and lines starting with ``#`` are skipped) and CSV (``.csv``: a
header row of field names, then one row an edit; an empty cell leaves the field unset, and
a cell starting with ``[`` or ``{`` is read as JSON, for lists such as ``reference_images``).

A row holds the fields of a request type (``VideoEdit``'s, or a plugin's: a row with a
``function`` field is a wan2.1-vace-plus request of that function when ``videoedit-vace`` is
installed), plus two of the manifest's own: ``id`` (default: ``line-N``; unique) and
``output`` (the file to save the result to; default ``<id>.mp4`` in the output folder, and
never outside it).
Local paths in a row are read relative to the manifest's folder.

A bad row does not stop the others: `read_manifest` returns the good rows and one
`RowError` per bad row, naming its line, the field and the rule.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from videoedit.errors import InvalidRequestError
from videoedit.media import MediaKind, classify
from videoedit.regular_files import read_regular
from videoedit.requests import EditRequest, VideoEdit

if TYPE_CHECKING:
    from videoedit.plugins import PluginHost

__all__ = ["FORMATS", "Manifest", "ManifestRow", "RowError", "read_manifest"]

#: Extensions read as each format.
FORMATS: Mapping[str, str] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
#: The manifest's own columns; every other one is a request field.
OWN_FIELDS = ("id", "output")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class ManifestRow:
    """One good row: where it is, its id, the request, and the file its result goes to."""

    line: int
    id: str
    request: EditRequest
    output: Path


@dataclass(frozen=True)
class RowError:
    """Why one row cannot run: its line, then each field with the rule it breaks."""

    line: int
    field: str
    rule: str
    row_id: str | None = None
    errors: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        found = self.errors or ((self.field, self.rule),)
        return f"line {self.line}: " + "; ".join(f"{f}: {r}" for f, r in found)


@dataclass(frozen=True)
class Manifest:
    """A manifest read: its good rows, in order, and its bad ones."""

    path: Path
    rows: tuple[ManifestRow, ...]
    errors: tuple[RowError, ...] = field(default=())

    @property
    def key(self) -> str:
        """What the ledger files its rows under: the manifest's absolute path."""
        return str(self.path.resolve())


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InvalidRequestError(
            f"manifest {str(path)!r}: unknown format {path.suffix or '(no extension)'!r}; "
            f"name it {', '.join(FORMATS)}",
            field="manifest",
            rule="a .jsonl or .csv file",
        )
    data = _read(path)
    if kind == "jsonl":
        for number, raw in enumerate(data.splitlines(), start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield number, RowError(number, "line", f"is not UTF-8 text (byte {exc.start + 1})")
                continue
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, RowError(number, "line", f"is not valid JSON ({exc.msg})")
                continue
            except (ValueError, RecursionError) as exc:  # 5000 digits; nesting thousands deep
                yield number, RowError(number, "line", f"is not valid JSON ({_unread(exc)})")
                continue
            if not isinstance(value, dict):
                yield number, RowError(number, "line", "must be a JSON object")
                continue
            yield number, value
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = data[: exc.start].count(b"\n") + 1
        raise InvalidRequestError(
            f"manifest {str(path)!r}: line {bad_line} is not UTF-8 text",
            field="manifest",
            rule="a UTF-8 file",
        ) from None
    reader = csv.DictReader(text.splitlines(keepends=True))
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell over csv's field size limit (128 KiB)
            at = reader.reader.line_num  # DictReader's own count moves only on good rows
            yield at, RowError(at, "line", f"is not a CSV row ({exc})")
            continue
        number = reader.line_num
        if None in record:
            yield number, RowError(number, "line", "has more cells than the header has names")
            continue
        yield number, {k.strip(): _cell(v) for k, v in record.items() if k and v not in ("", None)}


def _cell(value: str) -> Any:
    text = value.strip()
    if text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return text
    return text


def _read(path: Path) -> bytes:
    """The manifest's bytes; a pipe or a device (which would never end) is refused."""
    try:
        return read_regular(path)
    except OSError as exc:
        raise InvalidRequestError(
            f"manifest {str(path)!r} cannot be read: {exc.strerror or exc}",
            field="manifest",
            rule="a readable file",
        ) from None


def _unread(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "it nests too deep"
    return str(exc).split(";")[0]


def _request_type(
    record: Mapping[str, Any], types: list[type[EditRequest]]
) -> type[EditRequest] | str:
    """The request type a row is of, or the rule it breaks."""
    function = record.get("function")
    if function is not None:
        for kind in types:
            spec = kind.model_fields.get("function")
            if spec is not None and spec.default == function:
                return kind
        known = sorted(
            str(k.model_fields["function"].default) for k in types if "function" in k.model_fields
        )
        if not known:
            return "no installed request type takes a function here (install videoedit-vace)"
        return f"must be one of {', '.join(known)}"
    model = record.get("model")
    if model is not None:
        for kind in types:
            spec = kind.model_fields.get("model")
            if "function" not in kind.model_fields and spec is not None and spec.default == model:
                return kind
    return VideoEdit


#: A manifest may come from anywhere (a spreadsheet, another program): a row must not be able
#: to replace a file outside the folder the user chose, such as ``~/.bashrc``.
_OUTSIDE = "must be a path inside the output folder (not absolute, no '..' out of it, no link out)"


def _inside(target: Path, folder: Path) -> bool:
    """Whether ``target``, links and ``..`` followed, lies inside ``folder``."""
    real = Path(os.path.realpath(target))
    return real != Path(os.path.realpath(folder)) and real.is_relative_to(os.path.realpath(folder))


def _local(value: Any, folder: Path) -> Any:
    if (
        isinstance(value, str)
        and classify(value) is MediaKind.LOCAL
        and not value.lower().startswith("file:")
        and not Path(value).expanduser().is_absolute()
    ):
        return str(folder / value)
    return value


def _resolve_paths(record: dict[str, Any], kind: type[EditRequest], folder: Path) -> dict[str, Any]:
    """The row with its relative local paths read against the manifest's folder."""
    out = dict(record)
    for name in kind.media_fields:
        value = out.get(name)
        if isinstance(value, list):
            out[name] = [_local(item, folder) for item in value]
        elif value is not None:
            out[name] = _local(value, folder)
    return out


def read_manifest(
    path: str | Path,
    *,
    provider: str,
    plugins: PluginHost | None = None,
    output_dir: str | Path | None = None,
    check_files: bool = True,
) -> Manifest:
    """Read ``path`` for ``provider`` (its request types decide what a row may be).

    ``output_dir`` (default: the manifest's folder) is where rows without ``output`` are
    saved, and what a relative ``output`` is read against. With ``check_files``, a local
    input's content is checked now (``check_local_files``: size, and with ffmpeg length and
    sides), so a bad clip is a bad row rather than a failed submission.
    """
    from videoedit.plugins import default_host

    path = Path(path)
    folder = path.parent
    out_folder = Path(output_dir) if output_dir is not None else folder
    types = (plugins or default_host()).request_types(provider)
    rows: list[ManifestRow] = []
    errors: list[RowError] = []
    ids: dict[str, int] = {}
    outputs: dict[Path, int] = {}
    for number, record in _records(path):
        if isinstance(record, RowError):
            errors.append(record)
            continue
        row_id = record.pop("id", None)
        if row_id is None:
            row_id = f"line-{number}"
        if not isinstance(row_id, str) or not _ID.match(row_id):
            errors.append(
                RowError(number, "id", "must be 1 to 128 letters, digits, '.', '_' or '-'")
            )
            continue
        if row_id in ids:
            errors.append(RowError(number, "id", f"must be unique (line {ids[row_id]} has it)"))
            continue
        output = record.pop("output", None)
        if output is not None and (not isinstance(output, str) or not output.strip()):
            errors.append(RowError(number, "output", "must be a file path", row_id))
            continue
        target = (out_folder / (output or f"{row_id}.mp4")).absolute()
        if not _inside(target, out_folder):
            errors.append(RowError(number, "output", _OUTSIDE, row_id))
            continue
        if target in outputs:
            errors.append(
                RowError(number, "output", f"must differ from line {outputs[target]}'s", row_id)
            )
            continue
        kind = _request_type(record, types)
        if isinstance(kind, str):
            errors.append(RowError(number, "function", kind, row_id))
            continue
        try:
            request = kind(**_resolve_paths(record, kind, folder))
            if check_files:
                request.check_local_files()
        except InvalidRequestError as exc:
            found = tuple(exc.errors) or ((exc.field or "request", exc.rule or exc.message),)
            errors.append(RowError(number, found[0][0], found[0][1], row_id, found))
            continue
        ids[row_id] = number
        outputs[target] = number
        rows.append(ManifestRow(number, row_id, request, target))
    return Manifest(path, tuple(rows), tuple(errors))
