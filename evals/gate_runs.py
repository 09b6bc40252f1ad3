"""The gate against several reruns of the accepted commit: it allows for run-to-run spread, not only for prompts.

Why: the bootstrap interval of `evals.gate` covers which prompts are in the suite, not which training run the model
came from. A rerun of an unchanged commit (another seed, bf16 on or off, another CPU) is another model, and 200 CPU
steps leave enough spread (haiku_valid 0.188 against 0.281) that such a rerun failed the single-run gate (issue 19).

Per task and tracked metric, over the prompts that the candidate and every baseline run scored:
- reference: per prompt, the mean of the R baseline runs' scores;
- run spread s: the standard deviation (ddof 1) of the baseline runs' means;
- rerun bound: t(1 - a; R - 1) * s * sqrt(1 + 1/R), the one-sided prediction bound for how far a new rerun's mean
  falls from the mean of R runs (normal run means; t because s is estimated from R runs). For a pass/fail metric
  (every score 0 or 1: eos_rate, loop, python_valid, haiku_valid) it is at least the binomial bound: a rare failure
  (3 chat answers of 32 that never end, where 14 reruns had 0 or 1) has a skewed count that normal run means
  understate, and the t bound alone failed such a rerun (`binomial_bound`);
- a = family_alpha / m (Bonferroni), m the number of checks whose baseline runs varied: the gate fails when any
  check regresses, so a rerun fails anywhere with probability at most family_alpha, if run means were normal. The
  default is 0.02, not 0.05: on 15 reruns (seeds, bf16 on and off) 0.05 failed 1 of 15 left out (chat prompt echo
  of a bf16 run; bf16 runs spread 2.7 times as much as fp32 ones there), 0.02 none (examples/ci/README.md). A check
  on which every run agreed has bound 0 whatever a is, so it takes no share; the tolerance and the interval guard it.
A check regresses when the paired mean change against the reference is on the bad side by more than
max(tolerance, rerun bound) AND the prompt-bootstrap interval of that change excludes zero (`gate.is_regression`):
the bound keeps reruns from failing, the tolerance ignores changes too small to matter, the interval ignores a change
carried by one or two prompts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

from .environment import environment_checks
from .gate import (
    DEFAULT_TOLERANCE,
    TRACKED_METRICS,
    GateCheck,
    GateError,
    GateReport,
    decoding_notes,
    is_regression,
)
from .results import prompt_scores
from .stats import CONFIDENCE_LEVEL, N_RESAMPLES, direction, paired_bootstrap

FAMILY_ALPHA = 0.02  # nominal chance that a rerun of an unchanged commit fails the gate, all checks together

Scores = Mapping[str, tuple[str, Mapping[str, float]]]  # `evals.results.prompt_scores`


@dataclass(frozen=True)
class CheckData:
    """One task and metric: the baseline runs' scores (runs x prompts) and the candidate's, on the same prompts."""

    task: str
    metric: str
    runs: np.ndarray
    candidate: np.ndarray

    @property
    def reference(self) -> np.ndarray:
        return self.runs.mean(axis=0)

    @property
    def run_means(self) -> np.ndarray:
        return self.runs.mean(axis=1)

    @property
    def spread(self) -> float:
        return float(np.std(self.run_means, ddof=1)) if len(self.runs) > 1 else 0.0


def rerun_bound(spread: float, runs: int, alpha: float) -> float:
    """How far (one-sided, probability 1 - alpha) a new rerun's mean may fall from the mean of `runs` runs."""
    if runs < 2 or spread == 0:
        return 0.0
    return float(scipy_stats.t.ppf(1 - alpha, runs - 1) * spread * math.sqrt(1 + 1 / runs))


def binomial_bound(bad_share: float, prompts: int, alpha: float) -> float:
    """How far (probability 1 - alpha) a new rerun's share of failing prompts may exceed `bad_share`, the baseline
    runs' pooled share, counting its failures as Binomial(prompts, bad_share): halfway between the largest count
    that is still allowed and the smallest that is not."""
    if prompts < 1 or not 0 < bad_share < 1:
        return 0.0
    allowed = float(scipy_stats.binom.isf(alpha, prompts, bad_share))  # the largest k with P(X > k) <= alpha
    return (allowed + 0.5) / prompts - bad_share


def check_bound(check: CheckData, alpha: float) -> float:
    """The rerun bound of one check: the t bound, and for a pass/fail metric at least the binomial bound."""
    bound = rerun_bound(check.spread, len(check.runs), alpha)
    if bound == 0 or not np.isin(check.runs, (0.0, 1.0)).all():
        return bound
    bad = check.runs.mean() if direction(check.metric) < 0 else 1 - check.runs.mean()
    return max(bound, binomial_bound(float(bad), check.runs.shape[1], alpha))


def alpha_per_check(checks: Sequence[CheckData], family_alpha: float) -> float:
    """Bonferroni over the checks whose baseline runs varied (at least one share)."""
    return family_alpha / max(1, sum(check.spread > 0 for check in checks))


def regressed(
    metric: str,
    differences: np.ndarray,
    threshold: float,
    *,
    confidence_level: float = CONFIDENCE_LEVEL,
    n_resamples: int = N_RESAMPLES,
) -> bool:
    """The decision alone from per-prompt changes (candidate - reference), for simulations (`evals.noise`). The
    interval, the costly part, is only computed for a mean change beyond the threshold: it cannot turn a change
    inside the threshold into a regression."""
    if -direction(metric) * float(np.mean(differences)) <= threshold:
        return False
    difference = paired_bootstrap(
        np.zeros_like(differences), differences, confidence_level=confidence_level, n_resamples=n_resamples
    )
    return is_regression(difference.mean, difference.low, difference.high, metric, threshold)


def check_data(
    candidate: Scores, baselines: Sequence[Scores], metrics: Sequence[str] = TRACKED_METRICS
) -> tuple[list[CheckData], list[str]]:
    """The checks to run, each on the prompts where the candidate and every baseline run have a score, and a note for
    each tracked metric that only one side scored (python_pass without --allow-code-execution)."""
    shared = [i for i in candidate if all(i in baseline for baseline in baselines)]
    if not shared:
        raise GateError("The current run and the baseline runs have no prompt ids in common; nothing can be compared.")
    checks, notes = [], []
    for task in dict.fromkeys(candidate[i][0] for i in shared):
        ids = [i for i in shared if candidate[i][0] == task]
        for metric in metrics:
            ours = np.array([candidate[i][1].get(metric, math.nan) for i in ids])
            theirs = np.array([[baseline[i][1].get(metric, math.nan) for i in ids] for baseline in baselines])
            scored_by = (not np.isnan(ours).all(), not np.isnan(theirs).all(axis=1).any())
            if scored_by != (True, True):
                if any(scored_by):
                    side = "this run" if scored_by[1] else "some baseline runs"
                    notes.append(f"{metric} on {task} is not scored in {side}: not gated")
                continue
            keep = ~(np.isnan(ours) | np.isnan(theirs).any(axis=0))
            if keep.any():
                checks.append(CheckData(task, metric, theirs[:, keep], ours[keep]))
            else:
                notes.append(f"{metric} on {task}: no prompt scored by this run and every baseline run: not gated")
    return checks, notes


def check_runs(
    candidate: Scores,
    baselines: Sequence[Scores],
    *,
    against: str,
    tolerances: Mapping[str, float] | None = None,
    default_tolerance: float = DEFAULT_TOLERANCE,
    family_alpha: float = FAMILY_ALPHA,
    metrics: Sequence[str] = TRACKED_METRICS,
    confidence_level: float = CONFIDENCE_LEVEL,
    n_resamples: int = N_RESAMPLES,
) -> GateReport:
    """Gate per-prompt scores of the candidate against those of several baseline runs (the module docstring)."""
    if not 0 < family_alpha < 1:
        raise GateError(f"family_alpha must lie between 0 and 1, got {family_alpha}")
    data, notes = check_data(candidate, baselines, metrics)
    alpha = alpha_per_check(data, family_alpha)
    tolerances = tolerances or {}
    checks = []
    for item in data:
        tolerance = tolerances.get(item.metric, default_tolerance)
        bound = check_bound(item, alpha)
        difference = paired_bootstrap(
            item.reference, item.candidate, confidence_level=confidence_level, n_resamples=n_resamples
        )
        threshold = max(tolerance, bound)
        checks.append(
            GateCheck(
                item.task,
                item.metric,
                difference.mean,
                difference.low,
                difference.high,
                difference.n,
                tolerance,
                direction(item.metric),
                is_regression(difference.mean, difference.low, difference.high, item.metric, threshold),
                runs=len(baselines),
                run_spread=item.spread,
                rerun_bound=bound,
            )
        )
    in_all = set.intersection(*(set(b) for b in baselines))
    report = GateReport(against, checks, len(set(candidate) - in_all), len(set().union(*baselines) - set(candidate)))
    varied = sum(item.spread > 0 for item in data)
    report.notes.append(
        f"{len(baselines)} baseline runs: family-wise false-alarm rate {family_alpha} over {varied} check(s) whose "
        f"runs varied (one-sided {alpha:.4f} each); the others are guarded by the tolerance and the interval"
    )
    report.notes.extend(notes)
    return report


def check_against_runs(
    results: Mapping[str, Any], baselines: Sequence[tuple[str, Mapping[str, Any]]], **kwargs: Any
) -> GateReport:
    """This run's tuned model against the tuned models of several saved runs (`evals.results.load_baselines`)."""
    if len(baselines) < 2:
        raise GateError("A multi-run baseline needs at least two runs; use gate.check_against_baseline for one.")
    paths = [Path(name) for name, _ in baselines]
    names = ", ".join(path.name for path in paths)
    folders = {str(path.parent) for path in paths}
    where = f"in {folders.pop()} ({names})" if len(folders) == 1 else f"({', '.join(map(str, paths))})"
    report = check_runs(
        prompt_scores(results["generations"], "tuned"),
        [prompt_scores(baseline["generations"], "tuned") for _, baseline in baselines],
        against=f"the tuned models of {len(baselines)} baseline runs {where}",
        **kwargs,
    )
    report.notes.extend(decoding_notes(results, [baseline for _, baseline in baselines]))
    if report.unmatched_current or report.unmatched_baseline:
        report.notes.append(
            f"{report.unmatched_current} prompt(s) missing from some baseline run and {report.unmatched_baseline} "
            "only in baseline runs were not compared"
        )
    notes, warnings = environment_checks(results, dict(baselines))
    report.notes.extend(notes)
    report.warnings.extend(warnings)
    return report
