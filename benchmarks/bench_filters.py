"""Filter throughput and memory: our default SFT pipeline vs datatrove's Gopher repetition + quality filters.

Also timed in the same run: our pipeline with only the filters it had before the data-defect filters of issue 37
(`--before`: structure, hygiene, length, repetition, code, exact and near dedup), and, side by side, our `pii` filter
alone against datatrove's `PIIFormatter` (emails and public IPs) on the same documents (`--pii`). `--per-filter`
times each default filter alone; `--shipped` gives the share of each shipped data set that each of issue 37's
filters drops or changes.

Rows are generated: 65% chat answers (slot grammar over 30 topics), 25% short fenced Python functions, 10% the
classic degenerate rows (the prompt repeated line by line, a question asked again and again, `global` repeated and
cut mid-line, mojibake, an empty answer, no answer). The 10x input is generated with another seed (distinct rows, not
copies, so the dedup indexes grow as they would on real data). Both implementations read the same memory-mapped Arrow
dataset at the same number of processes, in one run; datatrove sees each conversation as one document (its turns
joined) and uses its default English word tokenizer (spaCy). Each measurement runs in a fresh subprocess, so its peak
memory is its own: peak RSS (which also counts touched pages of memory-mapped Arrow files) and peak heap (anonymous
RSS, sampled). Flat memory at 10x input means the rows are streamed through Arrow, not held in Python lists.

    flock /tmp/heavy.lock python benchmarks/bench_filters.py [--rows 4000] [--scale 10] [--num-proc 1] [--before] [--pii]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TOPICS = (
    "rivers stars bread maps rain trains owls salt volcanoes bees glaciers coffee chess tides copper lichens tea "
    "bridges clocks whales moss deserts kites ferns comets caves wolves lighthouses ink orchards looms"
).split()
OPENERS = ["In practice,", "Historically,", "For beginners,", "Interestingly,", "In most regions,", "Today,",
           "According to most guides,", "On a small scale,", "Over a lifetime,", "In cold climates,"]  # fmt: skip
SUBJECTS = ["{t}", "the study of {t}", "people who care about {t}", "old records of {t}", "local stories about {t}",
            "simple experiments with {t}", "field notes on {t}", "museum collections of {t}"]  # fmt: skip
CLAIMS = ["change more than most people expect", "reveal patterns that repeat every season",
          "depend heavily on the surrounding climate", "were described in surprising detail centuries ago",
          "reward patient and careful observation", "connect geography, history and trade",
          "are easier to understand with a notebook at hand", "still hold a few open questions for researchers",
          "differ a lot from one valley to the next", "make a good starting point for a weekend project"]  # fmt: skip
DETAILS = ["especially after a long dry spell", "if you compare several sources", "when measured over many years",
           "even with very cheap equipment", "which surprises many newcomers", "as several field guides point out",
           "though experts still debate the details", "so it pays to keep careful notes", ""]  # fmt: skip
PROMPTS = ["Tell me about {t}.", "What should a beginner know about {t}?", "Why are {t} interesting?",
           "Give me an overview of {t}.", "How can I learn more about {t}?", "Explain {t} to a child.",
           "What is surprising about {t}?", "Write a short note on {t}."]  # fmt: skip
FOLDS = [("add", "total + value"), ("multiply", "total * value"), ("subtract", "total - value"),
         ("maximum", "max(total, value)"), ("minimum", "min(total, value)"), ("xor", "total ^ value")]  # fmt: skip
MOJIBAKE = "The cafÃ© serves crÃ¨me brÃ»lÃ©e and itâ€™s very good."
QUESTION = "What programming language are you comfortable with? Python, Java, or something else?"


def chat_row(rng: random.Random) -> dict:
    topic, count = rng.choice(TOPICS), rng.randint(3, 8)
    parts = zip(rng.sample(OPENERS, count), rng.sample(SUBJECTS, count), rng.sample(CLAIMS, count),
                rng.sample(DETAILS, count), strict=True)  # fmt: skip
    sentences = [f"{o} {s.format(t=topic)} {c}{', ' + d if d else ''}." for o, s, c, d in parts]
    if rng.random() < 0.3:  # some answers as numbered lists
        body = "Here are a few points:\n\n" + "\n".join(f"{i + 1}. {s}" for i, s in enumerate(sentences))
    else:
        body = " ".join(sentences)
    return {"messages": [{"role": "user", "content": rng.choice(PROMPTS).format(t=topic)},
                         {"role": "assistant", "content": body}]}  # fmt: skip


def code_row(rng: random.Random) -> dict:
    verb, step = rng.choice(FOLDS)
    noun = rng.choice(["values", "items", "numbers", "scores", "weights", "counts", "sizes", "prices"])
    name = f"{verb}_{noun}"
    arg, start = rng.choice(["xs", "data", noun, "seq"]), rng.randint(0, 99)
    guard = rng.choice(["", f"    if not {arg}:\n        return {start}\n", f"    {arg} = list({arg})\n"])
    code = (f"def {name}({arg}: list[int], start: int = {start}) -> int:\n"
            f'    """Fold {noun} with {verb}, starting from {start}."""\n{guard}'
            f"    total = start\n    for value in {arg}:\n        total = {step}\n    return total\n")  # fmt: skip
    use = rng.choice(["Call it with a list", "It walks the list once", "It runs in linear time", "Empty lists work"])
    answer = f"Here is `{name}`:\n\n```python\n{code}```\n\n{use}; the start value is {start}."
    prompt = f"Write a Python function {name} that folds a list of {noun} with {verb}, starting at {start}."
    return {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]}


def degenerate_row(rng: random.Random) -> dict:
    kind = rng.randrange(6)
    prompt = f"Write a haiku about {rng.choice(TOPICS)}"
    if kind == 0:
        answer = "\n".join([prompt] * 15)
    elif kind == 1:
        answer = "Great question! " + " ".join([QUESTION] * rng.randint(4, 10))
    elif kind == 2:
        answer = "```python\ncounter = 0\n\ndef bump():\n" + "    global counter\n" * rng.randint(8, 30) + "    glo"
    elif kind == 3:
        answer = MOJIBAKE + " " + chat_row(rng)["messages"][1]["content"]
    elif kind == 4:
        return {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": "   "}]}
    else:
        return {"messages": [{"role": "user", "content": prompt}]}
    return {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]}


def make_rows(n: int, seed: int):
    rng = random.Random(seed)
    for _ in range(n):
        draw = rng.random()
        if draw < 0.9:
            yield {**(chat_row(rng) if draw < 0.65 else code_row(rng)), "degenerate": False}
        else:
            yield {**degenerate_row(rng), "degenerate": True}


def write_jsonl(path: Path, n: int, seed: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in make_rows(n, seed):
            f.write(json.dumps(row) + "\n")


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # map workers, when num_proc > 1
    return max(own, children) / 1024


class AnonMemorySampler(threading.Thread):
    """Peak anonymous RSS (heap; not the page cache of memory-mapped Arrow files, which RSS also counts) of this
    process plus its children, sampled every 20 ms from /proc (Linux)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mb, self._done = 0.0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.02):
            self.peak_mb = max(self.peak_mb, sum(map(_anon_mb, [os.getpid(), *_children()])))

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak_mb


def _children() -> list[int]:
    try:
        import psutil

        return [child.pid for child in psutil.Process().children(recursive=True)]
    except Exception:  # psutil missing or a child gone: count this process only
        return []


def _anon_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


NAMES = {"ours": "trl-sft-plus default pipeline", "datatrove": "datatrove Gopher rep.+quality",
         "ours_before": "our defaults before issue 37", "ours_pii": "trl-sft-plus pii filter",
         "datatrove_pii": "datatrove PIIFormatter"}  # fmt: skip


def as_text(row: dict) -> str:
    return "\n\n".join(m["content"] or "" for m in row["messages"])


def run_datatrove(dataset, num_proc: int) -> list[bool]:
    """The `degenerate` flag of every kept row."""
    from multiprocessing import Pool

    if num_proc <= 1:
        return _datatrove_shard((dataset, 0, 1))
    with Pool(num_proc) as pool:
        return [flag for part in pool.map(_datatrove_shard, [(dataset, k, num_proc) for k in range(num_proc)])
                for flag in part]  # fmt: skip


def _datatrove_shard(args) -> list[bool]:
    from datatrove.data import Document
    from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter

    dataset, shard, shards = args
    part = dataset.shard(shards, shard, contiguous=True) if shards > 1 else dataset
    docs = (
        Document(text=as_text({"messages": messages}), id=str(i), metadata={"degenerate": flag})
        for batch in part.iter(batch_size=1000)  # batched Arrow reads, as our pipeline's map does
        for i, (messages, flag) in enumerate(zip(batch["messages"], batch["degenerate"], strict=True))
    )
    kept = GopherQualityFilter().run(GopherRepetitionFilter().run(docs))
    return [doc.metadata["degenerate"] for doc in kept]


# The default filters before issue 37's data-defect filters (template tokens, secrets, pii, refusal, web residue,
# cut-off answers, language mismatch) were added
FILTERS_BEFORE = ["structure", "hygiene", "length", "repetition", "code", "exact_dedup", "near_dedup"]


def run_datatrove_pii(dataset) -> list[bool]:
    """datatrove's PIIFormatter over the same documents (it rewrites, never drops: every row is kept)."""
    from datatrove.data import Document
    from datatrove.pipeline.formatters import PIIFormatter

    docs = (
        Document(text=as_text({"messages": messages}), id=str(i), metadata={"degenerate": flag})
        for batch in dataset.iter(batch_size=1000)
        for i, (messages, flag) in enumerate(zip(batch["messages"], batch["degenerate"], strict=True))
    )
    return [doc.metadata["degenerate"] for doc in PIIFormatter().run(docs)]


def per_filter(rows: int, seed: int = 0) -> None:
    """Microseconds per row of each default per-row filter (and each dedup fingerprint) on the generated mix, in this
    process; each filter sees the same row views, whose shared word lists are computed once beforehand (as in the
    pipeline, where the first filter that needs them pays)."""
    from trl_sft_plus.models import load_tokenizer
    from trl_sft_plus.quality import build_filters
    from trl_sft_plus.quality.base import SFTRow

    raw = list(make_rows(rows, seed))
    print(f"per filter, {rows} generated rows, one process (us/row):")
    for quality_filter in build_filters(tokenizer=load_tokenizer(), max_length=1024):
        views = [SFTRow.from_raw(row, i, "conversational") for i, row in enumerate(raw)]
        for view in views:
            view.prose_words, view.prompt_words  # noqa: B018 (shared views, computed before timing)
        batch = getattr(quality_filter, "filter_batch", None) or quality_filter.fingerprint_batch
        started = time.perf_counter()
        batch(views)
        print(f"  {quality_filter.name:<16} {1e6 * (time.perf_counter() - started) / len(views):8.1f}")


NEW_FILTERS = ["template_tokens", "secrets", "pii", "refusal", "web_residue", "cutoff", "language"]
SHIPPED = ["haiku", "haiku-heldout", "chat", "python-functions", "python-stdlib"]


def shipped_effect() -> None:
    """Share of each shipped data set's rows that each of issue 37's filters drops or changes, run alone (SmolLM2's
    tokenizer), with the rows it touched."""
    from trl_sft_plus.data_loading import load_rows
    from trl_sft_plus.models import load_tokenizer
    from trl_sft_plus.quality import QualityPipeline, build_filters

    tokenizer = load_tokenizer()
    print(f"{'data set':<18} {'rows':>6} " + " ".join(f"{name:>15}" for name in NEW_FILTERS))
    touched = []
    for data in SHIPPED:
        dataset = load_rows(data)
        shares = []
        for name in NEW_FILTERS:
            _, report = QualityPipeline(build_filters([name], tokenizer=tokenizer)).run(dataset)
            rows = [d["index"] for d in report.dropped_rows] + report.changed_rows
            shares.append(f"{100 * len(rows) / len(dataset):.2f}%")
            touched += [(data, name, report.dropped, report.changed, sorted(rows))] if rows else []
        print(f"{data:<18} {len(dataset):>6} " + " ".join(f"{share:>15}" for share in shares))
    for data, name, dropped, changed, rows in touched:
        print(f"{data} / {name}: rows {rows}, dropped {dropped}, changed {changed}")


def worker(ns: argparse.Namespace) -> None:
    import datasets

    datasets.disable_caching()  # every run computes; nothing is read back from an earlier run's cache
    datasets.logging.disable_progress_bar()
    if ns.worker == "prepare":  # JSONL -> Arrow once, in its own process, so no measured process pays for it
        datasets.Dataset.from_json(ns.input, cache_dir=ns.cache_dir).save_to_disk(ns.input + ".arrow")
        return print(json.dumps({}))
    dataset = datasets.load_from_disk(ns.input + ".arrow")  # memory-mapped
    sampler = AnonMemorySampler()
    sampler.start()
    if ns.worker.startswith("ours"):
        from trl_sft_plus.quality import QualityPipeline, build_filters

        tokenizer = None
        if not ns.no_tokenizer:
            from trl_sft_plus.models import load_tokenizer

            tokenizer = load_tokenizer()
        names = {"ours": None, "ours_before": FILTERS_BEFORE, "ours_pii": ["pii"]}[ns.worker]
        filters = build_filters(names, tokenizer=tokenizer, max_length=1024)
        QualityPipeline(filters).run(dataset.select(range(min(2, len(dataset)))))  # load models outside the timing
        pipeline = QualityPipeline(filters, num_proc=ns.num_proc)
        started = time.perf_counter()
        kept, report = pipeline.run(dataset)
        seconds = time.perf_counter() - started
        flags = dataset["degenerate"]
        clean_reasons = Counter(d["reason"] for d in report.dropped_rows if not flags[d["index"]])
        result = {"kept_flags": kept["degenerate"], "dropped": report.dropped, "clean_reasons": clean_reasons,
                  "changed": report.changed}  # fmt: skip
    elif ns.worker == "datatrove_pii":
        run_datatrove_pii(dataset.select(range(min(2, len(dataset)))))
        started = time.perf_counter()
        result = {"kept_flags": run_datatrove_pii(dataset)}
        seconds = time.perf_counter() - started
    else:
        run_datatrove(dataset.select(range(min(2, len(dataset)))), 1)  # load spaCy outside the timing
        started = time.perf_counter()
        result = {"kept_flags": run_datatrove(dataset, ns.num_proc)}
        seconds = time.perf_counter() - started
    flags = dataset["degenerate"]
    kept_flags = result.pop("kept_flags")
    result.update(kept=len(kept_flags), degenerate_caught=flags.count(True) - kept_flags.count(True),
                  degenerate=flags.count(True), clean_dropped=flags.count(False) - kept_flags.count(False),
                  clean=flags.count(False))  # fmt: skip
    result.update(rows=len(dataset), seconds=seconds, docs_per_s=len(dataset) / seconds, peak_rss_mb=peak_rss_mb(),
                  peak_anon_mb=sampler.stop())  # fmt: skip
    print(json.dumps(result))


def measure(which: str, path: Path, ns: argparse.Namespace, cache_dir: str) -> dict:
    command = [sys.executable, __file__, "--worker", which, "--input", str(path), "--num-proc", str(ns.num_proc),
               "--cache-dir", cache_dir] + (["--no-tokenizer"] if ns.no_tokenizer else [])  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{which} on {path.name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000, help="rows at 1x (default 4000)")
    parser.add_argument("--scale", type=int, default=10, help="the larger input is this many times the rows")
    parser.add_argument("--num-proc", type=int, default=1, help="processes for both implementations")
    parser.add_argument("--no-tokenizer", action="store_true", help="skip the length filter (no SmolLM2 tokenizer)")
    parser.add_argument("--per-filter", action="store_true", help="only time each default filter alone, per row")
    parser.add_argument("--shipped", action="store_true", help="only measure what the new filters do to shipped data")
    parser.add_argument("--before", action="store_true", help="also time the default filters before issue 37")
    parser.add_argument("--pii", action="store_true", help="also time our pii filter against datatrove's PIIFormatter")
    parser.add_argument("--worker", choices=["prepare", "ours", "ours_before", "ours_pii", "datatrove", "datatrove_pii"],
                        help=argparse.SUPPRESS)  # fmt: skip
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.worker:
        return worker(ns)
    if ns.per_filter:
        return per_filter(ns.rows)
    if ns.shipped:
        return shipped_effect()
    if importlib.util.find_spec("spacy") is None or importlib.util.find_spec("datatrove") is None:
        raise SystemExit("The comparison runs datatrove with its English word tokenizer: pip install datatrove spacy")
    with tempfile.TemporaryDirectory(prefix="bench-filters-") as tmp:
        small, large = Path(tmp) / "rows_1x.jsonl", Path(tmp) / f"rows_{ns.scale}x.jsonl"
        write_jsonl(small, ns.rows, seed=0)
        write_jsonl(large, ns.rows * ns.scale, seed=1)
        cache = str(Path(tmp) / "cache")
        for path in (small, large):
            measure("prepare", path, ns, cache)
        workers = ["ours", "datatrove"] + (["ours_before"] if ns.before else [])
        workers += ["ours_pii", "datatrove_pii"] if ns.pii else []
        results = {
            (which, label): measure(which, path, ns, cache)
            for label, path in (("1x", small), (f"{ns.scale}x", large))
            for which in workers
        }
    print(f"Filter benchmark: {ns.rows} rows at 1x (65% chat, 25% code, 10% degenerate), num_proc={ns.num_proc}, "
          f"length filter {'off' if ns.no_tokenizer else 'on (SmolLM2 tokenizer, max_length 1024)'}")  # fmt: skip
    print(f"{'input':>6} {'implementation':<32} {'rows':>7} {'docs/s':>8} {'kept':>7} {'degenerate caught':>18} "
          f"{'clean dropped':>14} {'peak RSS MB':>12} {'peak heap MB':>13}")  # fmt: skip
    for (which, label), r in results.items():
        name = NAMES[which]
        caught, dropped = f"{r['degenerate_caught']}/{r['degenerate']}", f"{r['clean_dropped']}/{r['clean']}"
        print(f"{label:>6} {name:<32} {r['rows']:>7} {r['docs_per_s']:>8.0f} {r['kept']:>7} {caught:>18} "
              f"{dropped:>14} {r['peak_rss_mb']:>12.0f} {r['peak_anon_mb']:>13.0f}")  # fmt: skip
    for label in ("1x", f"{ns.scale}x"):
        ratio = results[("ours", label)]["docs_per_s"] / results[("datatrove", label)]["docs_per_s"]
        print(f"throughput ratio ours/datatrove at {label}: {ratio:.2f}x (target >= 3x)")
        if ns.before:
            cost = results[("ours_before", label)]["docs_per_s"] / results[("ours", label)]["docs_per_s"]
            print(f"default pipeline before issue 37 / now at {label}: {cost:.2f}x the throughput")
        if ns.pii:
            ratio = results[("ours_pii", label)]["docs_per_s"] / results[("datatrove_pii", label)]["docs_per_s"]
            print(f"our pii filter / datatrove PIIFormatter at {label}: {ratio:.2f}x the throughput")
    for key, name in (
        ("peak_rss_mb", "peak RSS (incl. mapped Arrow pages)"),
        ("peak_anon_mb", "peak heap (anon RSS)"),
    ):
        growth = results[("ours", f"{ns.scale}x")][key] / results[("ours", "1x")][key]
        print(f"our {name} at {ns.scale}x input / at 1x: {growth:.2f} (flat is ~1)")
    for label in ("1x", f"{ns.scale}x"):
        print(
            f"our drops at {label}: {results[('ours', label)]['dropped']}; changes: {results[('ours', label)]['changed']}"
        )
        print(
            f"  of which clean rows (generated rows that came out the same): {results[('ours', label)]['clean_reasons']}"
        )


if __name__ == "__main__":
    main()
