"""Scorers: name -> callable on one generated sample, returning numbers. Used by the validator, the repetition monitor,
the eval harness and the lm-eval task utils, so every tool reports the same definitions.

A scorer takes a `Sample` and returns a float (named after the scorer) or a dict of floats. Register your own with
`@register_scorer("name")`, or pass a callable taking `(prompt, completion, reference)`.
"""

from __future__ import annotations

import ast
import inspect
import math
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from ..code_blocks import python_code
from ..repetition.metrics import duplicate_line_fraction, repetition_metrics, tail_loop_period, words


@dataclass(frozen=True)
class Sample:
    """One prompt's generation, with what is known about how it ended (`finished`: EOS before the token limit)."""

    prompt: str
    completion: str
    reference: str | None = None
    finished: bool | None = None
    task: str | None = None
    tests: tuple[str, ...] = ()  # assert lines run against the answer's code by `python_pass`, when allowed


ScorerFn = Callable[[Sample], "float | dict[str, float]"]
SCORERS: dict[str, ScorerFn] = {}
HIGHER_IS_BETTER, LOWER_IS_BETTER, NOT_DIRECTIONAL = 1, -1, 0
# Which way is better for each metric, declared where its scorer is registered; the statistics, the regression gate
# and the lm-eval task template all read it from here
METRIC_DIRECTIONS: dict[str, int] = {}
TASK_SCORERS: dict[str, list[str]] = {"haiku": ["haiku"], "python": ["python"], "chat": []}
DEFAULT_SCORERS = ["repetition", "eos"]


def register_scorer(
    name: str, *, tasks: Iterable[str] = (), higher: Iterable[str] = (), lower: Iterable[str] = ()
) -> Callable[[Callable], ScorerFn]:
    """Decorator: register `fn` under `name`, make it apply to rows whose `task` is in `tasks`, and declare which of
    its metrics are better `higher` and which `lower` (metrics in neither have no better side)."""

    def decorator(fn: Callable) -> ScorerFn:
        SCORERS[name] = as_scorer(fn)
        declare_directions(higher=higher, lower=lower)
        for task in tasks:
            TASK_SCORERS.setdefault(task, [])
            if name not in TASK_SCORERS[task]:
                TASK_SCORERS[task].append(name)
        return fn

    return decorator


def declare_directions(*, higher: Iterable[str] = (), lower: Iterable[str] = ()) -> None:
    METRIC_DIRECTIONS.update(dict.fromkeys(higher, HIGHER_IS_BETTER) | dict.fromkeys(lower, LOWER_IS_BETTER))


def direction(metric: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 for metrics without a better side (user scorers)."""
    return METRIC_DIRECTIONS.get(metric, NOT_DIRECTIONAL)


def as_scorer(fn: Callable) -> ScorerFn:
    """Accept `fn(sample)` or the plain `fn(prompt, completion, reference)` form."""
    params = [
        p for p in inspect.signature(fn).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(params) >= 3:
        return lambda sample: fn(sample.prompt, sample.completion, sample.reference)
    return fn


def resolve_scorers(names_or_fns: Iterable[str | Callable]) -> dict[str, ScorerFn]:
    resolved = {}
    for item in names_or_fns:
        if callable(item):
            resolved[getattr(item, "__name__", repr(item))] = as_scorer(item)
        elif item in SCORERS:
            resolved[item] = SCORERS[item]
        else:
            raise KeyError(f"Unknown scorer {item!r}; registered scorers: {', '.join(sorted(SCORERS))}")
    return resolved


CODE_EXECUTION_ENV = "HF_ALLOW_CODE_EVAL"  # lm-eval's and `evaluate`'s switch for running generated code


def code_execution_allowed(allow: bool = False) -> bool:
    """Whether generated code may run: an explicit opt-in, or `HF_ALLOW_CODE_EVAL=1` as with lm-eval."""
    return allow or os.environ.get(CODE_EXECUTION_ENV, "") == "1"


def scorers_for(
    sample: Sample, base: dict[str, ScorerFn], *, allow_code_execution: bool = False
) -> dict[str, ScorerFn]:
    """The base scorers, plus the task's scorers, plus `reference` when the sample carries one, plus `python_pass`
    when it carries tests and running generated code is allowed (`code_execution_allowed`); without the opt-in the
    metric is absent, not 0."""
    chosen = dict(base)
    if sample.task is not None:
        if sample.task not in TASK_SCORERS:
            raise KeyError(f"Unknown task {sample.task!r}; known tasks: {', '.join(sorted(TASK_SCORERS))}")
        chosen.update({name: SCORERS[name] for name in TASK_SCORERS[sample.task]})
    if sample.reference:
        chosen["reference"] = SCORERS["reference"]
    if sample.tests and code_execution_allowed(allow_code_execution):
        chosen["python_pass"] = SCORERS["python_pass"]
    return chosen


def score_sample(sample: Sample, scorers: dict[str, ScorerFn]) -> tuple[dict[str, float], dict[str, str]]:
    """All scores of one sample. A scorer that raises yields NaN for its name and an error string, never a crash."""
    scores: dict[str, float] = {}
    errors: dict[str, str] = {}
    for name, fn in scorers.items():
        try:
            value = fn(sample)
        except Exception as error:  # noqa: BLE001 - one bad sample must not kill an evaluation
            scores[name] = math.nan
            errors[name] = f"{type(error).__name__}: {error}"
            continue
        if isinstance(value, dict):
            scores.update({key: float(v) for key, v in value.items()})
        else:
            scores[name] = float(value)
    return scores, errors


@lru_cache(maxsize=1)
def default_scorers() -> dict[str, ScorerFn]:
    """The scorers every generation gets (repetition, EOS); task, reference and test scorers are added per sample."""
    return resolve_scorers(DEFAULT_SCORERS)


# Repetition and EOS ----------------------------------------------------------------------------------------------


_QUOTED_CODE = re.compile(r"`[^`\n]+`")


@register_scorer(
    "repetition",
    higher=["distinct_1", "distinct_2"],
    lower=["seq_rep_2", "seq_rep_4", "rep_16", "dup_line_frac", "lrs_share", "prompt_echo", "loop"],
)
def repetition_scorer(sample: Sample) -> dict[str, float]:
    """Repetition metrics over the completion's words (text-level, so lm-eval reproduces them from text alone).

    `prompt_echo` leaves out the prompt's quoted code spans: a prompt that asks for `snake_move(head, direction)`
    wants those names back, and writing them is following the request, not echoing it."""
    prompt = _QUOTED_CODE.sub(" ", sample.prompt)
    metrics = repetition_metrics(words(sample.completion), sample.completion, prompt)
    metrics.pop("num_tokens")
    return metrics


@register_scorer("eos", higher=["eos_rate"])
def eos_scorer(sample: Sample) -> dict[str, float]:
    """`eos_rate`: 1 when generation ended with EOS before the token limit; NaN when unknown."""
    return {"eos_rate": math.nan if sample.finished is None else float(sample.finished)}


# Haiku -------------------------------------------------------------------------------------------------------------

HAIKU_PATTERN = (5, 7, 5)
_LETTERS = re.compile(r"[a-z]+(?:'[a-z]+)?")
_TOPIC = re.compile(r"\babout\s+(.+?)[.?!]*$", re.IGNORECASE)
_STOPWORDS = frozenset("a an the of and or to in on for with my your our its their this that".split())


_CMUDICT_LOCK = threading.Lock()


def _pronouncing():
    """`pronouncing` with CMUdict loaded. Its lazy loader publishes the table before it fills the word index, and
    validation scores samples on a thread pool when code runs: a thread that looked a word up meanwhile found none and
    cached syllapy's estimate for the whole run. Loading under a lock makes the others wait for the full index."""
    import pronouncing

    with _CMUDICT_LOCK:
        pronouncing.init_cmu()
    return pronouncing


@lru_cache(maxsize=65536)
def word_syllables(word: str) -> frozenset[int]:
    """Every syllable count CMUdict gives for `word` (via `pronouncing`); `syllapy`'s estimate when it has none."""
    pronouncing = _pronouncing()
    counts = frozenset(pronouncing.syllable_count(phones) for phones in pronouncing.phones_for_word(word))
    if counts:
        return counts
    import syllapy

    return frozenset({max(1, syllapy.count(word))})


def line_syllables(line: str) -> frozenset[int]:
    """Every total the line can have, combining each word's possible counts."""
    totals = frozenset({0})
    for word in _LETTERS.findall(line.lower()):
        totals = frozenset(t + c for t in totals for c in word_syllables(word))
    return totals


def haiku_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


def is_haiku(text: str) -> bool:
    lines = haiku_lines(text)
    return len(lines) == 3 and all(t in line_syllables(line) for line, t in zip(lines, HAIKU_PATTERN, strict=True))


def topic_words(prompt: str) -> list[str]:
    match = _TOPIC.search(prompt.strip())
    topic = match.group(1) if match else prompt
    return [w for w in _LETTERS.findall(topic.lower()) if w not in _STOPWORDS]


def _stem(word: str) -> str:
    """What two words must share to count as one: the first five letters after a plural -s ("ducks" and "duck",
    "programming" and "program")."""
    return (word[:-1] if len(word) > 3 and word.endswith("s") else word)[:5]


def mentions_topic(prompt: str, poem: str) -> bool:
    """Whether a topic word (matched on its `_stem`, so plurals and -ing forms count) is in the poem."""
    stems = {_stem(w) for w in topic_words(prompt)}
    return bool(stems) and any(_stem(w) in stems for w in _LETTERS.findall(poem.lower()))


@register_scorer(
    "haiku",
    tasks=["haiku"],
    higher=["haiku_valid", "haiku_three_lines", "haiku_on_topic"],
    lower=["haiku_syllable_error"],
)
def haiku_scorer(sample: Sample) -> dict[str, float]:
    """`haiku_valid`: exactly three non-empty lines of 5, 7 and 5 syllables; `haiku_three_lines`; `haiku_syllable_error`
    (summed distance of each line's closest count from its target, NaN without three lines); `haiku_on_topic`."""
    lines = haiku_lines(sample.completion)
    three = len(lines) == 3
    error = math.nan
    if three:
        error = float(
            sum(min(abs(t - c) for c in line_syllables(line)) for line, t in zip(lines, HAIKU_PATTERN, strict=True))
        )
    return {
        "haiku_valid": float(three and error == 0),
        "haiku_three_lines": float(three),
        "haiku_syllable_error": error,
        "haiku_on_topic": float(mentions_topic(sample.prompt, sample.completion)),
    }


# Python ------------------------------------------------------------------------------------------------------------

MAX_CODE_DUPLICATE_LINES = 0.5


@register_scorer(
    "python", tasks=["python"], higher=["python_parses", "python_defines", "python_complete", "python_valid"]
)
def python_scorer(sample: Sample) -> dict[str, float]:
    """Static checks only; generated code is never executed.

    `python_parses`: `ast.parse` succeeds. `python_defines`: a function or class is defined. `python_complete`: the
    code was not cut by the token limit (its fence closed, or generation ended with EOS). `python_valid`: all three,
    and the code is not degenerate (at most half its lines repeat an earlier line, and its tail does not loop).
    """
    text = sample.completion
    code, fence_closed = python_code(text)
    has_fence = "```" in text
    complete = (
        fence_closed or (not has_fence and sample.finished is not False) or (has_fence and bool(sample.finished))
    )
    try:
        tree = ast.parse(code)
        parses = bool(code.strip())
    except (SyntaxError, ValueError):
        tree, parses = None, False
    defines = parses and any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for node in ast.walk(tree)
    )
    degenerate = duplicate_line_fraction(code) > MAX_CODE_DUPLICATE_LINES or tail_loop_period(words(code)) > 0
    return {
        "python_parses": float(parses),
        "python_defines": float(defines),
        "python_complete": float(complete),
        "python_valid": float(parses and defines and complete and not degenerate),
    }


@register_scorer("python_pass", higher=["python_pass", "python_pass_all"])
def python_pass_scorer(sample: Sample) -> dict[str, float]:
    """Runs the answer's code (its first python fence, as `python_valid` reads it) and the row's assert lines in the
    sandbox (`trl_sft_plus.validation.sandbox`), never in this process. Only chosen by `scorers_for` for rows with
    `tests` once code execution is allowed.

    `python_pass`: share of the row's asserts that pass. `python_pass_all`: 1 when every one does. Code that does
    not parse scores 0 without being run.
    """
    if not sample.tests:
        return {}
    code, _ = python_code(sample.completion)
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return {"python_pass": 0.0, "python_pass_all": 0.0}
    from .sandbox import network_allowed, run_tests

    result = run_tests(code, sample.tests, allow_network=network_allowed())
    return {"python_pass": result.fraction, "python_pass_all": float(all(result.passed))}


# Reference ---------------------------------------------------------------------------------------------------------


@register_scorer("reference", higher=["exact_match", "chrf"])
def reference_scorer(sample: Sample) -> dict[str, float]:
    """`exact_match` after whitespace and case normalisation, and `chrf` (sacrebleu's chrF, 0-100)."""
    if not sample.reference:
        return {"exact_match": math.nan, "chrf": math.nan}
    from sacrebleu.metrics import CHRF

    normalise = lambda s: " ".join(s.lower().split())  # noqa: E731
    return {
        "exact_match": float(normalise(sample.completion) == normalise(sample.reference)),
        "chrf": CHRF().sentence_score(sample.completion, [sample.reference]).score,
    }


# Set metrics: one value per task, not per sample
declare_directions(higher=["cross_prompt_distinct", "cross_prompt_distinct_masked"])


def cross_prompt_distinct(completions: Iterable[str]) -> float:
    """Share of distinct completions across prompts: a model that writes one memorised poem for every topic scores
    near 0 even when that poem is a valid haiku."""
    items = [" ".join(c.lower().split()) for c in completions]
    return len(set(items)) / len(items) if items else math.nan


def without_prompt_words(prompt: str, completion: str) -> str:
    """The completion's words, lower case, without those that share their first five letters, after a plural -s,
    with a word of the prompt (so "dog" takes "dogs" and "programming" takes "program")."""
    stems = {_stem(word) for word in _LETTERS.findall(prompt.lower())}
    return " ".join(word for word in _LETTERS.findall(completion.lower()) if _stem(word) not in stems)


def cross_prompt_distinct_masked(prompts: Iterable[str], completions: Iterable[str]) -> float:
    """`cross_prompt_distinct` once each completion loses its own prompt's words: one poem with the topic swapped in
    ("<topic> in the rain / the stones shine bright on the rocks / ...") is one answer here, where the unmasked share
    counts it as distinct for every topic."""
    masked = [without_prompt_words(p, c) for p, c in zip(prompts, completions, strict=True)]
    return cross_prompt_distinct(masked)
