"""Per-step cost of SFTPlusTrainer's training-time additions against plain trl.SFTTrainer, side by side in one run.

Same tiny workload for both (a random 4-layer Llama on the SmolLM2 tokenizer, the shipped chat rows), same seed;
SFTPlusTrainer runs with its defaults (repetition monitor at its default interval, EOS preflight) and quality filtering
off so both train on identical rows. Runs alternate to cancel drift; the ratio of median seconds per step is printed.
Target: under 1.03.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile

import torch
import trl

from trl_sft_plus import SFTPlusConfig, SFTPlusTrainer, models
from trl_sft_plus.data_loading import tagged
from trl_sft_plus.testing import tiny_llama


def tiny_model(tokenizer):
    return tiny_llama(tokenizer, hidden_size=128, num_layers=4)


def seconds_per_step(plus: bool, tokenizer, dataset, steps: int) -> float:
    common = dict(
        max_steps=steps,
        per_device_train_batch_size=8,
        max_length=128,
        learning_rate=1e-4,
        logging_steps=50,
        save_strategy="no",
        report_to="none",
        bf16=False,
        gradient_checkpointing=False,
        disable_tqdm=True,
        seed=0,
    )
    with tempfile.TemporaryDirectory() as output_dir:
        if plus:
            args = SFTPlusConfig(output_dir=output_dir, quality_filtering=False, **common)
            trainer = SFTPlusTrainer(
                model=tiny_model(tokenizer), args=args, train_dataset=dataset, processing_class=tokenizer
            )
        else:
            args = trl.SFTConfig(output_dir=output_dir, **common)
            trainer = trl.SFTTrainer(
                model=tiny_model(tokenizer), args=args, train_dataset=dataset, processing_class=tokenizer
            )
        metrics = trainer.train().metrics
    return metrics["train_runtime"] / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--steps", type=int, default=100, help="steps per run; the monitor checks once every 100 steps by default"
    )
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs of each trainer")
    args = parser.parse_args()
    torch.set_num_threads(2)
    tokenizer = models.load_tokenizer()
    dataset = tagged("chat").select_columns(["messages"])
    plain, plus = [], []
    for _ in range(args.repeats):
        plain.append(seconds_per_step(False, tokenizer, dataset, args.steps))
        plus.append(seconds_per_step(True, tokenizer, dataset, args.steps))
    ratio = statistics.median(plus) / statistics.median(plain)
    print(
        f"trl.SFTTrainer          {1000 * statistics.median(plain):8.2f} ms/step  runs: {[round(1000 * x, 2) for x in plain]}"
    )
    print(
        f"SFTPlusTrainer (defaults) {1000 * statistics.median(plus):6.2f} ms/step  runs: {[round(1000 * x, 2) for x in plus]}"
    )
    print(f"overhead ratio {ratio:.3f} (target < 1.03) over {args.steps} steps, monitor every 100 steps")


if __name__ == "__main__":
    main()
