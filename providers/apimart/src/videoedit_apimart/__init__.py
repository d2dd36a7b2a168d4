"""videoedit provider for APIMart-format gateways (``/v1/videos/generations``)."""

from videoedit_apimart.encoding import DEFAULT_FIELD_NAMES, ApimartOptions, apimart_body
from videoedit_apimart.errors import parse_apimart_error
from videoedit_apimart.provider import ApimartProvider, parse_task

__all__ = [
    "DEFAULT_FIELD_NAMES",
    "ApimartOptions",
    "ApimartProvider",
    "apimart_body",
    "parse_apimart_error",
    "parse_task",
]
