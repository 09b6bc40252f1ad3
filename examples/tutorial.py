"""What both tutorial examples do around `trainer.train()`: answer the tutorial prompts before and after training
(on every rank, through the trainer's distributed generator), optionally evaluate once before training, and show
the answers side by side on the main process, with `python_pass` for the prompts that come with tests."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from trl_sft_plus import SFTPlusTrainer, models
from trl_sft_plus.console import print_before_after
from trl_sft_plus.generation import Generation, GenerationSettings
from trl_sft_plus.recipes import cpu_tutorial_config
from trl_sft_plus.validation.scorers import Sample, python_pass_scorer


def parse_args(doc: str, output_dir: str, max_steps: int) -> argparse.Namespace:
    """The flags both examples take."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--model", default=models.DEFAULT_MODEL, help="embedded name, checkpoint folder or hub id")
    parser.add_argument("--output-dir", default=output_dir)
    parser.add_argument("--max-steps", type=int, default=max_steps, help="ignored with --full (one epoch)")
    parser.add_argument("--full", action="store_true", help="train one epoch on every shipped row")
    parser.add_argument("--hub", action="store_true", help="train on the tutorial's hub dataset (needs the network)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=8, help="per device; keep the global batch when scaling out")
    parser.add_argument(
        "--eval-steps", type=int, default=None, help="steps between evaluations (default: half the run)"
    )
    parser.add_argument("--eval-before", action="store_true", help="evaluate the base model first (eval_before.json)")
    parser.add_argument(
        "--lora", type=int, default=0, metavar="RANK", help="train a LoRA adapter of this rank instead of every weight"
    )
    return parser.parse_args()


def peft_config(args: argparse.Namespace):
    """A LoRA on every linear layer when `--lora RANK` is given (what TRL's documentation passes as `peft_config`),
    else None: full fine-tuning."""
    if not args.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(r=args.lora, lora_alpha=2 * args.lora, target_modules="all-linear", task_type="CAUSAL_LM")


def config(args: argparse.Namespace, **overrides):
    """The tutorial recipe with the flags applied: steps (or one full epoch), batch size, evaluation interval, seed."""
    return cpu_tutorial_config(
        args.output_dir,
        max_steps=-1 if args.full else args.max_steps,
        num_train_epochs=1,
        per_device_train_batch_size=args.batch_size,
        eval_strategy="steps",
        eval_steps=args.eval_steps or max(1, args.max_steps // 2),
        seed=args.seed,
        **overrides,
    )


def python_pass(generation: Generation, tests: Sequence[str]) -> float | None:
    """Share of `tests` (assert lines) the answer's code passes, run in the sandbox; None for a prompt without tests."""
    if not tests:
        return None
    sample = Sample(generation.user_text, generation.completion, None, generation.finished, "python", tuple(tests))
    return python_pass_scorer(sample)["python_pass"]


def run(
    trainer: SFTPlusTrainer,
    prompts: Sequence[str],
    settings: GenerationSettings,
    title: str,
    *,
    eval_before: bool = False,
    tests: Sequence[Sequence[str]] | None = None,
) -> None:
    started = time.perf_counter()
    output_dir = Path(trainer.args.output_dir)
    before = trainer.generate_completions(prompts, settings)
    if eval_before:  # the base model's numbers, to read the training curve against
        metrics = trainer.evaluate()
        if trainer.is_world_process_zero():
            output_dir.mkdir(parents=True, exist_ok=True)
            (output_dir / "eval_before.json").write_text(json.dumps(metrics, indent=2))
    trainer.train()
    trainer.save_model(str(output_dir))
    after = trainer.generate_completions(prompts, settings)
    if trainer.is_world_process_zero():
        print_before_after(before, after, title)
        answers = [
            {"prompt": b.user_text, "before": b.completion, "before_eos": b.finished,
             "after": a.completion, "after_eos": a.finished}
            for b, a in zip(before, after, strict=True)
        ]  # fmt: skip
        for answer, b, a, row_tests in zip(answers, before, after, tests or [()] * len(answers), strict=True):
            if row_tests:
                answer["before_python_pass"], answer["after_python_pass"] = (
                    python_pass(b, row_tests),
                    python_pass(a, row_tests),
                )
                print(
                    f"python_pass before {answer['before_python_pass']:.2f}, after {answer['after_python_pass']:.2f}"
                    f" ({len(row_tests)} asserts): {b.user_text}"
                )
        (output_dir / "before_after.json").write_text(json.dumps(answers, indent=2))
        seconds = time.perf_counter() - started
        processes = trainer.accelerator.num_processes
        print(f"Saved to {output_dir}; training and generation took {seconds:.0f} s on {processes} process(es).")
    # every rank waits for the main one's writing, then the process group is closed: a rank that exits with the group
    # open while another still works can abort in gloo's teardown (seen once in 2-process test runs)
    trainer.accelerator.wait_for_everyone()
    trainer.accelerator.end_training()
