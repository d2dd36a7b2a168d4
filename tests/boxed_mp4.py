"""Bytes shaped like an MP4 at the top level (``ftyp``, ``moov``, ``mdat``), for the tests
that save a result without a real video: ``save`` checks that the boxes add up.

Importable from any test module: ``tests/`` is on ``sys.path`` (pytest puts the folder of
``tests/conftest.py`` there)."""

from __future__ import annotations

import struct


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def boxed_mp4(media: bytes) -> bytes:
    """A file ``save`` takes as whole: ``media`` in an ``mdat``, after ``ftyp`` and ``moov``."""
    return (
        box(b"ftyp", b"mp42\x00\x00\x00\x00mp42isom")
        + box(b"moov", b"\x00" * 100)
        + box(b"mdat", media)
    )
