"""`python -m evals`: compare two models on prompt suites, gate a run against saved ones, measure rerun noise, or
check suite files.

Exit status: 0 when nothing regressed, 1 when `--fail-on-regression` found a regression, 2 for bad input (a bad suite
row, a model argument that names nothing, an unreadable baseline), reported before any generation starts.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from trl_sft_plus.models import ModelLoadError, resolve_model_path
from trl_sft_plus.validation.sandbox import SandboxUnavailable, isolation
from trl_sft_plus.validation.scorers import CODE_EXECUTION_ENV, code_execution_allowed

from . import base_cache, baseline
from .compare import build_results, run_comparison
from .environment import check_recipe, environment_block, read_training_record
from .gate import DEFAULT_TOLERANCE, TRACKED_METRICS, GateError, GateReport, check_against_base, check_against_baseline
from .gate_runs import FAMILY_ALPHA, check_against_runs
from .html_report import html_report
from .noise import DEFAULT_DRAWS, DEFAULT_EFFECT, DEFAULT_TARGET_POWER, SIMULATION_RESAMPLES, noise_lines, noise_report
from .report import gate_lines, markdown_report, print_summary
from .results import ResultsError, load_baselines, load_results, write_json
from .runner import DecodingSettings
from .stats import N_RESAMPLES
from .stored_runs import stored_run
from .suite import BUILTIN_SUITES, SuiteError, load_suites, resolve_suite_path

EXIT_OK, EXIT_REGRESSION, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(ValueError):
    """Arguments that cannot work together."""


def parse_tolerances(items: Sequence[str]) -> tuple[float, dict[str, float]]:
    """`--tolerance 0.05` sets the default; `--tolerance seq_rep_4=0.02` sets one metric's."""
    default, per_metric = DEFAULT_TOLERANCE, {}
    for item in items:
        name, _, value = item.rpartition("=")
        try:
            number = float(value)
        except ValueError:
            raise UsageError(f"--tolerance expects NUMBER or METRIC=NUMBER, got {item!r}") from None
        if number < 0:
            raise UsageError(f"--tolerance must not be negative, got {item!r}")
        if name:
            per_metric[name] = number
        else:
            default = number
    return default, per_metric


def _add_gate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="RESULTS_OR_FOLDER",
        help="results.json of a saved run, or a folder of them (one per rerun of the accepted commit); repeatable. "
        "This run's tuned model is paired by prompt id with the baselines' tuned models; with two or more runs the "
        "gate also allows for their run-to-run spread (evals/gate_runs.py)",
    )
    parser.add_argument(
        "--allow-recipe-mismatch",
        action="store_true",
        help="gate against a baseline whose training record names another recipe (steps, learning rate, data, base "
        "model, ...); without it such a baseline is refused (exit 2) with the differing fields named",
    )
    parser.add_argument(
        "--fail-on-regression",
        action="store_true",
        help=f"exit 1 when a tracked metric ({', '.join(TRACKED_METRICS)}) got significantly worse, beyond the "
        "tolerance; without --baseline the tuned model is gated against the base model of this run",
    )
    parser.add_argument(
        "--tolerance",
        action="append",
        default=[],
        metavar="[METRIC=]NUMBER",
        help=f"absolute change a regression must exceed (default {DEFAULT_TOLERANCE}); repeat for per-metric values",
    )
    parser.add_argument(
        "--family-alpha",
        type=float,
        default=FAMILY_ALPHA,
        help="with several baseline runs: the chance that a rerun of an unchanged commit fails any check "
        "(default %(default)s), split over the checks (Bonferroni)",
    )
    _add_resamples(parser, N_RESAMPLES)


def _add_resamples(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument("--n-resamples", type=int, default=default, help="bootstrap resamples (default %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    compare = commands.add_parser("compare", help="generate with a base and a tuned model, score, compare, report")
    compare.add_argument("--base", required=True, help="embedded model name, local checkpoint folder or hub id")
    compare.add_argument(
        "--tuned",
        required=True,
        help="embedded model name, local checkpoint folder, hub id, or a PEFT adapter folder (loaded on --base)",
    )
    compare.add_argument(
        "--suite",
        action="append",
        default=[],
        help=f"suite JSONL file or shipped suite name ({', '.join(BUILTIN_SUITES)}); repeatable; default: all shipped",
    )
    compare.add_argument("--out", required=True, type=Path, help="folder for results.json, report.md, report.html")
    compare.add_argument("--max-new-tokens", type=int, help="one budget for every task (default: per-task budgets)")
    compare.add_argument(
        "--batch-size", type=int, default=32, help="prompts per generation batch (default %(default)s)"
    )
    compare.add_argument("--do-sample", action="store_true", help="sample instead of greedy decoding")
    compare.add_argument("--seed", type=int, default=0, help="sampling seed, the same for both models")
    compare.add_argument("--num-samples", type=int, default=1, help="samples per prompt (needs --do-sample)")
    compare.add_argument("--allow-pickle", action="store_true", help="allow .bin/.pt checkpoints you trust")
    compare.add_argument(
        "--allow-code-execution",
        action="store_true",
        help="run each answer's code against its row's `tests` (metric python_pass) in a sandboxed child process "
        f"(no network, read-only filesystem, resource limits; see evals/README.md); also {CODE_EXECUTION_ENV}=1",
    )
    compare.add_argument(
        "--base-results",
        type=Path,
        help="reuse the answers of the model with --base's weights from this results.json (its base or tuned run) "
        "instead of generating them again; the prompts, decoding and torch/transformers versions must match",
    )
    compare.add_argument(
        "--no-base-cache",
        action="store_true",
        help="generate the base model's answers even when the local cache holds them for the same weights, prompts, "
        "decoding and machine (evals/base_cache.py)",
    )
    _add_gate_arguments(compare)

    gate = commands.add_parser("gate", help="gate an existing results.json against a baseline, without generating")
    gate.add_argument("results", help="results.json of the run to check")
    _add_gate_arguments(gate)

    noise = commands.add_parser(
        "noise", help="spread, leave-one-out false alarms and power of a gate on several reruns of one commit"
    )
    noise.add_argument("runs", nargs="+", help="results.json files of reruns, or folders of them (at least two runs)")
    noise.add_argument(
        "--effect",
        type=float,
        default=DEFAULT_EFFECT,
        help="share of a task's prompts given the metric's worst value to simulate a regression (default %(default)s)",
    )
    noise.add_argument("--power", type=float, default=DEFAULT_TARGET_POWER, help="target power (default %(default)s)")
    noise.add_argument(
        "--draws", type=int, default=DEFAULT_DRAWS, help="simulated regressions per estimate (default %(default)s)"
    )
    noise.add_argument("--family-alpha", type=float, default=FAMILY_ALPHA, help="as for gate (default %(default)s)")
    noise.add_argument(
        "--tolerance", action="append", default=[], metavar="[METRIC=]NUMBER", help="as for gate (repeatable)"
    )
    noise.add_argument("--json", type=Path, help="also write the report to this JSON file")
    _add_resamples(noise, SIMULATION_RESAMPLES)

    validate = commands.add_parser("validate", help="check suite files and report bad rows by line number")
    validate.add_argument("suite", nargs="*", help="suite files or shipped names (default: all shipped)")
    baseline.add_parser(commands)
    return parser


def _progress_factory(progress: Progress) -> Callable[[str, int], Callable[[int], None]]:
    def factory(label: str, total: int) -> Callable[[int], None]:
        task_id = progress.add_task(f"{label}: generating", total=total)
        return lambda done: progress.advance(task_id, done)

    return factory


def _gate(
    results: dict[str, Any], baselines: list[tuple[str, dict[str, Any]]], args: argparse.Namespace
) -> GateReport | None:
    if not baselines and not args.fail_on_regression:
        return None
    default, per_metric = parse_tolerances(args.tolerance)
    kwargs = {"tolerances": per_metric, "default_tolerance": default, "n_resamples": args.n_resamples}
    if len(baselines) > 1:
        return check_against_runs(results, baselines, family_alpha=args.family_alpha, **kwargs)
    if baselines:
        return check_against_baseline(results, baselines[0][1], baselines[0][0], **kwargs)
    return check_against_base(results, **kwargs)


def _check_family_alpha(value: float) -> None:
    if not 0 < value < 1:
        raise UsageError(f"--family-alpha must lie between 0 and 1, got {value}")


def _finish(report: GateReport | None, args: argparse.Namespace) -> int:
    if report is not None and not report.passed and args.fail_on_regression:
        return EXIT_REGRESSION
    return EXIT_OK


def run_compare(args: argparse.Namespace, console: Console) -> int:
    # Everything that can be wrong with the input is checked here, before a model is loaded or a token generated.
    suites = [str(resolve_suite_path(s)) for s in (args.suite or BUILTIN_SUITES)]
    rows = load_suites(suites)
    allow_code = code_execution_allowed(args.allow_code_execution)
    with_tests = sum(bool(row.tests) for row in rows)
    if allow_code and with_tests:
        isolation()  # refuse now, not after generating, when the sandbox cannot isolate runs here
    elif with_tests:
        console.print(
            f"{with_tests} rows carry tests; python_pass is not scored without --allow-code-execution "
            f"(or {CODE_EXECUTION_ENV}=1).",
            markup=False,
            highlight=False,
        )
    base_path = resolve_model_path(args.base, allow_pickle=args.allow_pickle)
    resolve_model_path(args.tuned, allow_pickle=args.allow_pickle)
    baselines = load_baselines(args.baseline)
    recipe_warnings = check_recipe(
        read_training_record(args.tuned) if Path(args.tuned).is_dir() else None,
        dict(baselines),
        allow_mismatch=args.allow_recipe_mismatch,
    )
    parse_tolerances(args.tolerance)
    _check_family_alpha(args.family_alpha)
    try:
        decoding = DecodingSettings(
            max_new_tokens=args.max_new_tokens,
            batch_size=args.batch_size,
            do_sample=args.do_sample,
            seed=args.seed,
            num_samples=args.num_samples,
        )
        decoding.for_task("any", 0)  # GenerationSettings checks the token budget and batch size
    except ValueError as error:
        raise UsageError(str(error)) from error
    base_source = args.base_results
    base_key = None if args.base_results or args.no_base_cache else base_cache.cache_key(base_path, rows, decoding)
    if base_source is None:
        base_source = base_cache.cached_results(base_key)
    args.out.mkdir(parents=True, exist_ok=True)
    base_run = None
    if base_source is not None:
        stored = load_results(base_source)
        base_run = stored_run(
            "base", args.base, base_path, rows, decoding, stored, base_source, allow_code_execution=allow_code
        )
        if args.base_results is None:
            console.print(
                f"Base model's answers reused from the local cache ({base_source}; --no-base-cache skips it)."
            )

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, TimeRemainingColumn(), console=console) as progress:
        base, tuned = run_comparison(
            args.base,
            args.tuned,
            rows,
            decoding,
            allow_pickle=args.allow_pickle,
            progress=_progress_factory(progress),
            allow_code_execution=allow_code,
            base_run=base_run,
        )
    results = build_results(rows, base, tuned, decoding, suites, n_resamples=args.n_resamples)
    results["environment"] = environment_block(tuned.path, {run.label: run.dtype for run in (base, tuned)})
    report = _gate(results, baselines, args)
    if report is not None:
        report.warnings.extend(recipe_warnings)
        results["gate"] = report.to_dict()
    write_json(results, args.out / "results.json")
    if base_run is None:
        base_cache.store(base_key, args.out / "results.json")
    (args.out / "report.md").write_text(markdown_report(results), encoding="utf-8")
    (args.out / "report.html").write_text(html_report(results), encoding="utf-8")
    print_summary(results, console)
    console.print(f"Reports: {args.out / 'results.json'}, {args.out / 'report.md'}, {args.out / 'report.html'}")
    return _finish(report, args)


def run_gate(args: argparse.Namespace, console: Console) -> int:
    results = load_results(args.results)
    _check_family_alpha(args.family_alpha)
    baselines = load_baselines(args.baseline)
    training = (results.get("environment") or {}).get("training")
    recipe_warnings = check_recipe(training, dict(baselines), allow_mismatch=args.allow_recipe_mismatch)
    report = _gate(results, baselines, args)
    if report is None:
        raise UsageError("Nothing to gate: pass --baseline and/or --fail-on-regression.")
    report.warnings.extend(recipe_warnings)
    for line in gate_lines(report.to_dict()):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return _finish(report, args)


def run_noise(args: argparse.Namespace, console: Console) -> int:
    default, per_metric = parse_tolerances(args.tolerance)
    _check_family_alpha(args.family_alpha)
    report = noise_report(
        load_baselines(args.runs),
        effect=args.effect,
        target_power=args.power,
        draws=args.draws,
        family_alpha=args.family_alpha,
        tolerances=per_metric,
        default_tolerance=default,
        n_resamples=args.n_resamples,
    )
    for line in noise_lines(report):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if args.json is not None:
        write_json(report.to_dict(), args.json)
    return EXIT_OK


def run_validate(args: argparse.Namespace, console: Console) -> int:
    rows = load_suites([str(resolve_suite_path(s)) for s in (args.suite or BUILTIN_SUITES)])
    tasks = {row.task for row in rows}
    console.print(f"{len(rows)} rows OK ({', '.join(f'{t} {sum(r.task == t for r in rows)}' for t in sorted(tasks))})")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)  # CI logs: do not squeeze the comparison table into 80 columns
    handlers = {
        "compare": run_compare, "gate": run_gate, "noise": run_noise, "validate": run_validate, "baseline": baseline.run,
    }  # fmt: skip
    try:
        return handlers[args.command](args, console)
    except (
        SuiteError, ModelLoadError, ResultsError, GateError, UsageError, SandboxUnavailable, baseline.BaselineError
    ) as error:  # fmt: skip
        Console(stderr=True).print(f"error: {error}", style="red", markup=False, highlight=False, soft_wrap=True)
        return EXIT_BAD_INPUT
