"""`python -m evals noise RUN.json ...`: how noisy are reruns of one commit, and what can a gate on them catch?

Give it the results.json of several reruns of an unchanged commit (the multi-run baseline). Per task and tracked
metric it reports:
- the spread of the runs' means (mean, std, min, max) and the rerun bound the gate derives from it with all runs;
- false alarms, leave-one-out: each run gated against the others with the real gate (`gate_runs`, or the single-run
  gate when only one other run is left). A rerun must pass, so every failure here is a false alarm;
- power: a held-out run is degraded by setting the metric's worst value (0 where higher is better, 1 where lower is:
  tracked metrics lie in [0, 1]) on a share of the task's prompts, chosen at random among those not already at it,
  and gated with the rerun bound of the gate built from all runs (the one CI uses) against the mean of the other
  runs (so the run is not compared with itself). Reported: the power at `effect` (a share of prompts) and the
  smallest share caught with at least `target` power, with the mean change it causes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .gate import DEFAULT_TOLERANCE, TRACKED_METRICS, GateError, check_against_baseline
from .gate_runs import FAMILY_ALPHA, CheckData, alpha_per_check, check_against_runs, check_bound, check_data, regressed
from .results import prompt_scores
from .stats import direction

DEFAULT_EFFECT = 0.10  # share of a task's prompts set to the metric's worst value
DEFAULT_TARGET_POWER = 0.80
DEFAULT_DRAWS = 60  # degraded runs per power estimate, spread over the held-out runs
SIMULATION_RESAMPLES = 999  # bootstrap resamples per simulated gate: the gate's 9999 would take minutes here


@dataclass(frozen=True)
class CheckNoise:
    task: str
    metric: str
    n: int
    run_means: list[float]
    spread: float
    rerun_bound: float
    threshold: float
    false_alarms: int  # leave-one-out runs that regressed on this check
    power_at_effect: float
    smallest_share: float | None  # smallest share of prompts degraded that is caught with the target power
    smallest_change: float | None  # the mean change that degradation causes (signed)


@dataclass
class NoiseReport:
    runs: list[str]
    effect: float
    target_power: float
    family_alpha: float
    draws: int
    checks: list[CheckNoise]
    failed_runs: dict[str, list[str]]  # run -> the checks it regressed on, leave-one-out
    environments: dict[str, str] = field(default_factory=dict)

    @property
    def false_alarm_rate(self) -> float:
        return len(self.failed_runs) / len(self.runs)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "false_alarm_rate": self.false_alarm_rate}


def worst_value(metric: str) -> float:
    return 0.0 if direction(metric) > 0 else 1.0


def _outcomes(
    item: CheckData, held_out_draws: int, k: int, threshold: float, rng: np.random.Generator, n_resamples: int
) -> Iterator[tuple[bool, float]]:
    """Gate decisions (and the mean change the degradation caused) for degraded held-out runs, run after run in
    turn so that stopping early does not favour one run."""
    runs = item.runs
    worst = worst_value(item.metric)
    references = [np.delete(runs, held_out, axis=0).mean(axis=0) for held_out in range(len(runs))]
    for _ in range(held_out_draws):
        for held_out, reference in enumerate(references):
            degraded = runs[held_out].copy()
            eligible = np.flatnonzero(degraded != worst)
            degraded[rng.choice(eligible, size=min(k, eligible.size), replace=False)] = worst
            change = float(np.mean(degraded - runs[held_out]))
            yield _decision(item.metric, np.sort(degraded - reference).tobytes(), threshold, n_resamples), change


@functools.lru_cache(maxsize=65536)
def _decision(metric: str, sorted_differences: bytes, threshold: float, n_resamples: int) -> bool:
    """`gate_runs.regressed` on the sorted changes: the interval does not depend on the prompts' order, and draws
    that degrade different prompts of the same score give the same sorted changes, so one bootstrap serves them."""
    return regressed(metric, np.frombuffer(sorted_differences), threshold, n_resamples=n_resamples)


def _power(
    item: CheckData, k: int, threshold: float, draws: int, n_resamples: int, seed: int, stop_below: float | None = None
) -> tuple[float, float]:
    """(power, mean change) with `k` prompts degraded; with `stop_below`, stops once the power is known to be below
    or at least that (only which side is then meaningful)."""
    per_run = math.ceil(draws / len(item.runs))
    total = per_run * len(item.runs)
    rng = np.random.default_rng([seed, k])
    caught = done = 0
    changes = []
    for hit, change in _outcomes(item, per_run, k, threshold, rng, n_resamples):
        caught, done = caught + hit, done + 1
        changes.append(change)
        if stop_below is not None and (caught >= stop_below * total or done - caught > (1 - stop_below) * total):
            return (1.0 if caught >= stop_below * total else 0.0), float(np.mean(changes))
    return caught / done, float(np.mean(changes))


def smallest_caught(
    item: CheckData, threshold: float, target: float, draws: int, n_resamples: int, seed: int
) -> tuple[float | None, float | None]:
    """Binary search over the number of degraded prompts (power grows with it) for the fewest caught with `target`
    power; (share of prompts, mean change) or (None, None) when even every eligible prompt is not enough."""
    n = item.candidate.size

    def reaches(k: int) -> bool:
        return _power(item, k, threshold, draws, n_resamples, seed, stop_below=target)[0] >= target

    if n == 0 or not reaches(n):
        return None, None
    low, high = 0, n  # reaches(high) is True; reaches(low) is taken as False
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if reaches(middle) else (middle, high)
    return high / n, _power(item, high, threshold, draws, n_resamples, seed)[1]


def _environment_summary(results: Mapping[str, Any]) -> str:
    environment = results.get("environment")
    if not environment:
        return "no environment block"
    training = environment.get("training") or {}
    generation = environment.get("generation") or {}
    flags = ",".join(generation.get("cpu_flags") or []) or "-"
    return (
        f"training seed {training.get('seed', '?')}, bf16 {training.get('bf16', '?')}, "
        f"{training.get('torch_threads', '?')} threads; cpu {generation.get('cpu', '?')} ({flags})"
    )


def leave_one_out(
    runs: Sequence[tuple[str, Mapping[str, Any]]], family_alpha: float = FAMILY_ALPHA, **gate_kwargs: Any
) -> dict[str, list[str]]:
    """Each run gated against the others with the real gate: run -> the checks it regressed on (failed runs only)."""
    failed = {}
    for index, (name, results) in enumerate(runs):
        others = [run for other, run in enumerate(runs) if other != index]
        if len(others) == 1:
            report = check_against_baseline(results, others[0][1], others[0][0], **gate_kwargs)
        else:
            report = check_against_runs(results, others, family_alpha=family_alpha, **gate_kwargs)
        if not report.passed:
            failed[name] = [f"{check.metric} on {check.task}" for check in report.regressions]
    return failed


def noise_report(
    runs: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    effect: float = DEFAULT_EFFECT,
    target_power: float = DEFAULT_TARGET_POWER,
    draws: int = DEFAULT_DRAWS,
    family_alpha: float = FAMILY_ALPHA,
    tolerances: Mapping[str, float] | None = None,
    default_tolerance: float = DEFAULT_TOLERANCE,
    metrics: Sequence[str] = TRACKED_METRICS,
    n_resamples: int = SIMULATION_RESAMPLES,
    seed: int = 0,
) -> NoiseReport:
    """Spread, leave-one-out false alarms and power of the gate built from `runs` (see the module docstring)."""
    if len(runs) < 2:
        raise GateError("The noise report needs the results of at least two reruns.")
    if not (0 < effect <= 1 and 0 < target_power < 1 and draws >= 1):
        raise GateError(f"Need 0 < effect <= 1, 0 < power < 1 and draws >= 1; got {effect}, {target_power}, {draws}")
    tolerances = tolerances or {}
    failed = leave_one_out(
        runs,
        family_alpha,
        tolerances=tolerances,
        default_tolerance=default_tolerance,
        metrics=metrics,
        n_resamples=n_resamples,
    )
    scores = [prompt_scores(results["generations"], "tuned") for _, results in runs]
    data, _ = check_data(scores[0], scores, metrics)
    alpha = alpha_per_check(data, family_alpha)
    checks = []
    for index, item in enumerate(data):
        bound = check_bound(item, alpha)
        threshold = max(tolerances.get(item.metric, default_tolerance), bound)
        n = item.candidate.size
        k = max(1, round(effect * n))
        power, _ = _power(item, k, threshold, draws, n_resamples, seed + index)
        share, change = smallest_caught(item, threshold, target_power, draws, n_resamples, seed + index)
        label = f"{item.metric} on {item.task}"
        checks.append(
            CheckNoise(
                item.task,
                item.metric,
                n,
                [float(mean) for mean in item.run_means],
                item.spread,
                bound,
                threshold,
                sum(label in regressions for regressions in failed.values()),
                power,
                share,
                change,
            )
        )
    return NoiseReport(
        [name for name, _ in runs],
        effect,
        target_power,
        family_alpha,
        draws,
        checks,
        failed,
        {name: _environment_summary(results) for name, results in runs},
    )


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def noise_lines(report: NoiseReport) -> list[str]:
    """The report as plain text: a table per check, then the leave-one-out verdicts."""
    count = len(report.runs)
    lines = [f"{count} runs:"]
    lines += [f"  {name}: {summary}" for name, summary in report.environments.items()]
    header = (
        f"{'task':<8} {'metric':<13} {'n':>3} {'mean':>6} {'std':>6} {'min':>6} {'max':>6} {'bound':>6} "
        f"{'thresh':>6} {'LOO FA':>6} {'power@' + format(report.effect, '.0%'):>10} "
        f"{'share for ' + format(report.target_power, '.0%'):>13} {'change':>7}"
    )
    lines += ["", header, "-" * len(header)]
    for check in report.checks:
        means = np.array(check.run_means)
        lines.append(
            f"{check.task:<8} {check.metric:<13} {check.n:>3} {means.mean():>6.3f} {check.spread:>6.3f} "
            f"{means.min():>6.3f} {means.max():>6.3f} {check.rerun_bound:>6.3f} {check.threshold:>6.3f} "
            f"{f'{check.false_alarms}/{count}':>6} {check.power_at_effect:>10.2f} "
            f"{_fmt(check.smallest_share, '.0%'):>13} {_fmt(check.smallest_change, '+.3f'):>7}"
        )
    lines += [
        "",
        f"bound: the gate's rerun bound with all {count} runs (family-wise alpha {report.family_alpha}); thresh: "
        "max(tolerance, bound), the change a regression must exceed.",
        f"power@{report.effect:.0%}: share of {report.draws} degraded held-out runs that fail the gate when "
        f"{report.effect:.0%} of the task's prompts get the metric's worst value; share for "
        f"{report.target_power:.0%}: the smallest such share caught that often ('-': none), change: the mean change "
        "it causes.",
        "",
        f"Leave-one-out false alarms: {len(report.failed_runs)} of {count} runs failed the gate against the others "
        f"({report.false_alarm_rate:.0%}; target at most {report.family_alpha:.0%})"
        + (" - with two runs each is gated against one, the single-run gate" if count == 2 else ""),
    ]
    lines += [f"  {name}: {', '.join(checks)}" for name, checks in report.failed_runs.items()]
    return lines
