"""`python -m evals baseline`: build a multi-run CI baseline by rerunning a recipe, the shipped one or the user's own.

Each rerun trains with one seed and one bf16 mode (the run-to-run noise the gate must allow for), is compared with
the base model on the suites, and its results.json is kept as `OUT/seed{seed}-bf16{mode}.json`: the folder that
`--baseline` takes. A rerun whose file exists is skipped, so an interrupted build resumes where it stopped. The
command ends with `python -m evals noise` over the folder: the spread, the leave-one-out false alarms and the power.

The shipped recipe is `python -m evals.run_eval --train-only`; any other training command is a template with the
placeholders `{seed}`, `{bf16}` (on or off) and `{out}` (a fresh folder per rerun), whose checkpoint or adapter
folder `--checkpoint` names (default `{out}`).
"""

from __future__ import annotations

import argparse
import itertools
import shlex
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

SHIPPED_COMMAND = (
    f"{shlex.quote(sys.executable)} -m evals.run_eval --out {{out}} --seed {{seed}} --bf16 {{bf16}} --train-only"
)
SHIPPED_CHECKPOINT = "{out}/tuned"
BF16_MODES = ("on", "off")


class BaselineError(ValueError):
    """A rerun's training command failed or left no checkpoint; the message names the rerun and its log."""


def add_parser(commands) -> None:
    parser = commands.add_parser("baseline", help="rerun a recipe N times and keep each rerun's results as a baseline")
    parser.add_argument("--out", required=True, type=Path, help="folder of the baseline's results.json files")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (default 0 1 2)")
    parser.add_argument(
        "--bf16", nargs="+", choices=BF16_MODES, default=list(BF16_MODES), help="bf16 modes, each with every seed"
    )
    parser.add_argument(
        "--train-command",
        default=SHIPPED_COMMAND,
        help="training command template with {seed}, {bf16} and {out} (default: the shipped recipe, "
        "python -m evals.run_eval --train-only)",
    )
    parser.add_argument(
        "--checkpoint",
        help=f"the checkpoint or adapter folder the command leaves (default {SHIPPED_CHECKPOINT} for the shipped "
        "recipe, {out} for another command)",
    )
    parser.add_argument("--base", default="smollm2-135m-instruct", help="the base model the reruns are compared with")
    parser.add_argument("--suite", action="append", default=[], help="as for compare (default: the shipped suites)")
    parser.add_argument("--work", type=Path, help="folder for the reruns' checkpoints and logs (default OUT/.work)")
    parser.add_argument("--allow-code-execution", action="store_true", help="as for compare: score python_pass")
    parser.add_argument("--max-new-tokens", type=int, help="as for compare: one budget for every task")


def planned(seeds: list[int], modes: list[str]) -> list[tuple[str, int, str]]:
    """(name, seed, bf16 mode) of every rerun, seeds outermost."""
    return [(f"seed{seed}-bf16{mode}", seed, mode) for seed, mode in itertools.product(seeds, modes)]


def run(args: argparse.Namespace, console: Console) -> int:
    from .cli import main as evals_main

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    checkpoint = args.checkpoint or (SHIPPED_CHECKPOINT if args.train_command == SHIPPED_COMMAND else "{out}")
    work = args.work or args.out / ".work"
    args.out.mkdir(parents=True, exist_ok=True)
    reruns = planned(args.seeds, args.bf16)
    for number, (name, seed, mode) in enumerate(reruns, start=1):
        target = args.out / f"{name}.json"
        if target.is_file():
            say(f"[{number}/{len(reruns)}] {name}: done before, kept ({target})")
            continue
        folder = work / name
        folder.mkdir(parents=True, exist_ok=True)
        command = args.train_command.format(seed=seed, bf16=mode, out=shlex.quote(str(folder)))
        say(f"[{number}/{len(reruns)}] {name}: training: {command}")
        started = time.perf_counter()
        log = folder / "train.log"
        with log.open("w", encoding="utf-8") as handle:
            status = subprocess.run(command, shell=True, stdout=handle, stderr=subprocess.STDOUT).returncode
        trained = Path(checkpoint.format(seed=seed, bf16=mode, out=folder))
        if status != 0 or not trained.is_dir():
            why = f"exited with {status}" if status != 0 else f"left no checkpoint at {trained}"
            raise BaselineError(f"rerun {name}: the training command {why}; its output is in {log}.")
        say(f"[{number}/{len(reruns)}] {name}: trained in {time.perf_counter() - started:.0f} s; comparing")
        compare = ["compare", "--base", args.base, "--tuned", str(trained), "--out", str(folder / "compare")]
        compare += [item for suite in args.suite for item in ("--suite", suite)]
        compare += ["--allow-code-execution"] if args.allow_code_execution else []
        compare += ["--max-new-tokens", str(args.max_new_tokens)] if args.max_new_tokens else []
        if evals_main(compare) not in (0, 1):
            raise BaselineError(f"rerun {name}: the comparison failed (see above).")
        (folder / "compare" / "results.json").replace(target)  # written last: a rerun counts only once complete
        say(f"[{number}/{len(reruns)}] {name}: kept {target} ({time.perf_counter() - started:.0f} s)")
    runs = sorted(args.out.glob("*.json"))
    if len(runs) < 3:
        say(f"{len(runs)} runs in {args.out}: `python -m evals noise` needs at least 3 for leave-one-out.")
        return 0
    return evals_main(["noise", str(args.out)])
