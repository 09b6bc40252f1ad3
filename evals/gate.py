"""The regression gate for CI: did a tracked metric get significantly worse than in a saved run?

A metric regresses on a task when, over the prompt ids both runs answered (paired), the 95% bootstrap interval of
the mean change excludes zero on the bad side AND the mean change is beyond the tolerance on that side. Both
conditions: the interval alone flags tiny but consistent shifts, the tolerance alone flags noise.

Tracked metrics (`TRACKED_METRICS`), each checked on every task that has it:
    haiku_valid   (haiku)  share of 5-7-5 three-line poems            higher is better
    python_valid  (python) parses, defines, complete, not degenerate  higher is better
    python_pass   (python) share of a row's tests the answer passes   higher is better
                           (only scored with --allow-code-execution; absent metrics are not checked)
    eos_rate      (all)    answers that stop before the token limit   higher is better
    seq_rep_4     (all)    repeated 4-grams within an answer          lower is better
    prompt_echo   (all)    answer words copied from the prompt        lower is better
    loop          (all)    answers whose tail loops                   lower is better
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .compare import paired_differences
from .environment import environment_checks
from .results import prompt_scores
from .stats import CONFIDENCE_LEVEL, LOWER_IS_BETTER, N_RESAMPLES, direction

TRACKED_METRICS = ("haiku_valid", "python_valid", "python_pass", "eos_rate", "seq_rep_4", "prompt_echo", "loop")
DEFAULT_TOLERANCE = 0.05  # absolute change; every tracked metric lies in [0, 1]
SINGLE_RUN_NOTE = (
    "one baseline run: run-to-run noise (seed, bf16 mode, CPU) is not covered, so a rerun of the same commit can fail; "
    "gate against several reruns (--baseline examples/ci/baseline-runs, examples/ci/README.md)"
)


class GateError(ValueError):
    """The two runs cannot be compared (no prompt ids in common)."""


@dataclass(frozen=True)
class GateCheck:
    task: str
    metric: str
    mean_change: float  # current - baseline; its sign is the raw change, `direction` says which side is bad
    low: float
    high: float
    n: int
    tolerance: float
    direction: int
    regressed: bool
    # Baselines of several reruns (`evals.gate_runs`): the std of their means and the rerun bound it gives
    runs: int = 1
    run_spread: float | None = None
    rerun_bound: float | None = None

    @property
    def threshold(self) -> float:
        """The change a regression must exceed: the tolerance, or the rerun bound where that is larger."""
        return max(self.tolerance, self.rerun_bound or 0.0)

    def describe(self) -> str:
        word = "lower" if self.direction == LOWER_IS_BETTER else "higher"
        status = "REGRESSED" if self.regressed else "ok"
        if self.runs > 1:
            against = (
                f"vs the mean of {self.runs} runs ({word} is better, threshold {self.threshold:.3f} = max(tolerance "
                f"{self.tolerance}, rerun bound {self.rerun_bound:.3f} from run spread {self.run_spread:.3f}))"
            )
        else:
            against = f"({word} is better, tolerance {self.tolerance})"
        return (
            f"{status}: {self.metric} on {self.task}: change {self.mean_change:+.3f} "
            f"[{self.low:+.3f}, {self.high:+.3f}] over {self.n} prompts {against}"
        )


@dataclass
class GateReport:
    against: str
    checks: list[GateCheck]
    unmatched_current: int
    unmatched_baseline: int
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the runs may not be comparable (`evals.environment`)

    @property
    def regressions(self) -> list[GateCheck]:
        return [check for check in self.checks if check.regressed]

    @property
    def passed(self) -> bool:
        return not self.regressions

    def to_dict(self) -> dict[str, Any]:
        return {
            "against": self.against,
            "passed": self.passed,
            "tracked_metrics": list(TRACKED_METRICS),
            "unmatched_current": self.unmatched_current,
            "unmatched_baseline": self.unmatched_baseline,
            "notes": self.notes,
            "warnings": self.warnings,
            "checks": [{**asdict(check), "threshold": check.threshold} for check in self.checks],
        }


def is_regression(mean_change: float, low: float, high: float, metric: str, tolerance: float) -> bool:
    """Significantly worse (interval excludes zero on the bad side) and worse by more than `tolerance`."""
    bad_side = -direction(metric)  # the sign of a change that hurts
    if bad_side == 0 or math.isnan(low) or math.isnan(high):
        return False
    if bad_side > 0:
        return low > 0 and mean_change > tolerance
    return high < 0 and mean_change < -tolerance


def check_scores(
    current: Mapping[str, tuple[str, Mapping[str, float]]],
    baseline: Mapping[str, tuple[str, Mapping[str, float]]],
    *,
    against: str,
    tolerances: Mapping[str, float] | None = None,
    default_tolerance: float = DEFAULT_TOLERANCE,
    metrics: Sequence[str] = TRACKED_METRICS,
    confidence_level: float = CONFIDENCE_LEVEL,
    n_resamples: int = N_RESAMPLES,
) -> GateReport:
    """Gate per-prompt scores (`evals.results.prompt_scores` shape) of the current run against a baseline's."""
    shared = [prompt_id for prompt_id in current if prompt_id in baseline]
    if not shared:
        raise GateError(f"The current run and {against} have no prompt ids in common; nothing can be compared.")
    tasks = list(dict.fromkeys(current[i][0] for i in shared))
    differences = paired_differences(
        baseline, current, tasks, confidence_level=confidence_level, n_resamples=n_resamples
    )
    tolerances = tolerances or {}
    checks = []
    for task in tasks:
        for metric in metrics:
            if metric not in differences[task]:
                continue
            diff = differences[task][metric]
            tolerance = tolerances.get(metric, default_tolerance)
            regressed = is_regression(diff["mean"], diff["low"], diff["high"], metric, tolerance)
            checks.append(
                GateCheck(
                    task,
                    metric,
                    diff["mean"],
                    diff["low"],
                    diff["high"],
                    diff["n"],
                    tolerance,
                    direction(metric),
                    regressed,
                )
            )
    return GateReport(against, checks, len(set(current) - set(baseline)), len(set(baseline) - set(current)))


def check_against_baseline(
    results: Mapping[str, Any], baseline: Mapping[str, Any], baseline_name: str, **kwargs: Any
) -> GateReport:
    """This run's tuned model against the tuned (candidate) model recorded in a saved results.json."""
    report = check_scores(
        prompt_scores(results["generations"], "tuned"),
        prompt_scores(baseline["generations"], "tuned"),
        against=f"the tuned model of {baseline_name}",
        **kwargs,
    )
    report.notes.extend(decoding_notes(results, [baseline]))
    if report.unmatched_current or report.unmatched_baseline:
        report.notes.append(
            f"{report.unmatched_current} prompt(s) only in this run and {report.unmatched_baseline} only in the "
            "baseline were not compared"
        )
    report.notes.append(SINGLE_RUN_NOTE)
    notes, warnings = environment_checks(results, {baseline_name: baseline})
    report.notes.extend(notes)
    report.warnings.extend(warnings)
    return report


def decoding_notes(results: Mapping[str, Any], baselines: Sequence[Mapping[str, Any]]) -> list[str]:
    """A note per decoding setting that differs from a baseline run's: such runs answer differently by design."""
    notes = []
    for key in ("do_sample", "seed", "num_samples", "max_new_tokens"):
        ours = results["decoding"].get(key)
        theirs = [baseline.get("decoding", {}).get(key) for baseline in baselines]
        if any(value != ours for value in theirs):
            shown = ", ".join(dict.fromkeys(repr(value) for value in theirs))
            notes.append(f"decoding differs from the baseline: {key} = {ours!r} here, {shown} there")
    return notes


def check_against_base(results: Mapping[str, Any], **kwargs: Any) -> GateReport:
    """This run's tuned model against this run's base model (used when no baseline file is given)."""
    return check_scores(
        prompt_scores(results["generations"], "tuned"),
        prompt_scores(results["generations"], "base"),
        against="the base model of this run",
        **kwargs,
    )
