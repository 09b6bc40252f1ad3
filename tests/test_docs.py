"""The docs check: in README.md and docs/*.md every relative link (and its #anchor) resolves, every ```python snippet
compiles, and every command-line verb shown (`trl-sft-plus train`, `python -m evals compare`, `python -m
evals.run_eval`, ...) answers `--help` with exit status 0."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^[ \t]*(`{3,})([\w+-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.S | re.M)
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
INLINE_CODE = re.compile(r"`([^`]+)`")  # may wrap onto the next line
# `trl-sft-plus VERB` and `python -m evals VERB` / `python -m evals.MODULE`, as shown in code
CLI_VERB = re.compile(r"\btrl-sft-plus (\w+)|\bpython3? -m (evals(?:\.\w+)?)(?: ([a-z]\w*))?")


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _without_code(text: str) -> str:
    """The page without its fenced blocks (links and headings there are code, not markup)."""
    return FENCE.sub("", text)


@cache
def _anchors(page: Path) -> frozenset[str]:
    """GitHub's heading anchors: lower case, punctuation other than '-' and '_' dropped, spaces to '-', and '-1',
    '-2', ... for repeats."""
    seen: dict[str, int] = {}
    anchors = set()
    for line in _without_code(page.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return frozenset(anchors)


def _links(page: Path) -> list[str]:
    return [target for target in LINK.findall(_without_code(page.read_text(encoding="utf-8")))]


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_every_relative_link_resolves(page):
    broken = []
    for target in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading with anchor #{anchor} in {_rel(linked)}")
    assert not broken, f"{_rel(page)}: " + "; ".join(broken)


def test_pages_have_links_and_the_readme_stays_short():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    assert readme.index("nox -s eval") < readme.index("## ")  # the two commands come first
    for name in ("guide.md", "recipes.md", "rl.md", "benchmarks.md"):
        assert f"(docs/{name})" in readme


def _python_snippets() -> list[tuple[str, str]]:
    snippets = []
    for page in PAGES:
        for number, (_, language, code) in enumerate(FENCE.findall(page.read_text(encoding="utf-8"))):
            if language == "python":
                snippets.append((f"{_rel(page)}#{number}", textwrap.dedent(code)))
    return snippets


@pytest.mark.parametrize(("where", "code"), _python_snippets(), ids=[where for where, _ in _python_snippets()])
def test_python_snippets_compile(where, code):
    compile(code, where, "exec")


def _shown_verbs() -> dict[tuple[str, ...], str]:
    """Each command shown in code, as the argv that asks it for --help, with a page that shows it."""
    verbs: dict[tuple[str, ...], str] = {}
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        code = "\n".join([c for _, _, c in FENCE.findall(text)] + INLINE_CODE.findall(_without_code(text)))
        for tool_verb, module, module_verb in CLI_VERB.findall(code):
            if tool_verb:
                argv = ("-m", "trl_sft_plus.cli", tool_verb)  # the `trl-sft-plus` console script
            elif module == "evals" and module_verb:
                argv = ("-m", "evals", module_verb)
            else:
                argv = ("-m", module)
            verbs.setdefault(argv, _rel(page))
    return verbs


def test_the_pages_show_the_documented_verbs():
    shown = {" ".join(argv[1:]) for argv in _shown_verbs()}
    for verb in ("trl_sft_plus.cli train", "trl_sft_plus.cli filter", "evals.run_eval"):
        assert verb in shown
    for verb in ("compare", "gate", "noise", "validate"):
        assert f"evals {verb}" in shown


def test_every_shown_cli_verb_answers_help():
    def ask(argv: tuple[str, ...]) -> tuple[tuple[str, ...], subprocess.CompletedProcess]:
        command = [sys.executable, *argv, "--help"]
        return argv, subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)

    verbs = _shown_verbs()
    with ThreadPoolExecutor(max_workers=2) as pool:
        failed = [
            f"python {' '.join(argv)} --help (shown in {verbs[argv]}): exit {done.returncode}\n{done.stderr[-400:]}"
            for argv, done in pool.map(ask, verbs)
            if done.returncode != 0 or "usage" not in done.stdout.lower()
        ]
    assert not failed, "\n".join(failed)
