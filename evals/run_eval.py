"""`nox -s eval`: fine-tune the embedded SmolLM2-135M-Instruct on the shipped data with SFTPlusTrainer (filtering,
monitoring and validation on), keep the result as a plain checkpoint in `eval-results/tuned/`, then compare base and
tuned on the shipped suites with `python -m evals compare` and write the reports under `eval-results/`; the
comparison's tables are also appended to the tuned model's card, `eval-results/tuned/README.md`.

The defaults fit the 20-minute budget on 2 CPU cores: measured 830 s of fine-tuning (with three evaluations and
three monitor checks) and 165 s for the comparison, 16.6 minutes in all, on a CPU without native bf16.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from datasets import Dataset, concatenate_datasets

from trl_sft_plus import SFTTrainer, models
from trl_sft_plus.config import has_accelerator
from trl_sft_plus.data_loading import mixture, tagged
from trl_sft_plus.recipes import cpu_tutorial_config

from . import cli
from .environment import training_record, write_training_record

# Rows per task: haiku teaches the 5-7-5 form and stopping, chat teaches answering and stopping, and the verified
# standalone functions of `python-functions` teach what users ask for: the function the prompt names, with the
# arguments it states, correct (each row passed its tests in the sandbox), fenced, then EOS. The standard-library
# methods of `python-stdlib` are left out: they taught a spurious `self` and `self.f(self.f(...` loops. Answers of
# at most 500 characters keep a step near 2 s on 2 CPU cores.
DEFAULT_SIZES = {"haiku": 1000, "chat": None}
HELD_OUT_FUNCTIONS = 16  # validation prompts whose code runs against their tests: the checkpoint is chosen on them
MAX_ANSWER_CHARS = 500
LEARNING_RATE = 5e-5
# Welleck et al.'s token-level unlikelihood term, against the loops the seed's failure is about. Paired against the same
# seed without it (2026-11-27): python loops 4 -> 2 of 48, nothing worse, no interval excluding zero (README); it costs
# 20% more fine-tuning time (it needs TRL's fused LM head, so the full-logits CPU loss is off).
UNLIKELIHOOD_ALPHA = 1.0
CARD_MARKER = "<!-- nox -s eval: base versus tuned -->"
BF16_MODES = ("auto", "on", "off")


def bf16_overrides(mode: str) -> dict[str, bool]:
    """`auto` leaves the choice to SFTPlusConfig (bf16 autocast only on a CPU that computes bf16 natively); `on` and
    `off` force it, to make the baseline reruns that cover both modes (examples/ci/README.md). On a CPU without
    native bf16, `on` is emulated and slower than fp32."""
    if mode not in BF16_MODES:
        raise ValueError(f"bf16 mode must be one of {', '.join(BF16_MODES)}, got {mode!r}")
    if mode == "auto":
        return {}
    if mode == "off":
        return {"bf16": False}
    return {"bf16": True, "use_cpu": not has_accelerator()}  # TrainingArguments takes CPU bf16 only with use_cpu


def training_config(output_dir: Path, steps: int, seed: int, bf16: str = "auto"):
    """The tutorial recipe plus our tools against the seed's failure: the unlikelihood loss, three evaluations that
    generate and run the held-out functions' tests, and the checkpoint with the best `eval_gen_score` (ends, no loop,
    no echo, haiku form, Python that passes its tests) loaded at the end, not the last one."""
    every = max(1, steps // 3)
    return cpu_tutorial_config(
        str(output_dir),
        max_steps=steps,
        max_length=192,
        # A quarter of the tutorial's 2e-4: at 2e-4 the checkpoints of a 120-step run wrote garbled code (python_pass
        # 0.32 -> 0.05 at step 40, `" ".join(char.split(" ").split(" ")...`) while learning the haiku form.
        learning_rate=LEARNING_RATE,
        unlikelihood_alpha=UNLIKELIHOOD_ALPHA,
        eval_strategy="steps",
        eval_steps=every,
        save_strategy="steps",
        save_steps=every,
        save_only_model=True,
        save_total_limit=1,
        load_best_model_at_end=True,
        metric_for_best_model="eval_gen_score",
        greater_is_better=True,
        per_device_eval_batch_size=8,
        seed=seed,
        repetition_monitor_steps=every,
        validation_max_new_tokens=128,
        validation_batch_size=16,
        validation_allow_code_execution=True,
        **bf16_overrides(bf16),
    )


def training_and_validation_rows(seed: int) -> tuple[Dataset, Dataset]:
    functions = tagged("python-functions", seed=seed, max_answer_chars=MAX_ANSWER_CHARS, keep_tests=True)
    functions = functions.shuffle(seed=seed)
    held_out = functions.select(range(HELD_OUT_FUNCTIONS))
    trained = functions.select(range(HELD_OUT_FUNCTIONS, len(functions))).remove_columns("tests")
    train = concatenate_datasets([mixture(DEFAULT_SIZES, seed=seed, max_answer_chars=MAX_ANSWER_CHARS), trained])
    train = train.shuffle(seed=seed)
    no_tests = [tagged("haiku-heldout", 12, seed=seed), tagged("chat", 4, seed=seed + 1)]
    no_tests = [
        d.add_column("tests", [[]] * len(d)).cast_column("tests", held_out.features["tests"]) for d in no_tests
    ]
    return train, concatenate_datasets([*no_tests, held_out])


def fine_tune(output_dir: Path, steps: int, seed: int, bf16: str = "auto") -> Path:
    model, tokenizer = models.load(models.DEFAULT_MODEL)
    train, evaluation = training_and_validation_rows(seed)
    trainer = SFTTrainer(
        model=model,
        args=training_config(output_dir / "run", steps, seed, bf16),
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
    )
    trainer.train()
    best = trainer.state.best_model_checkpoint
    print(f"Best checkpoint by eval_gen_score: {best} ({trainer.state.best_metric})")
    tuned = output_dir / "tuned"
    trainer.save_model(str(tuned))  # config.json, model.safetensors, tokenizer files with the chat template
    # Seed, bf16 mode and machine travel with the checkpoint: `compare` puts them in results.json for the gate
    write_training_record(tuned, training_record(trainer.args, trainer.accelerator.mixed_precision))
    return tuned


def add_comparison_to_card(out: Path, tuned: Path) -> None:
    """Append `OUT/report.md` without its examples, headings one level down, to the tuned model's README.md; a
    second comparison of the same checkpoint replaces the first."""
    card, report = tuned / "README.md", out / "report.md"
    if not card.is_file() or not report.is_file():
        return
    tables = report.read_text(encoding="utf-8").split("\n## Examples")[0].rstrip().splitlines()
    tables = [f"#{line}" if line.startswith("#") else line for line in tables]
    text = card.read_text(encoding="utf-8")
    if CARD_MARKER in text:
        text = text[: text.index(CARD_MARKER)].rstrip("\n") + "\n"
    card.write_text(text + f"\n{CARD_MARKER}\n" + "\n".join(tables) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("eval-results"))
    parser.add_argument("--steps", type=int, default=120, help="fine-tuning steps at batch 8")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--bf16",
        choices=BF16_MODES,
        default="auto",
        help="bf16 autocast in training: auto (where the CPU computes bf16 natively), on or off; reruns for a "
        "multi-run CI baseline switch it (default %(default)s)",
    )
    parser.add_argument("--skip-training", action="store_true", help="compare an existing OUT/tuned checkpoint")
    parser.add_argument("--train-only", action="store_true", help="stop after saving OUT/tuned (CI gates it next)")
    args = parser.parse_args()

    started = time.perf_counter()
    tuned = args.out / "tuned"
    if not args.skip_training:
        tuned = fine_tune(args.out, args.steps, args.seed, args.bf16)
    trained = time.perf_counter()
    if args.train_only:
        print(f"Tuned checkpoint: {tuned.resolve()} (fine-tuning {trained - started:.0f} s)")
        return 0
    status = cli.main(
        [
            "compare",
            "--base",
            models.DEFAULT_MODEL,
            "--tuned",
            str(tuned),
            "--out",
            str(args.out),
            "--allow-code-execution",
        ]
    )
    if status in (0, 1):  # 2: the comparison did not run, and report.md may be an older run's
        add_comparison_to_card(args.out, tuned)
    done = time.perf_counter()
    print(f"Tuned checkpoint: {tuned.resolve()}")
    print(f"Reports: {(args.out / 'report.html').resolve()} and {(args.out / 'report.md').resolve()}")
    print(f"Fine-tuning {trained - started:.0f} s, comparison {done - trained:.0f} s, total {done - started:.0f} s.")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
