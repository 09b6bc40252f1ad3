"""Python code rows mined from the installed standard library: the offline stand-in for `bigcode/the-stack-smol`.

Each function, method and class whose docstring opens with a one-sentence summary and that fits a 512-token training row becomes
`# write a function that <summary> in python` -> a fenced copy of its source, in the SmolLM2 SFT tutorial's style.
The standard library is under the PSF License. Rows are built in a fixed order (files by path, definitions by
position), cached as JSONL in the user cache with a sidecar that records the builder version and why every other
definition was left out; `python -m trl_sft_plus.data.stdlib_code` prints that report.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import io
import json
import os
import re
import sys
import sysconfig
import textwrap
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from datasets import Dataset
from filelock import FileLock

# The cache is valid for this exact builder: any edit to this file rebuilds it.
BUILDER_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
MAX_LINES = 40
MAX_CHARS = 1500
MIN_SUMMARY_CHARS = 10
MAX_SUMMARY_CHARS = 150
# Folders that hold tests, demos, vendored or generated code, or packages installed beside the standard library.
SKIP_DIRS = frozenset(
    "test tests idle_test idlelib lib2to3 turtledemo site-packages dist-packages __pycache__ pydoc_data ensurepip "
    "__phello__ lib-dynload".split()
)
GENERATED = re.compile(r"auto-?generated|generated (?:by|from)|do not edit", re.IGNORECASE)
_SENTENCE_START = re.compile(r"[A-Za-z][A-Za-z'-]*(?:\s|$)")  # a plain word: no call signature, markup or quote
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)\.(?:\s|$)")


class StdlibDatasetError(RuntimeError):
    """The standard library yielded too few rows, or its folder is missing; the message gives the counts."""


@dataclass
class MiningResult:
    rows: list[dict]
    skipped: Counter = field(default_factory=Counter)  # reason -> definitions (or "whole file: ..." files) left out
    files: int = 0


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def cache_path() -> Path:
    from ..models import cache_dir

    return cache_dir() / "datasets" / f"python_stdlib_{python_version()}.jsonl"


def source_files(root: Path) -> Iterator[Path]:
    """Every `.py` file under `root` outside `SKIP_DIRS` and `config-*` build folders, sorted by relative path."""
    for path in sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix()):
        parts = path.relative_to(root).parts[:-1]
        if not any(part in SKIP_DIRS or part.startswith("config-") for part in parts):
            yield path


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def summary_line(docstring: str | None) -> tuple[str | None, str | None]:
    """(prompt phrase, None), or (None, reason): the first sentence of the docstring's first paragraph, joined into
    one line when it wraps, must be a plain sentence of moderate length."""
    if not docstring:
        return None, "no docstring"
    paragraph = " ".join(docstring.strip().split("\n\n")[0].split())
    end = _SENTENCE_END.search(paragraph)
    first = (paragraph[: end.start()] if end else paragraph).rstrip(". ")
    if not (MIN_SUMMARY_CHARS <= len(first) <= MAX_SUMMARY_CHARS):
        return None, "summary too short or too long"
    if not first.isascii() or not _SENTENCE_START.match(first):
        return None, "summary not a plain sentence"
    if len(first) > 1 and not first[1].isupper():  # keep acronyms such as "HTTP ..." as written
        first = first[0].lower() + first[1:]
    return first, None


def source_lines(text: str) -> list[str]:
    """The lines `ast` numbers: split on \\n, \\r\\n and \\r only (str.splitlines also splits on form feeds)."""
    return io.StringIO(text, newline="").readlines()


def definition_source(lines: list[str], node: ast.AST) -> str:
    """The definition's source from its first decorator to its end, dedented so that a method stands alone.

    Written by hand instead of `ast.get_source_segment(padded=True)` because that re-splits the whole file on every
    call, which took most of a full build's time (benchmarks/README.md, "One-time costs").
    """
    start = node.decorator_list[0] if node.decorator_list else node
    first, end = start.lineno - 1, node.end_lineno
    column = start.col_offset - (1 if node.decorator_list else 0)  # a decorator's offset is after its "@"
    segment = [line.encode() for line in lines[first:end]]
    segment[-1] = segment[-1][: node.end_col_offset]
    segment[0] = b" " * column + segment[0][column:]
    return textwrap.dedent(b"".join(segment).decode().replace("\r\n", "\n")).strip("\n")


_BLOCKS = (ast.If, ast.Try, ast.With)  # module- or class-level code that defines things conditionally


def definitions(body: list[ast.stmt], prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    """Functions and classes at module or class level, and the methods of those classes, in source order; also those
    inside `if`/`try`/`with` blocks (platform and import fallbacks), but never those nested in functions."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield prefix + node.name, node
            if isinstance(node, ast.ClassDef):
                yield from definitions(node.body, f"{prefix}{node.name}.")
        elif isinstance(node, _BLOCKS):
            for block in ("body", "orelse", "finalbody"):
                yield from definitions(getattr(node, block, []), prefix)
            for handler in getattr(node, "handlers", []):
                yield from definitions(handler.body, prefix)


def code_row(node: ast.AST, qualname: str, module: str, lines: list[str]) -> tuple[dict | None, str | None]:
    """(row, None) for a definition that qualifies on its own, else (None, the reason it does not)."""
    summary, reason = summary_line(ast.get_docstring(node))
    if reason is not None:
        return None, reason
    source = definition_source(lines, node)
    if source.count("\n") + 1 > MAX_LINES or len(source) > MAX_CHARS:
        return None, "too long"
    try:
        ast.parse(source)
    except SyntaxError:
        return None, "does not parse on its own"
    kind = "class" if isinstance(node, ast.ClassDef) else "function"
    messages = [
        {"role": "user", "content": f"# write a {kind} that {summary} in python"},
        {"role": "assistant", "content": f"```python\n{source}\n```"},
    ]
    return {"messages": messages, "source": f"{module}:{qualname}"}, None


def mine_file(path: Path, root: Path, result: MiningResult, seen: set[str]) -> None:
    """Append the file's qualifying definitions to `result`; `seen` holds the prompts and answers already used."""
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (UnicodeDecodeError, SyntaxError, ValueError):
        result.skipped["whole file: not valid UTF-8 Python"] += 1
        return
    if GENERATED.search("\n".join(text.splitlines()[:15])):
        result.skipped["whole file: generated"] += 1
        return
    result.files += 1
    lines = source_lines(text)
    module = module_name(path, root)
    for qualname, node in definitions(tree.body):
        row, reason = code_row(node, qualname, module, lines)
        if row is not None:
            prompt, answer = (message["content"] for message in row["messages"])
            reason = "duplicate code" if answer in seen else "duplicate prompt" if prompt in seen else None
        if reason is not None:
            result.skipped[reason] += 1
            continue
        seen.update((prompt, answer))
        result.rows.append(row)


def mine_stdlib(root: Path | None = None) -> MiningResult:
    """Mine every eligible definition under `root` (the running interpreter's standard library by default)."""
    root = root or stdlib_dir()
    if not root.is_dir():
        raise StdlibDatasetError(f"The standard library folder {root} does not exist.")
    result = MiningResult(rows=[])
    seen: set[str] = set()
    for path in source_files(root):
        mine_file(path, root, result, seen)
    return result


def _read_cache(path: Path) -> list[dict] | None:
    meta = path.with_suffix(".meta.json")
    if not (path.is_file() and meta.is_file()):
        return None
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None
    if info.get("builder_version") != BUILDER_VERSION or info.get("stdlib") != str(stdlib_dir()):
        return None
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows if len(rows) == info.get("rows") else None


def _write_cache(path: Path, result: MiningResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in result.rows), encoding="utf-8")
    tmp.replace(path)
    info = {
        "builder_version": BUILDER_VERSION,
        "python": python_version(),
        "stdlib": str(stdlib_dir()),
        "rows": len(result.rows),
        "files": result.files,
        "skipped": dict(sorted(result.skipped.items())),
    }
    path.with_suffix(".meta.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def build_stdlib_dataset(min_rows: int = 5000, cache: bool = True) -> Dataset:
    """The mined rows (`messages`, `source`) as a `Dataset`; read from the cache when it matches this builder."""
    path = cache_path()
    rows = None
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock"):  # several ranks or test workers may build at once
            rows = _read_cache(path)
            if rows is None:
                result = mine_stdlib()
                _write_cache(path, result)
                rows = result.rows
    else:
        result = mine_stdlib()
        rows = result.rows
    if len(rows) < min_rows:
        raise StdlibDatasetError(
            f"The standard library at {stdlib_dir()} gave {len(rows)} code rows, fewer than min_rows={min_rows}; "
            f"see {path.with_suffix('.meta.json')} for the reasons definitions were left out."
        )
    return Dataset.from_list(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Mine the standard library into code rows and report the counts.")
    parser.add_argument("--no-cache", action="store_true", help="rebuild and rewrite the cache")
    args = parser.parse_args(argv)
    if args.no_cache:
        _write_cache(cache_path(), mine_stdlib())
    dataset = build_stdlib_dataset(min_rows=0)
    info = json.loads(cache_path().with_suffix(".meta.json").read_text(encoding="utf-8"))
    print(f"{len(dataset)} rows from {info['files']} files of {info['stdlib']} (cache: {cache_path()})")
    for reason, count in sorted(info["skipped"].items(), key=lambda item: -item[1]):
        print(f"  skipped {count:6d}  {reason}")


if __name__ == "__main__":
    main()
