"""Catch rate and good-row keep rate of the default filters on a planted dirty set.

Each row of the input carries `expect`: `keep` (a good row, often close to a defect), `drop:<reason>` (a planted
defect the filters must drop) or `redact:<kind>,<kind>` (personal data that must be gone from the kept text), and
for secrets and personal data `gone`: the values (`|`-separated) that must not appear in the kept text. A defect
counts as caught when its row is dropped (for any reason), or, for secrets and personal data, when it is kept with
every `gone` value removed. Every row is accounted for: the script lists each miss and each good row dropped.

    python benchmarks/bench_dirty_set.py [benchmarks/data/heldout_dirty.jsonl] [--model smollm2-135m-instruct]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HELDOUT = Path(__file__).with_name("data") / "heldout_dirty.jsonl"


def evaluate(path: str | Path, tokenizer=None) -> dict:
    """Run the default pipeline on `path`; return the counts and every row's outcome."""
    from datasets import Dataset

    from trl_sft_plus.quality import QualityPipeline, build_filters

    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    dataset = Dataset.from_list([{"messages": row["messages"]} for row in rows])
    pipeline = QualityPipeline(build_filters(tokenizer=tokenizer, max_length=2048))
    kept, report = pipeline.run(dataset)
    reasons = {entry["index"]: entry["reason"] for entry in report.dropped_rows}
    kept_text = {}
    kept_positions = [i for i in range(len(rows)) if i not in reasons]
    for position, row in zip(kept_positions, kept, strict=True):
        kept_text[position] = "\n".join(m["content"] for m in row["messages"])
    outcomes = []
    for i, row in enumerate(rows):
        expect, gone = row["expect"], [v for v in row.get("gone", "").split("|") if v]
        if i in reasons:
            outcome = f"dropped ({reasons[i]})"
            ok = expect != "keep"
        else:
            leaked = [v for v in gone if v in kept_text[i]]
            changed = i in report.changed_rows
            outcome = "kept" + (" and changed" if changed else "") + (f", still holds {leaked}" if leaked else "")
            ok = expect == "keep" or (expect.startswith(("redact", "drop:secrets", "drop:pii")) and changed and gone
                                      and not leaked)  # fmt: skip
        outcomes.append({"index": i, "expect": expect, "outcome": outcome, "ok": ok, "note": row.get("note", "")})
    defects = [o for o in outcomes if o["expect"] != "keep"]
    good = [o for o in outcomes if o["expect"] == "keep"]
    return {
        "rows": len(rows),
        "defects": len(defects),
        "caught": sum(o["ok"] for o in defects),
        "good": len(good),
        "good_kept": sum(o["ok"] for o in good),
        "exact_reason": sum(
            o["expect"].startswith("drop:") and o["outcome"].startswith(f"dropped ({o['expect'][5:]}") for o in defects
        ),  # fmt: skip
        "outcomes": outcomes,
        "report": report,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", nargs="?", default=str(HELDOUT))
    parser.add_argument("--model", help="tokenizer for the length and template-token filters (default: none)")
    ns = parser.parse_args()
    tokenizer = None
    if ns.model:
        from trl_sft_plus.models import load_tokenizer

        tokenizer = load_tokenizer(ns.model)
    result = evaluate(ns.input, tokenizer)
    for o in result["outcomes"]:
        if o["ok"] and o["expect"].startswith("drop:") and not o["outcome"].startswith(f"dropped ({o['expect'][5:]}"):
            print(f"caught row {o['index']} for another reason: expected {o['expect']}, {o['outcome']}")
        if not o["ok"]:
            print(f"MISS row {o['index']}: expected {o['expect']}, {o['outcome']}  [{o['note']}]")
    catch, keep = result["caught"] / max(result["defects"], 1), result["good_kept"] / max(result["good"], 1)
    print(f"{ns.input}: {result['rows']} rows; defects caught {result['caught']}/{result['defects']} ({catch:.1%}, "
          f"target >= 90%); good rows kept {result['good_kept']}/{result['good']} ({keep:.1%}, target >= 95%); "
          f"dropped for the planted reason: {result['exact_reason']}")  # fmt: skip
    sys.exit(0 if catch >= 0.9 and keep >= 0.95 else 1)


if __name__ == "__main__":
    main()
