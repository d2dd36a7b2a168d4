"""videoedit provider for Vtrix: DashScope bodies in Vtrix's generation envelope."""

from videoedit_vtrix.errors import parse_vtrix_error
from videoedit_vtrix.provider import DEFAULT_MODEL_MAP, VtrixProvider, parse_task

__all__ = ["DEFAULT_MODEL_MAP", "VtrixProvider", "parse_task", "parse_vtrix_error"]
