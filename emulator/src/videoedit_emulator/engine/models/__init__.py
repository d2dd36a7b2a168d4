"""The model registry: model id -> the handler holding its server-side rules.

To add a model family, write a handler (see `ModelHandler`)
and add it to `HANDLERS` below; every adapter then serves its model ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from videoedit_emulator.engine.errors import ApiError, ErrorKind, Reason
from videoedit_emulator.engine.models.base import (
    JobPlan,
    MediaInput,
    ModelHandler,
    RenderPlan,
    ResolvedMedia,
)
from videoedit_emulator.engine.models.vace import VacePlus
from videoedit_emulator.engine.models.wan27 import Wan27VideoEdit

__all__ = [
    "HANDLERS",
    "JobPlan",
    "MediaInput",
    "ModelHandler",
    "ModelRegistry",
    "RenderPlan",
    "ResolvedMedia",
    "default_registry",
]

#: Every model family the emulator serves. Registration point for new handlers.
HANDLERS: list[ModelHandler] = [Wan27VideoEdit(), VacePlus()]


class ModelRegistry:
    """Looks a model id up, honouring the regions each id exists in."""

    def __init__(self, handlers: Iterable[ModelHandler]) -> None:
        self._by_id: dict[str, tuple[ModelHandler, frozenset[str] | None]] = {}
        for handler in handlers:
            for model_id, regions in handler.models.items():
                if model_id in self._by_id:
                    raise ValueError(f"model {model_id!r} is registered twice")
                self._by_id[model_id] = (handler, regions)

    def ids(self, region: str | None = None) -> list[str]:
        """Model ids served, in ``region`` when given."""
        return sorted(
            m
            for m, (_, regions) in self._by_id.items()
            if region is None or regions is None or region in regions
        )

    def regions(self) -> Mapping[str, frozenset[str] | None]:
        return {m: regions for m, (_, regions) in self._by_id.items()}

    def lookup(self, model: str, region: str | None) -> ModelHandler:
        """The handler of ``model`` in ``region``; else ``Reason.UNKNOWN_MODEL``, whose
        detail says which ids are served there (DashScope words it 400 ``InvalidParameter``
        ``Model not exist.``, the detail in parentheses)."""
        found = self._by_id.get(model)
        if found is None or (
            region is not None and found[1] is not None and region not in found[1]
        ):
            where = f" in region {region}" if region else ""
            raise ApiError(
                ErrorKind.INVALID_PARAMETER,
                f"model {model!r} is not served{where}; "
                f"served: {', '.join(self.ids(region)) or 'none'}",
                reason=Reason.UNKNOWN_MODEL,
                field="model",
            )
        return found[0]


def default_registry() -> ModelRegistry:
    return ModelRegistry(HANDLERS)
