"""A manifest is read into good rows and one clear error per bad row; a bad row stops nothing.

Each error names the row's line, the field and the rule, the way the request models name
them, so that a batch of a thousand edits with one typo runs the other 999 and says which
line to fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from videoedit import InvalidRequestError, VideoEdit
from videoedit.manifest import read_manifest

PROVIDER = "dashscope-singapore"
CLIP = "https://example.com/in.mp4"


def jsonl(tmp_path: Path, *rows: object) -> Path:
    path = tmp_path / "edits.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def read(path: Path) -> tuple[list[tuple[int, str]], list[str]]:
    manifest = read_manifest(path, provider=PROVIDER, check_files=False)
    return [(row.line, row.id) for row in manifest.rows], [str(e) for e in manifest.errors]


def test_jsonl_rows_become_requests_with_their_ids_and_outputs(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        {"id": "intro", "video": CLIP, "prompt": "ink", "resolution": "720P"},
        {"video": CLIP, "prompt": "clay", "output": "clay.mp4"},
    )

    manifest = read_manifest(path, provider=PROVIDER, check_files=False)

    first, second = manifest.rows
    assert isinstance(first.request, VideoEdit)
    assert (first.id, first.request.prompt, first.request.resolution) == ("intro", "ink", "720P")
    assert first.output == (tmp_path / "intro.mp4").absolute()
    assert (second.id, second.output) == ("line-2", (tmp_path / "clay.mp4").absolute())
    assert manifest.errors == ()


def test_csv_rows_read_empty_cells_as_unset_and_brackets_as_json(tmp_path: Path) -> None:
    path = tmp_path / "edits.csv"
    path.write_text(
        "id,video,prompt,resolution,reference_images\n"
        f"a,{CLIP},ink,,\n"
        f'b,{CLIP},clay,1080P,"[""https://example.com/r.png""]"\n',
        encoding="utf-8",
    )

    manifest = read_manifest(path, provider=PROVIDER, check_files=False)

    a, b = manifest.rows
    assert a.request.model_dump()["resolution"] == VideoEdit(video=CLIP).resolution
    assert b.request.model_dump()["reference_images"] == ["https://example.com/r.png"]
    assert manifest.errors == ()


def test_a_row_breaking_a_request_rule_names_its_line_field_and_rule(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        {"id": "good", "video": CLIP, "prompt": "ink"},
        {"id": "bad", "video": CLIP, "prompt": "ink", "resolution": "4K"},
        {"id": "also-good", "video": CLIP, "prompt": "clay"},
    )

    rows, errors = read(path)

    assert rows == [(1, "good"), (3, "also-good")]
    assert len(errors) == 1
    assert errors[0].startswith("line 2: resolution: ")
    assert "720P" in errors[0]


def test_a_line_that_is_not_json_is_a_bad_row_and_the_others_run(tmp_path: Path) -> None:
    path = tmp_path / "edits.jsonl"
    path.write_text(
        json.dumps({"id": "a", "video": CLIP}) + "\n{not json\n[1, 2]\n", encoding="utf-8"
    )

    rows, errors = read(path)

    assert rows == [(1, "a")]
    assert errors[0].startswith("line 2: line: is not valid JSON")
    assert errors[1] == "line 3: line: must be a JSON object"


def test_a_repeated_id_is_refused_naming_the_line_that_has_it(tmp_path: Path) -> None:
    path = jsonl(tmp_path, {"id": "x", "video": CLIP}, {"id": "x", "video": CLIP})

    rows, errors = read(path)

    assert rows == [(1, "x")]
    assert errors == ["line 2: id: must be unique (line 1 has it)"]


def test_two_rows_saving_to_one_file_are_refused(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        {"id": "a", "video": CLIP, "output": "same.mp4"},
        {"id": "b", "video": CLIP, "output": "same.mp4"},
    )

    _, errors = read(path)

    assert errors == ["line 2: output: must differ from line 1's"]


@pytest.mark.parametrize("row_id", ["../escape", "", "a b", "x" * 129])
def test_an_id_that_could_not_name_a_file_is_refused(tmp_path: Path, row_id: str) -> None:
    path = jsonl(tmp_path, {"id": row_id, "video": CLIP})

    _, errors = read(path)

    assert errors == ["line 1: id: must be 1 to 128 letters, digits, '.', '_' or '-'"]


def test_a_manifest_of_an_unknown_format_is_refused_naming_the_formats(tmp_path: Path) -> None:
    path = tmp_path / "edits.txt"
    path.write_text("{}\n", encoding="utf-8")

    with pytest.raises(InvalidRequestError) as caught:
        read_manifest(path, provider=PROVIDER)

    assert caught.value.field == "manifest"
    assert ".jsonl, .ndjson, .csv" in str(caught.value)


@pytest.mark.parametrize(
    "output", ["../escape.mp4", "/tmp/absolute.mp4", "sub/../../escape.mp4", "out/link/x.mp4"]
)
def test_an_output_leaving_the_output_folder_is_refused(tmp_path: Path, output: str) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(outside)
    path = jsonl(tmp_path, {"id": "a", "video": CLIP, "output": output.removeprefix("out/")})

    manifest = read_manifest(
        path, provider=PROVIDER, output_dir=tmp_path / "out", check_files=False
    )

    assert manifest.rows == ()
    assert [str(e) for e in manifest.errors] == [
        "line 1: output: must be a path inside the output folder "
        "(not absolute, no '..' out of it, no link out)"
    ]


def test_an_output_in_a_subfolder_of_the_output_folder_is_kept(tmp_path: Path) -> None:
    path = jsonl(tmp_path, {"id": "a", "video": CLIP, "output": "takes/a.mp4"})

    manifest = read_manifest(
        path, provider=PROVIDER, output_dir=tmp_path / "out", check_files=False
    )

    assert manifest.rows[0].output == (tmp_path / "out" / "takes" / "a.mp4").absolute()
