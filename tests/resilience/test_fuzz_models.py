"""Property: any input to a request model either builds a request or raises
``InvalidRequestError`` naming a field of the request (never another exception).

Covers the core's ``VideoEdit`` (constructor and ``model_validate``) and the vace plugin's
five request types and ``parse_vace_request`` (flat dicts and DashScope bodies).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fuzzing import FUZZ, TALLY
from hypothesis import given
from hypothesis import strategies as st

from videoedit import InvalidRequestError, VideoEdit
from videoedit_vace import parse_vace_request
from videoedit_vace.requests import REQUEST_TYPES, VaceRequest

#: Values a field may be given: every JSON type, paths, bytes, and sources that exercise the
#: media rules (URLs of every scheme, data URIs, local paths good and impossible).
SOURCES = st.sampled_from(
    [
        "https://cdn.example.com/in.mp4",
        "http://127.0.0.1:1/in.mp4",
        "oss://dashscope-instant/x/in.mp4",
        "file:///no/such/file.mp4",
        "data:image/png;base64,iVBORw0KGgo=",
        "data:image/png;base64,@@",
        "data:text/plain;base64,aGk=",
        "data:video/mp4;base64,AAAA",
        "ftp://example.com/in.mp4",
        "http://",
        "http://[::1",
        "https://exa mple.com/x.mp4",
        "~nobody-here/in.mp4",
        "~",
        "/",
        ".",
        "clip.mov",
        "a" * 5000 + ".mp4",
        "in\x00.mp4",
        "/dev/null",
        "",
        "   ",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["x" * 6000, "é" * 501, "720p", "1080P", "16:9", "origin", "auto"]),
    st.binary(max_size=20),
    SOURCES,
    st.builds(Path, st.text(max_size=20)),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)


def field_values(
    names: tuple[str, ...], extra: tuple[str, ...] = ("colour",)
) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments: any subset of the fields (and a stray name), each any value."""
    return st.dictionaries(st.sampled_from(names + extra), VALUES, max_size=len(names) + 1)


def root(field: str) -> str:
    return re.split(r"[.\[]", field, maxsplit=1)[0]


def names_one_of(field: str, allowed: set[str]) -> bool:
    """``field`` is one of ``allowed``, or a part of one (``reference_images[2]``)."""
    return field in allowed or root(field) in allowed


def check_named(exc: InvalidRequestError, allowed: set[str]) -> None:
    assert exc.field, repr(exc)
    assert names_one_of(exc.field, allowed), (exc.field, allowed)
    assert exc.field in str(exc)
    for field, rule in exc.errors:
        assert names_one_of(field, allowed), (field, allowed)
        assert rule


VIDEO_EDIT_FIELDS = tuple(VideoEdit.model_fields)


@FUZZ
@given(kwargs=field_values(VIDEO_EDIT_FIELDS))
def test_any_video_edit_input_builds_or_names_a_field(kwargs: dict[str, Any]) -> None:
    TALLY["VideoEdit(**kwargs)"] += 1
    try:
        VideoEdit(**kwargs)
    except InvalidRequestError as exc:
        check_named(exc, set(kwargs) | set(VIDEO_EDIT_FIELDS))


@FUZZ
@given(data=VALUES)
def test_any_object_given_to_model_validate_builds_or_names_a_field(data: Any) -> None:
    TALLY["VideoEdit.model_validate(obj)"] += 1
    try:
        VideoEdit.model_validate(data)
    except InvalidRequestError as exc:
        allowed = set(VIDEO_EDIT_FIELDS) | {"request"}
        if isinstance(data, Mapping):
            allowed |= {str(k) for k in data}
        check_named(exc, allowed)


@FUZZ
@given(video=SOURCES | st.text(max_size=60), duration=VALUES, seed=VALUES)
def test_a_video_edit_with_a_video_of_any_form_builds_or_names_a_field(
    video: Any, duration: Any, seed: Any
) -> None:
    TALLY["VideoEdit(video, duration, seed)"] += 1
    try:
        VideoEdit(video=video, duration=duration, seed=seed, resolution="720P")
    except InvalidRequestError as exc:
        check_named(exc, {"video", "duration", "seed"})


def _vace_fields(cls: type[VaceRequest]) -> tuple[str, ...]:
    return tuple(cls.model_fields)


@pytest.mark.parametrize("function", sorted(REQUEST_TYPES))
def test_each_vace_request_type_builds_or_names_a_field(function: str) -> None:
    cls = REQUEST_TYPES[function]
    names = _vace_fields(cls)

    @FUZZ
    @given(kwargs=field_values(names))
    def property_(kwargs: dict[str, Any]) -> None:
        TALLY[f"{cls.__name__}(**kwargs)"] += 1
        try:
            cls(**kwargs)
        except InvalidRequestError as exc:
            check_named(exc, set(kwargs) | set(names))

    property_()


ALL_VACE_FIELDS = tuple(sorted({n for cls in REQUEST_TYPES.values() for n in cls.model_fields}))


def vace_bodies() -> st.SearchStrategy[Any]:
    """Flat dicts with a function, DashScope bodies (input/parameters), and anything at all."""
    function = st.sampled_from([*REQUEST_TYPES, "video_dance", ""]) | VALUES
    flat = st.builds(
        lambda f, rest: {"function": f, **rest}, function, field_values(ALL_VACE_FIELDS)
    )
    body = st.builds(
        lambda f, inner, params, model: {
            "model": model,
            "input": {"function": f, **inner},
            "parameters": params,
        },
        function,
        field_values(ALL_VACE_FIELDS),
        field_values(ALL_VACE_FIELDS) | VALUES,
        st.sampled_from(["wan2.1-vace-plus", "wanx2.1-vace-plus"]) | VALUES,
    )
    return st.one_of(flat, body, VALUES)


@FUZZ
@given(data=vace_bodies())
def test_any_vace_body_parses_or_names_a_field(data: Any) -> None:
    TALLY["parse_vace_request(data)"] += 1
    try:
        request = parse_vace_request(data)
    except InvalidRequestError as exc:
        allowed = {"request", "function", "input", "parameters", "model", *ALL_VACE_FIELDS}
        if isinstance(data, Mapping):
            allowed |= {str(k) for k in data}
            for block in ("input", "parameters"):
                if isinstance(data.get(block), Mapping):
                    allowed |= {str(k) for k in data[block]}
        check_named(exc, allowed)
    else:
        assert isinstance(request, VaceRequest)


@pytest.fixture(scope="module", autouse=True)
def _report(report_figures: Callable[[str, dict[str, Any]], None]) -> Iterator[None]:
    yield
    figures = {k: v for k, v in TALLY.items() if not k.startswith("route:")}
    report_figures(
        "fuzz-models",
        {
            "examples": dict(sorted(figures.items())),
            "total": sum(figures.values()),
            "other_exceptions": 0,
        },
    )
