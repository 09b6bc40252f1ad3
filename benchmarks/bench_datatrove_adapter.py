"""Throughput of `trl-sft-plus filter --executor local` (our filters as datatrove steps) on 2 workers versus 1.

The input is bench_filters' generated mix (65% chat, 25% fenced Python, 10% degenerate rows), written once as JSONL
and converted to Arrow once beforehand, so no measured run pays for the conversion. Each measurement runs in a fresh
process and times `run_with_datatrove` end to end: datatrove's stages (the worker pool's start included), and the
collection of the kept rows, report and dropped rows. Two filter sets: the per-row filters alone (one datatrove
stage), and the default set with exact and near dedup (six stages, two of them single-task). `tasks = workers`, as the
CLI defaults. The in-process pipeline on one process is printed for reference; every run must report the same
drops.

    flock /tmp/heavy.lock python benchmarks/bench_datatrove_adapter.py [--rows 4000] [--no-tokenizer]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_filters import write_jsonl

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FILTER_SETS = {"per-row filters": "row", "default (with dedup)": "default"}
RUNS = [(0, "fork"), (1, "fork"), (2, "fork"), (2, "forkserver")]  # (workers, start method); 0: in-process


def build(filter_set: str, no_tokenizer: bool) -> list:
    from trl_sft_plus.quality import DEFAULT_FILTERS, build_filters

    tokenizer = None
    if not no_tokenizer:
        from trl_sft_plus.models import load_tokenizer

        tokenizer = load_tokenizer()
    names = [n for n in DEFAULT_FILTERS if filter_set == "default" or n not in ("exact_dedup", "near_dedup")]
    return build_filters(names, tokenizer=tokenizer, max_length=1024)


def worker(ns: argparse.Namespace) -> None:
    from trl_sft_plus.data_loading import load_rows

    filters = build(ns.filter_set, ns.no_tokenizer)
    work = Path(ns.work)
    if ns.workers == 0:  # the in-process reference
        from trl_sft_plus.quality import QualityPipeline

        dataset = load_rows(ns.input)
        started = time.perf_counter()
        report = QualityPipeline(filters).run(dataset)[1]
    else:
        from trl_sft_plus.quality.datatrove import ExecutorSettings, run_with_datatrove

        settings = ExecutorSettings(workers=ns.workers, tasks=ns.workers, work_dir=work / "datatrove",
                                    start_method=ns.start_method)  # fmt: skip
        started = time.perf_counter()
        report = run_with_datatrove(ns.input, filters, settings, output=work / "kept.jsonl")
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": report.input_rows, "kept": report.kept_rows, "dropped": report.dropped,
                      "seconds": seconds}))  # fmt: skip


def measure(ns: argparse.Namespace, path: Path, filter_set: str, workers: int, start_method: str, tmp: Path) -> dict:
    work = tmp / f"{filter_set}-{workers}-{start_method}"
    command = [sys.executable, __file__, "--worker", "--input", str(path), "--filter-set", filter_set,
               "--workers", str(workers), "--work", str(work), "--start-method", start_method]  # fmt: skip
    command += ["--no-tokenizer"] if ns.no_tokenizer else []
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{filter_set} on {workers} workers failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000, help="rows in the file (default 4000)")
    parser.add_argument("--no-tokenizer", action="store_true", help="skip the length filter (no SmolLM2 tokenizer)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--filter-set", choices=sorted(FILTER_SETS.values()), help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--start-method", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.worker:
        return worker(ns)
    with tempfile.TemporaryDirectory(prefix="bench-datatrove-") as tmp:
        os.environ["HF_DATASETS_CACHE"] = str(Path(tmp) / "cache")  # one Arrow conversion, shared by every run
        path = Path(tmp) / "rows.jsonl"
        write_jsonl(path, ns.rows, seed=0)
        subprocess.run([sys.executable, "-c", f"from trl_sft_plus.data_loading import load_rows; load_rows({str(path)!r})"],
                       check=True, capture_output=True)  # fmt: skip
        results = {
            (label, workers, start): measure(ns, path, filter_set, workers, start, Path(tmp))
            for label, filter_set in FILTER_SETS.items()
            for workers, start in RUNS
        }
    cores = len(os.sched_getaffinity(0))
    print(f"datatrove adapter benchmark: {ns.rows} rows (65% chat, 25% code, 10% degenerate), {cores} CPU cores, "
          f"length filter {'off' if ns.no_tokenizer else 'on (SmolLM2 tokenizer, max_length 1024)'}")  # fmt: skip
    print(f"{'filters':<22} {'run':<46} {'seconds':>8} {'docs/s':>8} {'kept':>6}")
    for (label, workers, start), r in results.items():
        run = f"datatrove local, {workers} worker(s), {start}" if workers else "in-process, 1 process (reference)"
        print(f"{label:<22} {run:<46} {r['seconds']:>8.2f} {r['rows'] / r['seconds']:>8.0f} {r['kept']:>6}")
    for label in FILTER_SETS:
        one, two = results[(label, 1, "fork")], results[(label, 2, "fork")]
        print(f"{label}: 2 workers / 1 worker = {one['seconds'] / two['seconds']:.2f}x docs/s (fork); "
              f"same drops on 1 and 2 workers: {one['dropped'] == two['dropped']}")  # fmt: skip
        in_process = results[(label, 0, "fork")]["dropped"]
        if in_process != one["dropped"]:
            differing = {r: (in_process.get(r, 0), one["dropped"].get(r, 0))
                         for r in sorted(set(in_process) | set(one["dropped"]))
                         if in_process.get(r, 0) != one["dropped"].get(r, 0)}  # fmt: skip
            print(f"  drops that differ from in-process (in-process, datatrove): {differing}")


if __name__ == "__main__":
    main()
