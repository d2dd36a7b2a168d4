"""The built documentation site reads as documentation: links, code and public signatures.

The site is built once per session, strictly and offline, into a temporary folder (the same
command as ``make docs``), and its HTML is read as a visitor's browser would receive it. A
docstring written with a Sphinx role (``:class:`Client```) shows on the page as literal
text, because mkdocstrings speaks autorefs (``[`Client`][videoedit.Client]``); these tests
catch one the day it is written.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|data|exc|mod|obj|const):`?")
_TAG = re.compile(r"<[^>]+>")
_SIGNATURE = re.compile(r'<div class="doc-signature[^"]*">(.*?)</div>', re.DOTALL)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).with_name("mkdocs")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(out)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if p.name != "404.html")


def visible_text(html: str) -> str:
    """What a reader sees: the page without its tags (entities are left as they are)."""
    return _TAG.sub("", html)


def test_no_page_shows_a_literal_sphinx_role(site: Path) -> None:
    shown = {
        str(page.relative_to(site)): sorted(set(_ROLE.findall(visible_text(page.read_text()))))
        for page in pages(site)
    }
    assert {page: roles for page, roles in shown.items() if roles} == {}


def test_a_docstring_cross_reference_is_a_link_to_its_target(site: Path) -> None:
    client = (site / "reference" / "client.html").read_text()
    # Client's docstring names RetryPolicy, documented on the same page.
    assert re.search(r'<a[^>]+href="[^"]*#videoedit\.RetryPolicy"', client)


def test_the_signatures_show_no_private_name(site: Path) -> None:
    assert _SIGNATURE.search((site / "reference" / "client.html").read_text())
    private = {
        str(page.relative_to(site)): sorted(
            set(re.findall(r"\b_[A-Za-z]\w*", visible_text(" ".join(_SIGNATURE.findall(text)))))
        )
        for page in pages(site)
        if (text := page.read_text())
    }
    assert {page: names for page, names in private.items() if names} == {}


def test_doctest_examples_are_code_blocks(site: Path) -> None:
    outside = []
    for page in pages(site):
        text = re.sub(r"<pre.*?</pre>", "", page.read_text(), flags=re.DOTALL)
        if "&gt;&gt;&gt; " in text:
            outside.append(str(page.relative_to(site)))
    assert outside == []


def test_every_page_names_its_canonical_address_and_the_repository(site: Path) -> None:
    index = (site / "index.html").read_text()
    assert '<link rel="canonical" href="https://videoedit.github.io/videoedit/index.html">' in index
    assert 'href="https://github.com/videoedit/videoedit"' in index
