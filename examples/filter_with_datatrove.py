"""Filter a dataset with our quality filters on datatrove's local executor, and check it against the in-process run.

    python examples/filter_with_datatrove.py                       # the shipped chat rows, 2 workers
    python examples/filter_with_datatrove.py --dataset rows.jsonl --workers 4 --out filtered/

The same as `trl-sft-plus filter DATASET --executor local --workers N --output ... --report ...`, from Python: build
the filters, describe the executor with `ExecutorSettings` (`executor="slurm"` or `"ray"` with their settings for a
cluster), and `run_with_datatrove` writes the kept rows and returns the usual `FilterReport`. The `__main__` guard
matters: datatrove's local executor starts worker processes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from trl_sft_plus.data_loading import load_rows
from trl_sft_plus.quality import QualityPipeline, build_filters
from trl_sft_plus.quality.datatrove import ExecutorSettings, run_with_datatrove


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="chat", help="a shipped dataset name or a .jsonl/.parquet file")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--out", default="filter-with-datatrove", help="folder for the kept rows and datatrove's files"
    )
    ns = parser.parse_args()
    out = Path(ns.out)

    settings = ExecutorSettings(executor="local", workers=ns.workers, work_dir=out / "datatrove")
    report = run_with_datatrove(ns.dataset, build_filters(), settings, output=out / "kept.jsonl")
    report.print_table(title=f"datatrove local executor, {ns.workers} workers: {ns.dataset}")

    _, in_process = QualityPipeline(build_filters()).run(load_rows(ns.dataset))
    same = report.dropped_rows == in_process.dropped_rows
    print(f"same drops as the in-process pipeline: {same}")
    if not same:  # only near-dedup can differ; see trl_sft_plus/quality/README.md
        print(f"in-process: {in_process.dropped}\ndatatrove:  {report.dropped}")
    print(f"kept rows -> {out / 'kept.jsonl'}; datatrove's logs and per-step stats -> {out / 'datatrove' / 'logs'}")


if __name__ == "__main__":
    main()
