"""Training throughput on a CPU, side by side in one run: plain `trl.SFTTrainer` with its defaults against
`SFTPlusTrainer` with its CPU defaults, on the `nox -s eval` rows and the embedded SmolLM2-135M-Instruct.

Columns, in two groups by default (`--columns`; each group trains in turns, then the next group starts):
  trl          trl.SFTTrainer with TRL's defaults (gradient checkpointing, random order, chunked fused LM head), but
               bf16=False: TRL's bf16 default fails without a GPU.
  trl-tuned    trl.SFTTrainer with what a CPU user can set by hand: gradient checkpointing off, group_by_length.
  plus         SFTPlusTrainer with its CPU defaults (no checkpointing, length-grouped batches, full-logits loss) and
               its additions off (no filters, monitor, EOS preflight or validation).
  plus-recipe  SFTPlusTrainer as `nox -s eval` runs it: quality filters (overlong rows dropped), EOS preflight,
               repetition monitor every 60 steps (so not within 20 steps), generation validation (it runs at
               evaluations, and none are scheduled: see `nox -s eval` for their cost), and the unlikelihood loss
               (alpha 1, on the full-logits CPU loss).
The second group is `plus` against itself with one default set back to TRL's, or one more option: plus-fused (TRL's
chunked LM head), plus-random (random order), plus-pad64 (`pad_to_multiple_of=64`).

Every column trains the first STEPS x BATCH_SIZE rows of the shuffled `nox -s eval` mixture (one epoch, the same rows),
from the same weights with the same seed and the tutorial's hyperparameters (batch 8, max_length 192 as `nox -s eval`,
lr 2e-4 cosine; the eval's 5e-5 would not change a step's cost). The columns of a group take turns step by step: each
trainer runs `train()` in its own thread and a callback hands the turn on at every step, so machine noise hits every
column alike. Timed: from each step's start to the next
one's (the step, logging and fetching the next batch), setup excluded. Printed per column: training tokens/s (non-pad
tokens, TRL's `num_tokens`), median step time, the last 5 steps' mean loss, the loss on the 32 held-out rows (same
batches and code for every column) and its difference to the group's first column, and tokens/s as a ratio of the
first column's. Columns that saw the same batches also get their largest per-step loss difference.
Target: `plus` >= 1.3x `trl`. `--profile` adds the top ops of one step per column (left out of the timings).

Memory: about 2 GB per column of a group (weights and Adam states stay alive while the others take their turn).
Try it quickly: `--model tiny --steps 3 --batch-size 2`; timings need a quiet machine.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import trl
from transformers import PrinterCallback, TrainerCallback, set_seed
from trl_sft_plus.evals.run_eval import UNLIKELIHOOD_ALPHA, training_and_validation_rows

from trl_sft_plus import SFTPlusConfig, SFTPlusTrainer, models
from trl_sft_plus.recipes import CPU_TUTORIAL_SETTINGS

ADDITIONS_OFF = dict(
    quality_filtering=False, repetition_monitor=False, eos_preflight=False, generation_validation=False
)
RECIPE_ADDITIONS = dict(  # evals/run_eval.training_config at its default 180 steps, without evaluations or saves
    quality_filter_kwargs=CPU_TUTORIAL_SETTINGS["quality_filter_kwargs"],
    repetition_monitor_steps=60,
    validation_max_new_tokens=128,
    validation_batch_size=16,
    unlikelihood_alpha=UNLIKELIHOOD_ALPHA,
)
PROFILE_STEP = 2  # the step profiled with --profile (the first one warms up), left out of the timings


@dataclass(frozen=True)
class Column:
    trainer: type
    config: Callable[..., object]  # common settings -> config


COLUMNS = {
    "trl": Column(trl.SFTTrainer, lambda **c: trl.SFTConfig(**c, bf16=False)),
    "trl-tuned": Column(
        trl.SFTTrainer,
        lambda **c: trl.SFTConfig(
            **c, bf16=False, gradient_checkpointing=False, train_sampling_strategy="group_by_length"
        ),
    ),
    "plus": Column(SFTPlusTrainer, lambda **c: SFTPlusConfig(**c, **ADDITIONS_OFF)),
    "plus-recipe": Column(SFTPlusTrainer, lambda **c: SFTPlusConfig(**c, **RECIPE_ADDITIONS)),
    "plus-fused": Column(SFTPlusTrainer, lambda **c: SFTPlusConfig(**c, **ADDITIONS_OFF, full_logits_loss=False)),
    "plus-random": Column(
        SFTPlusTrainer, lambda **c: SFTPlusConfig(**c, **ADDITIONS_OFF, train_sampling_strategy="random")
    ),
    "plus-pad64": Column(SFTPlusTrainer, lambda **c: SFTPlusConfig(**c, **ADDITIONS_OFF, pad_to_multiple_of=64)),
}


class Turns:
    """Whose turn it is among named runners; a finished runner is skipped."""

    def __init__(self, names: list[str]):
        self.order, self.current, self.done = names, names[0], set()
        self.condition = threading.Condition()

    def wait(self, name: str) -> None:
        with self.condition:
            self.condition.wait_for(lambda: self.current == name)

    def hand_on(self, name: str, finished: bool = False) -> None:
        with self.condition:
            if finished:
                self.done.add(name)
            if self.current != name:
                return
            start = self.order.index(name)
            for offset in range(1, len(self.order) + 1):
                candidate = self.order[(start + offset) % len(self.order)]
                if candidate not in self.done:
                    self.current = candidate
                    break
            self.condition.notify_all()


@dataclass
class StepClock(TrainerCallback):
    """Takes turns at every step and times each step: `intervals[step]` runs from that step's start to the next one's
    (or to the end of training), `step_seconds[step]` from its start to its end."""

    name: str
    turns: Turns
    profile: bool = False
    intervals: dict[int, float] = field(default_factory=dict)
    step_seconds: dict[int, float] = field(default_factory=dict)
    profile_table: str = ""
    _held_since: float | None = None
    _step: int = 0
    _profiler: torch.profiler.profile | None = None

    def _close_interval(self) -> None:
        if self._held_since is not None:
            self.intervals[self._step] = time.perf_counter() - self._held_since

    def on_step_begin(self, args, state, control, **kwargs):
        self._close_interval()
        self.turns.hand_on(self.name)
        self.turns.wait(self.name)
        self._step = state.global_step + 1
        if self.profile and self._step == PROFILE_STEP:
            self._profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
            self._profiler.__enter__()
        self._held_since = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.step_seconds[self._step] = time.perf_counter() - self._held_since
        if self._profiler is not None:
            self._profiler.__exit__(None, None, None)
            self.profile_table = profile_summary(self._profiler, self.step_seconds[self._step])
            self._profiler = None

    def on_train_end(self, args, state, control, **kwargs):
        self._close_interval()
        self._held_since = None


def profile_summary(profiler: torch.profiler.profile, seconds: float) -> str:
    events = profiler.key_averages()
    head = ("ChunkedLogProbFunction", "ChunkedLogProbFunctionBackward")  # TRL's autograd function, both passes
    chunked = sum(e.cpu_time_total for e in events if e.key in head) / 1e6
    table = events.table(sort_by="self_cpu_time_total", row_limit=12, max_name_column_width=48)
    return f"step {seconds:.2f} s, TRL's chunked LM head (forward + backward) {chunked:.2f} s\n{table}"


def common_settings(steps: int, batch_size: int, output_dir: str, seed: int) -> dict:
    keep = ("learning_rate", "lr_scheduler_type", "warmup_steps")
    return dict(
        {key: CPU_TUTORIAL_SETTINGS[key] for key in keep},
        per_device_train_batch_size=batch_size,
        output_dir=output_dir,
        max_steps=steps,
        max_length=192,  # as `nox -s eval` trains
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=seed,
    )


def run_in_turns(trainers: dict[str, object], clocks: dict[str, StepClock], turns: Turns, seed: int) -> None:
    errors: dict[str, BaseException] = {}

    def run(name: str) -> None:
        turns.wait(name)
        try:
            set_seed(seed)  # the same sampler draws for columns that use the same sampler
            trainers[name].train()
        except BaseException as error:  # noqa: B036 - re-raised in the main thread
            errors[name] = error
        finally:
            turns.hand_on(name, finished=True)

    threads = [threading.Thread(target=run, args=(name,), name=name) for name in trainers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        name, error = next(iter(errors.items()))
        raise RuntimeError(f"column {name} failed") from error


def held_out_loss(model, tokenizer, rows, batch_size: int = 8) -> float:
    """Mean next-token loss over every token of the held-out conversations, the same batches for every column."""
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    collator = DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id)
    examples = [
        {"input_ids": tokenizer.apply_chat_template(row["messages"], tokenize=True, return_dict=True)["input_ids"]}
        for row in rows
    ]
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(examples), batch_size):
            batch = collator(examples[start : start + batch_size])
            n = int((batch["labels"][:, 1:] != -100).sum())
            out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
            total, count = total + out.loss.item() * n, count + n
    return total / count


@dataclass
class Result:
    tokens_per_second: float
    median_step: float
    final_loss: float
    step_losses: dict[int, float]
    step_tokens: dict[int, int]
    held_out: float
    dtype: str


def result_of(trainer, clock: StepClock, tokenizer, held_out_rows) -> Result:
    logs = [entry for entry in trainer.state.log_history if "loss" in entry and "num_tokens" in entry]
    cumulative = {int(entry["step"]): int(entry["num_tokens"]) for entry in logs}
    tokens = {step: cumulative[step] - cumulative.get(step - 1, 0) for step in cumulative}
    timed = [step for step in clock.intervals if not (clock.profile and step == PROFILE_STEP)]
    return Result(
        tokens_per_second=sum(tokens[s] for s in timed) / sum(clock.intervals[s] for s in timed),
        median_step=statistics.median(clock.step_seconds[s] for s in timed),
        final_loss=statistics.mean(entry["loss"] for entry in logs[-5:]),
        step_losses={int(entry["step"]): entry["loss"] for entry in logs},
        step_tokens=tokens,
        held_out=held_out_loss(trainer.model, tokenizer, held_out_rows),
        dtype="bf16 autocast" if trainer.args.bf16 else "fp32",
    )


def report(results: dict[str, Result], steps: int, batch_size: int, rows: int) -> None:
    names = list(results)
    first = results[names[0]]
    print(
        f"\n{steps} steps x batch {batch_size} ({rows} rows of the nox -s eval mixture), {torch.get_num_threads()} threads"
    )
    print(f"{'column':<12} {'tokens/s':>9} {'ratio':>6} {'median step':>11} {'loss (last 5)':>13} {'held-out':>9} "
          f"{'diff':>8}  dtype")  # fmt: skip
    for name, r in results.items():
        print(
            f"{name:<12} {r.tokens_per_second:9.1f} {r.tokens_per_second / first.tokens_per_second:5.2f}x "
            f"{r.median_step:10.2f}s {r.final_loss:13.4f} {r.held_out:9.4f} {r.held_out - first.held_out:+8.4f}  "
            f"{r.dtype}"
        )
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ra, rb = results[a], results[b]
            if ra.step_tokens == rb.step_tokens:  # the same batches in the same order
                worst = max(
                    abs(rb.step_losses[s] - ra.step_losses[s]) / abs(ra.step_losses[s]) for s in ra.step_losses
                )
                print(f"{b} vs {a}: same batches; logged per-step losses (4 decimals) differ by at most {worst:.1e}")
    if "plus" in results and "trl" in results:
        ratio = results["plus"].tokens_per_second / results["trl"].tokens_per_second
        print(f"plus / trl training tokens/s: {ratio:.2f}x (target >= 1.3x)")


def run_group(names: list[str], model, tokenizer, rows, held_out, args) -> None:
    """Train the named columns in turns, then print their table (ratios against the group's first column)."""
    turns = Turns(names)
    trainers, clocks = {}, {}
    with tempfile.TemporaryDirectory() as output_dir:
        for name in names:
            column = COLUMNS[name]
            config = column.config(**common_settings(args.steps, args.batch_size, f"{output_dir}/{name}", args.seed))
            clocks[name] = StepClock(name, turns, profile=args.profile)
            trainers[name] = column.trainer(
                model=copy.deepcopy(model),  # each trainer patches its own copy's forward
                args=config,
                train_dataset=rows,
                processing_class=tokenizer,
                callbacks=[clocks[name]],
            )
            trainers[name].remove_callback(PrinterCallback)  # every step is logged; the table sums them up
        run_in_turns(trainers, clocks, turns, args.seed)
        results = {name: result_of(trainers[name], clocks[name], tokenizer, held_out) for name in names}
    report(results, args.steps, args.batch_size, len(rows))
    if args.profile:
        for name in names:
            print(f"\n== {name}: top ops of step {PROFILE_STEP} by self CPU time ==\n{clocks[name].profile_table}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps per column (one epoch)")
    parser.add_argument("--batch-size", type=int, default=CPU_TUTORIAL_SETTINGS["per_device_train_batch_size"])
    parser.add_argument(
        "--columns",
        default="trl,trl-tuned,plus,plus-recipe;plus,plus-fused,plus-random,plus-pad64",
        help=f"comma-separated columns trained in turns; ';' starts another group, run after it. From {', '.join(COLUMNS)}",
    )
    parser.add_argument("--profile", action="store_true", help=f"print the top ops of step {PROFILE_STEP} of each")
    parser.add_argument("--model", default=models.DEFAULT_MODEL, help="'tiny' (a random 2-layer model) to try it")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the machine's cores by default: 2)")
    args = parser.parse_args()
    groups = [[name.strip() for name in group.split(",")] for group in args.columns.split(";")]
    unknown = {name for group in groups for name in group} - set(COLUMNS)
    if unknown:
        parser.error(f"unknown columns {sorted(unknown)}; choose from {', '.join(COLUMNS)}")
    if args.profile and args.steps <= PROFILE_STEP:
        parser.error(f"--profile needs --steps > {PROFILE_STEP}")
    torch.set_num_threads(args.threads)

    if args.model == "tiny":
        from trl_sft_plus.testing import tiny_llama

        tokenizer = models.load_tokenizer()
        model = tiny_llama(tokenizer)
    else:
        model, tokenizer = models.load(args.model)
    train, held_out = training_and_validation_rows(args.seed)
    rows = train.select(range(min(len(train), args.steps * args.batch_size)))
    rows = rows.remove_columns([c for c in rows.column_names if c != "messages"])
    for group in groups:
        run_group(group, model, tokenizer, rows, held_out, args)


if __name__ == "__main__":
    main()
