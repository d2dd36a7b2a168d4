"""Find font files for the stand-in marks.

ffmpeg's drawtext draws only the glyphs its font has and does no fallback, so the renderer
picks files itself: a CJK-capable font for the service's "AI生成" watermark (and for CJK
prompts), and any sans font for the rest. The static ffmpeg's fontconfig does not see the
system's configuration, so we always hand drawtext an explicit file.

Search order for the CJK font: ``$VIDEOEDIT_EMULATOR_CJK_FONT``, then ``fc-list :lang=zh``,
then well-known install paths (Noto/Source Han, WenQuanYi, Droid Fallback, macOS, Windows).
Results are memoized for the process; `clear_cache` forgets them (tests).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["CJK_FONT_ENV", "LATIN_FONT_ENV", "cjk_font", "clear_cache", "latin_font"]

CJK_FONT_ENV = "VIDEOEDIT_EMULATOR_CJK_FONT"
LATIN_FONT_ENV = "VIDEOEDIT_EMULATOR_FONT"

_CJK_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/source-han-sans/SourceHanSans-Regular.ttc",
    "/usr/share/fonts/adobe-source-han-sans/SourceHanSansCN-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/simsun.ttc",
)

_LATIN_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/System/Library/Fonts/Helvetica.ttc",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
    "C:/Windows/Fonts/segoeui.ttf",
)


def _existing(path: str | None) -> Path | None:
    if not path:
        return None
    candidate = Path(path)
    return candidate if candidate.is_file() else None


def _fc(*args: str) -> list[str]:
    """Lines printed by a fontconfig tool, or nothing when it is missing or fails."""
    if shutil.which(args[0]) is None:
        return []
    try:
        proc = subprocess.run(
            list(args), capture_output=True, text=True, errors="replace", timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in proc.stdout.splitlines() if line.strip()]


@functools.lru_cache(maxsize=1)
def cjk_font() -> Path | None:
    """A font file with Chinese glyphs, or ``None`` when this machine has none."""
    found = _existing(os.environ.get(CJK_FONT_ENV))
    if found:
        return found
    for line in _fc("fc-list", ":lang=zh", "file"):
        found = _existing(line.rstrip(":"))
        if found:
            return found
    for candidate in _CJK_CANDIDATES:
        found = _existing(candidate)
        if found:
            return found
    return None


@functools.lru_cache(maxsize=1)
def latin_font() -> Path | None:
    """A sans font file for Latin text, or ``None`` (drawtext then asks fontconfig for one)."""
    found = _existing(os.environ.get(LATIN_FONT_ENV))
    if found:
        return found
    for candidate in _LATIN_CANDIDATES:
        found = _existing(candidate)
        if found:
            return found
    for line in _fc("fc-match", "--format=%{file}\n", "sans-serif"):
        found = _existing(line)
        if found:
            return found
    return None


def clear_cache() -> None:
    """Forget the memoized lookups (after changing the environment variables)."""
    cjk_font.cache_clear()
    latin_font.cache_clear()
