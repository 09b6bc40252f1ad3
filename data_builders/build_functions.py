"""Build the shipped `python-functions` rows, `trl_sft_plus/data/python_functions.jsonl`: standalone functions (and
a few classes, only where the prompt asks for one) that do what their prompt says, each verified by running its tests.

Deterministic and re-runnable: `python -m data_builders.build_functions` (from the repository root) rewrites the file
byte for byte. The tasks, their reference solutions and their assert lines are in `function_bank.txt` (read by `function_bank.py`). Before a row is
written the builder checks that its code parses, defines the name and arguments its prompt states, has no `self`
outside a class, is short, shares no function name, prompt or near-duplicate prompt with the evaluation suite
(`evals/suites/python.jsonl`), passes all its tests in the project's sandbox and fails them with a trivially wrong
answer. It refuses to write anything when one row breaks a rule, naming the row.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .build_haiku import DATA_DIR, write_jsonl
from .function_bank import BANK

FUNCTIONS_FILE = DATA_DIR / "python_functions.jsonl"
SUITE_FILE = Path(__file__).resolve().parents[1] / "evals" / "suites" / "python.jsonl"
SEED = 1515
MAX_ANSWER_CHARS = 600
MAX_JACCARD = 0.6
SIGNATURE = re.compile(r"`((\w+)\(([^)]*)\))`")

FUNCTION_PROMPTS = (
    ("# write a function `{sig}` that {does} in python", 4),
    ("Write a Python function `{sig}` that {does}.", 2),
    ("# python: define `{sig}`, which {does}", 1),
    ("# write a python function `{sig}` that {does}", 1),
    ("Write a function `{sig}` in Python that {does}.", 1),
)
CLASS_PROMPTS = (
    ("# write a class `{sig}` that {does} in python", 2),
    ("Write a Python class `{sig}` that {does}.", 1),
    ("# python: define a class `{sig}`, which {does}", 1),
)


class FunctionDataError(ValueError):
    """A task that breaks the rules of the shipped function rows; the message names it."""


@dataclass(frozen=True)
class Task:
    category: str
    signature: str  # "name(arg, other=1)", as the prompt states it
    does: str  # what it does, a clause after "that": "returns ..."
    code: str  # the reference solution, imports included
    tests: tuple[str, ...]
    is_class: bool = False

    @property
    def name(self) -> str:
        return self.signature.split("(", 1)[0]

    @property
    def arguments(self) -> list[str]:
        inside = self.signature.split("(", 1)[1].rstrip(")")
        return [part.split("=")[0].strip() for part in inside.split(",") if part.strip()]


def parse_bank(text: str) -> list[Task]:
    """Read the bank's plain format: `== category`, then per task `@ sig | does` (`@@` for a class), its body (or
    full code when it has a top-level `def`/`class`) and `? test` lines (an expression to assert, or statements
    separated by ` ;; `)."""
    tasks, category, current = [], "", None

    def finish():
        if current is not None:
            tasks.append(_task(category, *current))

    for line in text.splitlines():
        if line.startswith("== "):
            finish()
            category, current = line[3:].strip(), None
        elif line.startswith(("@ ", "@@ ")):
            finish()
            is_class = line.startswith("@@ ")
            head, does = line.lstrip("@ ").split(" | ", 1)
            current = (head.strip(), does.strip(), [], [], is_class)
        elif line.startswith("? "):
            current[3].append(line[2:].strip())
        elif current is not None and not current[3]:
            current[2].append(line)
        elif line.strip():
            raise FunctionDataError(f"Bank line outside a task body: {line!r}")
    finish()
    return tasks


def _task(category: str, signature: str, does: str, body: list[str], tests: list[str], is_class: bool) -> Task:
    while body and not body[-1].strip():
        body.pop()
    full = is_class or any(line.startswith(("def ", "class ")) for line in body)
    if full:
        code = "\n".join(body)
    else:
        imports = [line for line in body if line.startswith(("import ", "from "))]
        rest = [line for line in body if line not in imports]
        head = "\n".join(imports) + "\n\n\n" if imports else ""
        code = head + f"def {signature}:\n" + "\n".join(f"    {line}" if line.strip() else "" for line in rest)
    asserts = []
    for test in tests:
        if " ;; " in test:
            asserts.append("\n".join(part.rstrip() for part in test.split(" ;; ")))
        else:
            asserts.append(f"assert {test}")
    return Task(category, signature, does, code, tuple(asserts), is_class)


def answer_of(task: Task) -> str:
    return f"```python\n{task.code}\n```"


def prompt_of(task: Task, rng: random.Random) -> str:
    templates = CLASS_PROMPTS if task.is_class else FUNCTION_PROMPTS
    template = rng.choices([t for t, _ in templates], weights=[w for _, w in templates])[0]
    return template.format(sig=task.signature, does=task.does)


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def jaccard(first: str, second: str) -> float:
    a, b = words(first), words(second)
    return len(a & b) / len(a | b) if a | b else 1.0


def normalise(prompt: str) -> str:
    return " ".join(re.findall(r"[a-z0-9_]+", prompt.lower()))


def load_suite(path: Path = SUITE_FILE) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def suite_names(suite: Sequence[dict]) -> set[str]:
    return {match.group(2) for row in suite if (match := SIGNATURE.search(row["prompt"]))}


def wrong_answer(name: str) -> str:
    """A trivially wrong answer with the asked-for name: a function returning None, or a class doing nothing."""
    if name[0].isupper():
        return (
            f"class {name}:\n    def __init__(self, *args, **kwargs):\n        pass\n\n"
            "    def __getattr__(self, attr):\n        return lambda *args, **kwargs: None"
        )
    return f"def {name}(*args, **kwargs):\n    return None"


def static_problem(task: Task) -> str | None:
    """Why a task's code breaks a rule that needs no running, or None."""
    try:
        tree = ast.parse(task.code)
    except SyntaxError as error:
        return f"does not parse: {error}"
    kind = ast.ClassDef if task.is_class else ast.FunctionDef
    defined = [node for node in tree.body if isinstance(node, kind) and node.name == task.name]
    if len(defined) != 1:
        return f"does not define {task.name!r} at the top level"
    if not task.is_class:
        node = defined[0]
        stated = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
        if stated != task.arguments:
            return f"defines arguments {stated}, the prompt states {task.arguments}"
        if any(
            isinstance(n, ast.Name) and n.id == "self" or isinstance(n, ast.arg) and n.arg == "self"
            for n in ast.walk(tree)
        ):
            return "uses `self` outside a class"
    tops = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    if not all(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in tops):
        return "has top-level code besides imports and definitions"
    if len(answer_of(task)) > MAX_ANSWER_CHARS:
        return f"answer is {len(answer_of(task))} characters, over {MAX_ANSWER_CHARS}"
    if not 2 <= len(task.tests) <= 5:
        return f"has {len(task.tests)} tests, expected 2-5"
    return None


def overlap_problem(task: Task, prompt: str, suite: Sequence[dict], names: set[str]) -> str | None:
    """Why a row is too close to the evaluation suite, or None."""
    if task.name in names:
        return f"{task.name!r} is a suite function"
    text = prompt + "\n" + task.code
    used = sorted(name for name in names if re.search(rf"\b{name}\b", text))
    if used:
        return f"mentions suite names {used}"
    for row in suite:
        if normalise(row["prompt"]) == normalise(prompt):
            return f"repeats suite prompt {row['id']}"
        if (score := jaccard(row["prompt"], prompt)) >= MAX_JACCARD:
            return f"near-duplicate of suite prompt {row['id']} (word Jaccard {score:.2f})"
    return None


def build(seed: int = SEED, *, verify: bool = True) -> list[dict]:
    """All rows, checked; with `verify`, every row's tests also run in the sandbox on its answer and on a wrong one."""
    tasks = parse_bank(BANK)
    rng = random.Random(seed)
    suite = load_suite()
    names = suite_names(suite)
    problems, rows = [], []
    seen: dict[str, set] = {"name": set(), "code": set(), "prompt": set()}
    for task in tasks:
        prompt = prompt_of(task, rng)
        problem = static_problem(task) or overlap_problem(task, prompt, suite, names)
        for key, value in (("name", task.name), ("code", task.code), ("prompt", normalise(prompt))):
            if value in seen[key]:
                problem = problem or f"repeats a {key}"
            seen[key].add(value)
        if problem:
            problems.append(f"{task.signature}: {problem}")
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer_of(task)}]
        rows.append({"messages": messages, "tests": list(task.tests), "category": task.category, "source": "written"})
    if verify and not problems:
        problems = run_problems(tasks)
    if problems:
        raise FunctionDataError(f"{len(problems)} task(s) break the rules:\n" + "\n".join(problems))
    return rows


def run_problems(tasks: Sequence[Task]) -> list[str]:
    """Run every task's tests on its reference (all must pass) and on a trivially wrong answer (one must fail)."""
    from trl_sft_plus.validation.sandbox import run_many

    jobs = [(task.code, task.tests) for task in tasks] + [(wrong_answer(task.name), task.tests) for task in tasks]
    results = run_many(jobs)
    problems = []
    for task, good, bad in zip(tasks, results[: len(tasks)], results[len(tasks) :], strict=True):
        if not all(good.passed) or good.setup_error:
            detail = good.setup_error or next(e for e in good.errors if e)
            problems.append(f"{task.signature}: its reference fails: {detail}")
        if all(bad.passed):
            problems.append(f"{task.signature}: a wrong answer passes every test")
    return problems


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FUNCTIONS_FILE)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    rows = build(args.seed)
    count = write_jsonl(rows, args.out)
    classes = sum(row["category"] == "classes" for row in rows)
    print(f"wrote {count} rows ({classes} classes) to {args.out}")


if __name__ == "__main__":
    main()
