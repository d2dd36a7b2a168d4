"""videoedit providers for Alibaba Cloud Model Studio (DashScope): Beijing and Singapore."""

from videoedit_dashscope.errors import parse_dashscope_error
from videoedit_dashscope.provider import (
    DashScopeBeijing,
    DashScopeProvider,
    DashScopeSingapore,
    parse_task,
)
from videoedit_dashscope.upload import DashScopeUploader

__all__ = [
    "DashScopeBeijing",
    "DashScopeProvider",
    "DashScopeSingapore",
    "DashScopeUploader",
    "parse_dashscope_error",
    "parse_task",
]
