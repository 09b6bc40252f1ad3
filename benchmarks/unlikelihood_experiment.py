"""Does the unlikelihood loss cut repetition without hurting validity? Fine-tune the embedded SmolLM2-135M-Instruct
twice on the same rows, seed and steps, with `unlikelihood_alpha` 0 and > 0, then score both on the shipped haiku suite
(greedy, the harness's settings) and print seq-rep-4, loop rate, EOS rate and haiku validity side by side, with the
paired difference and its 95% bootstrap interval; the chat and python suites are scored too, since after a short run
those answers still repeat where haiku answers no longer do.

A short run on purpose (default 60 steps): repetition is still present after it, so there is something to cut.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from trl_sft_plus.evals.runner import DecodingSettings, run_model
from trl_sft_plus.evals.stats import paired_bootstrap
from trl_sft_plus.evals.suite import load_suites

from trl_sft_plus import SFTTrainer, models
from trl_sft_plus.data_loading import mixture
from trl_sft_plus.recipes import cpu_tutorial_config

TASK_METRICS = {
    "haiku": ("seq_rep_4", "loop", "eos_rate", "haiku_valid", "haiku_three_lines", "haiku_syllable_error"),
    "chat": ("seq_rep_4", "loop", "eos_rate", "chrf"),
    "python": ("seq_rep_4", "loop", "eos_rate", "python_valid"),
}


def fine_tune(alpha: float, steps: int, seed: int, output_dir: Path) -> Path:
    model, tokenizer = models.load()
    config = cpu_tutorial_config(
        str(output_dir),
        max_steps=steps,
        warmup_steps=5,
        max_length=192,
        train_sampling_strategy="random",
        seed=seed,
        unlikelihood_alpha=alpha,
        repetition_monitor=False,
    )
    data = mixture({"haiku": 400, "chat": None}, seed=seed)
    trainer = SFTTrainer(model=model, args=config, train_dataset=data, processing_class=tokenizer)
    trainer.train()
    trainer.save_model(str(output_dir))
    return output_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--alpha", type=float, default=1.0, help="unlikelihood weight of the second run (paper: 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the per-prompt scores here as JSON")
    args = parser.parse_args()

    rows = load_suites(list(TASK_METRICS))
    decoding = DecodingSettings()
    scores, seconds = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        for alpha in (0.0, args.alpha):
            started = time.perf_counter()
            checkpoint = fine_tune(alpha, args.steps, args.seed, Path(folder) / f"alpha{alpha}")
            seconds[alpha] = time.perf_counter() - started
            run = run_model(f"alpha={alpha}", str(checkpoint), rows, decoding)
            scores[alpha] = {g.id: g.scores for g in run.generations}

    print(
        f"{args.steps} steps each; fine-tuning took " + ", ".join(f"{s:.0f} s (alpha={a})" for a, s in seconds.items())
    )
    print(f"{'task':7s} {'metric':22s} {'alpha=0':>9s} {f'alpha={args.alpha}':>9s}   difference [95% interval]")
    for task, metrics in TASK_METRICS.items():
        ids = [row.id for row in rows if row.task == task]
        for metric in metrics:
            plain = [scores[0.0][i].get(metric, float("nan")) for i in ids]
            unlikely = [scores[args.alpha][i].get(metric, float("nan")) for i in ids]
            difference = paired_bootstrap(plain, unlikely)
            print(
                f"{task:7s} {metric:22s} {np.nanmean(plain):9.3f} {np.nanmean(unlikely):9.3f}   "
                f"{difference.mean:+.3f} [{difference.low:+.3f}, {difference.high:+.3f}]"
            )
    if args.out:
        args.out.write_text(json.dumps({str(a): s for a, s in scores.items()}, indent=1))


if __name__ == "__main__":
    main()
