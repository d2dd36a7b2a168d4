"""A griffe extension for the API reference: what is private stays out of signatures.

- a private base class (``class Client(_BaseClient)``) is not listed under "Bases";
- a private type in a parameter's union (``timeout: float | _Default | None``, the sentinel
  for "the client's own setting") is left out of the annotation shown, and the docstring
  says what leaving the argument out means.

Used by ``mkdocs.yml`` (mkdocstrings' ``extensions`` option); the code is not changed.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_PRIVATE_MEMBER = re.compile(r"\s*\|\s*_[A-Za-z]\w*|_[A-Za-z]\w*\s*\|\s*")


def _private(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return last.startswith("_") and not last.startswith("__")


class PublicSignatures(griffe.Extension):
    def on_class_instance(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        cls.bases = [base for base in cls.bases if not _private(str(base))]

    def on_function_instance(self, *, func: griffe.Function, **kwargs: Any) -> None:
        for parameter in func.parameters:
            annotation = parameter.annotation
            if annotation is None or not re.search(r"\b_[A-Za-z]", str(annotation)):
                continue
            shown = _PRIVATE_MEMBER.sub("", str(annotation))
            if shown != str(annotation):
                parameter.annotation = shown
