"""`nox -s rl`: a second stage after `nox -s eval`, trained on the scorers' verdicts, then base / SFT / stage.

The SFT checkpoint answers the training prompts greedily; the same scorers that judge it (haiku form, on topic, EOS,
no loop) accept or reject each answer, and the stage fine-tunes on every prompt: on the model's own answer where it
was accepted, on the verified reference answer where it was rejected; a haiku row trains on its first line only
(`FIRST_LINE_ONLY`), the line whose length the model gets wrong, so that the stage cannot narrow lines 2 and 3. Chat
rows are replayed, judged the same way (the model's own answer where it ends, does not loop and restates the question
no more than the reference does), so that what SFT taught stays. The stage's model is then compared with the SFT
model on the shipped suites (the gate fails when a tracked metric got worse), and `three_way.md` puts base, SFT and
stage side by side.

The method was chosen by measurement on 2 CPU cores (README, "Second stage"): GRPO (40 steps, lr 1e-5 or 5e-5)
lowered greedy haiku validity; DPO on (verified reference, rejected greedy answer) pairs moved haiku_valid 0.062 ->
0.094 in 12 minutes; rejection sampling of the SFT model's own answers rescued too few prompts (17% of prompts for the
seed-2 checkpoint of the whole-topic data in 8 samples; 15 of 80 greedy failures for the head-noun checkpoint in 4
samples at T=0.8, 126 s for 512 samples); fine-tuning on the references of the rejected prompts alone helped
checkpoints that wrote no haiku, but on the head-noun checkpoints it swapped the one line-1 tail the model uses for
another (haiku_valid 0.375 -> 0.250 from seed 0); adding the accepted prompts on the model's own answers took three
head-noun checkpoints to 0.469, 0.406 and 0.406, but from a fourth (seed 3) 4 of 32 chat answers looped again at
lr 1e-4 with the chat references replayed. At lr 5e-5 with the chat rows judged, no chat answer of seed 3 loops;
from seed 4 the chat answers then restate the question more (prompt_echo +0.065), which its gate fails, and so did
the current SFT recipe's seed-0 checkpoint (+0.099, +0.081); with the echo check on the replayed chat answers
+0.042 (n.s., passed) and, with another draw of stage prompts, +0.061 (failed): narrowed, not removed. Keeping an own
answer only where it echoes at most half as much as the reference did worse (+0.054, failed): the stage shortens the
chat answers (178 -> 98-124 characters on average from that checkpoint), so the sentence that restates the question
weighs more. From the checkpoints of the current SFT mixture (535 functions) all three gates passed (chat
prompt_echo +0.033, +0.015, -0.023, n.s.) and seed 0's haiku_valid rose 0.250 -> 0.438, but by narrowing the poems
to four templates with the topic swapped in (haiku `cross_prompt_distinct_masked` 0.69 -> 0.22; 0.66 -> 0.28 and
0.84 -> 0.19 from seeds 1, 2), which `collapsed_tasks` now fails. Keeping one own answer per template
(`MAX_OWN_PER_TEMPLATE`) gave haiku_valid 0.562 / 0.438 / 0.500 and masked distinct 0.41 / 0.38 / 0.16: still failed.
Taking the reference's line 1 with the model's own lines 2 and 3 for rejected answers narrowed more (seed 0: 0.781 ->
0.312). The cause is the data: lines 2 and 3 do not depend on the topic, so training on them, references or own
answers, moves greedy decoding toward one ending. Since the haiku data writes line 2 clause first (2026-12-06), the
stage trains haiku rows on line 1 only (`FIRST_LINE_ONLY`; README, "Second stage").
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from datasets import Dataset, concatenate_datasets
from matplotlib.figure import Figure

from trl_sft_plus import SFTTrainer, models
from trl_sft_plus.data_loading import tagged
from trl_sft_plus.generation import GenerationSettings, generate
from trl_sft_plus.recipes import cpu_tutorial_config
from trl_sft_plus.validation.scorers import Sample, without_prompt_words
from trl_sft_plus.validation.scoring import score_generations

from . import cli
from .results import load_results, write_json
from .suite import TASK_MAX_NEW_TOKENS
from .three_way import three_way_markdown

HAIKU_PROMPTS = 384  # training prompts the SFT model answers; about 2 minutes of greedy decoding on 2 cores
# Without replay, haiku-only rows taught chat answers to loop (loop 0 -> 0.094); replaying function rows too, at lr
# 1e-4, lengthened and repeated the code (python seq_rep_4 +0.020 [+0.001, +0.044]); 64 function rows kept the seed-0
# checkpoint writing `def` but repeated the code of seeds 3 and 4 (seq_rep_4 +0.033, +0.037, worse). The chat
# references replayed at lr 1e-4 (or 192 of them, or at 5e-5) doubled the seed-3 checkpoint's chat answers (80 ->
# 115-172 characters; chat seq_rep_4 worse in every variant): its own short answers replayed keep them (94).
REPLAY = {"chat": 96}
LEARNING_RATE = 5e-5  # the SFT recipe's; at 1e-4 the seed-3 checkpoint's chat answers looped (4 of 32)
# Greedy decoding of the answers to judge, per task: a haiku fits in 40 tokens; chat gets the suite's limit (128)
JUDGED_DECODING = {
    "haiku": GenerationSettings(max_new_tokens=40, batch_size=64),
    "chat": GenerationSettings(max_new_tokens=TASK_MAX_NEW_TOKENS["chat"], batch_size=32),
}
MAX_ANSWER_CHARS = 500
# An answer is accepted when every listed score is 1 (and it ended with EOS and did not loop)
ACCEPTED_WHEN = {"haiku": ("haiku_valid", "haiku_on_topic")}
# Tasks whose own answer is kept only when it restates the prompt no more than the reference does: with every
# ending, non-looping chat answer kept (95 of 96), the current SFT recipe's seed-0 checkpoint came out of the stage
# with chat prompt_echo +0.099 and +0.081 (two runs, 2026-11-27), over the gate's tolerance
ECHO_AT_MOST_REFERENCE = ("chat",)


# The stage replays the SFT model's own accepted answers, which can narrow a task's answers to one template with the
# topic swapped in ("guard in the rain / the stones shine bright on the rocks / wet boots, the world young"); the
# unmasked cross-prompt share still counts those as distinct. Measured 2026-11-27: haiku 0.66-0.84 after SFT, 0.19-0.34
# after the stage (seeds 0-2), against 0.94-1.00 for chat before and after. A fall of more than this fails the stage.
MAX_MASKED_DISTINCT_DROP = 0.2
MASKED_DISTINCT = "cross_prompt_distinct_masked"
# Own answers kept per template (the answer without its prompt's words) and task; the others train on their verified
# reference. From the seed-0 SFT checkpoint (2026-11-27): no cap kept 86 own haiku, haiku_valid 0.250 -> 0.438 and
# masked distinct 0.688 -> 0.219; at most 2 per template kept 55, 0.562 and 0.438; at most 1 kept 39, 0.562 (+0.312
# [+0.156, +0.500]), on-topic 0.906 and 0.406: the narrowing is halved, not removed (collapsed_tasks still fails it).
MAX_OWN_PER_TEMPLATE = {"haiku": 1}
# Tasks whose rows train on the answer's first line only (the conversation up to it; lines 2 and 3 get no loss). In
# the shipped haiku data lines 2 and 3 come from scenes drawn whatever the topic, so their most likely greedy
# continuation is one ending for every topic, and every stage that trained on them moved the model toward it. From
# the seed-0 checkpoint of the clause-first data (2026-12-06): trained on whole answers, haiku_valid 0.406 -> 0.375
# and masked distinct 0.719 -> 0.344 (8 endings for 32 poems, 13 alike); on line 1 only, 0.469 and 0.656 (18 endings).
# From seed 1 both lose validity (line 1 only 0.469 -> 0.312, whole answers -> 0.281; masked 0.562 either way); from
# seed 2, line 1 only 0.406 -> 0.500 with masked 0.844 kept.
FIRST_LINE_ONLY = ("haiku",)


def collapsed_tasks(results: Mapping) -> list[str]:
    """The tasks whose answers the stage narrowed (`MASKED_DISTINCT` of the stage, `tuned`, more than
    `MAX_MASKED_DISTINCT_DROP` under the SFT model's, `base`), each described in one line."""
    found = []
    for task, sft in results["set_metrics"]["base"].items():
        before, after = sft.get(MASKED_DISTINCT), results["set_metrics"]["tuned"].get(task, {}).get(MASKED_DISTINCT)
        if before is not None and after is not None and before - after > MAX_MASKED_DISTINCT_DROP:
            found.append(
                f"{task}: {MASKED_DISTINCT} {before:.3f} -> {after:.3f} (more than {MAX_MASKED_DISTINCT_DROP} lower)"
            )
    return found


def accepted(scores: dict[str, float], task: str) -> bool:
    """The scorers' verdict on one greedy answer: ends with EOS, no loop, and every check of its task passes."""
    checks = [scores.get("eos_rate") == 1.0, scores.get("loop") == 0.0]
    checks += [scores.get(name) == 1.0 for name in ACCEPTED_WHEN.get(task, ())]
    return all(checks)


def judged_rows(model, tokenizer, rows: Dataset, settings: GenerationSettings) -> tuple[Dataset, int]:
    """Every row, with the answer the stage trains on: the SFT model's own greedy answer where the scorers accept it,
    the verified reference where they reject it; and how many were accepted. Keeping the accepted prompts on the
    model's own answers stops the stage from shifting the haiku prior toward the rejected ones: trained on the rejected
    prompts alone, the seed-0 checkpoint swapped its one line-1 tail for another (line 1 right for 1-syllable nouns
    3/11 -> 9/9, for 2-syllable nouns 11/13 -> 0/14). One task's rows at a time (`settings` sizes its answers)."""
    conversations = rows["messages"]
    generations = generate(model, tokenizer, [messages[:-1] for messages in conversations], settings)
    samples = [
        Sample(generation.user_text, generation.completion, finished=generation.finished, task=task)
        for generation, task in zip(generations, rows["task"], strict=True)
    ]
    scored = score_generations(samples)
    verdicts = [accepted(scores, sample.task) for sample, (scores, _) in zip(samples, scored, strict=True)]
    checked = [i for i, sample in enumerate(samples) if sample.task in ECHO_AT_MOST_REFERENCE]
    references = [
        Sample(samples[i].prompt, conversations[i][-1]["content"], finished=True, task=samples[i].task)
        for i in checked
    ]
    for i, (reference_scores, _) in zip(checked, score_generations(references), strict=True):
        verdicts[i] = verdicts[i] and scored[i][0]["prompt_echo"] <= reference_scores["prompt_echo"]
    templates: Counter = Counter()
    for i, sample in enumerate(samples):
        if verdicts[i] and sample.task in MAX_OWN_PER_TEMPLATE:
            template = (sample.task, without_prompt_words(sample.prompt, sample.completion))
            templates[template] += 1
            verdicts[i] = templates[template] <= MAX_OWN_PER_TEMPLATE[sample.task]

    def answer(row: dict, index: int) -> dict:
        if verdicts[index]:
            own = {"role": "assistant", "content": generations[index].completion.strip()}
            return {"messages": [*row["messages"][:-1], own]}
        return {"messages": row["messages"]}

    return rows.map(answer, with_indices=True), sum(verdicts)


def with_loss_masks(rows: Dataset, tokenizer, first_line_only: tuple[str, ...]) -> Dataset:
    """The rows tokenized as TRL tokenizes a conversation (the chat template's text, no special tokens added), with
    TRL's `assistant_masks` column: 1 for every token, except that rows of a task in `first_line_only` train on the
    conversation up to the end of the answer's first line only (what follows it gets no loss)."""

    def tokenize(row: dict, index: int) -> dict:
        text = tokenizer.apply_chat_template(row["messages"], tokenize=False)
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        end = len(text)
        if row["task"] in first_line_only:
            answer = row["messages"][-1]["content"]
            if "\n" not in answer.strip():
                raise ValueError(f"Stage row {index} ({row['task']}): the answer has one line, {answer!r}.")
            prefix = tokenizer.apply_chat_template(row["messages"][:-1], tokenize=False, add_generation_prompt=True)
            prefix += answer[: answer.index("\n", len(answer) - len(answer.lstrip())) + 1]
            if not text.startswith(prefix):
                raise ValueError(f"Stage row {index}: the chat template does not render the prompt as a prefix.")
            end = len(prefix)
        masks = [int(start < end) for start, _ in encoded["offset_mapping"]]
        return {"input_ids": encoded["input_ids"], "assistant_masks": masks}

    return rows.map(tokenize, with_indices=True, remove_columns=rows.column_names)


def stage_rows(model, tokenizer, seed: int) -> tuple[Dataset, dict[str, int]]:
    haiku = tagged("haiku", HAIKU_PROMPTS, seed=seed + 1000)  # another draw than the SFT mixture's
    judged, accepted_count = judged_rows(model, tokenizer, haiku, JUDGED_DECODING["haiku"])
    counts = {"haiku_prompts": len(haiku), "haiku_accepted": accepted_count}
    counts["haiku_rejected"] = len(haiku) - accepted_count
    parts = [judged]
    for name, size in REPLAY.items():
        replay = tagged(name, size, seed=seed, max_answer_chars=MAX_ANSWER_CHARS)
        replay, counts[f"replay_{name}_accepted"] = judged_rows(model, tokenizer, replay, JUDGED_DECODING[name])
        counts[f"replay_{name}"] = len(replay)
        parts.append(replay)
    return concatenate_datasets(parts).shuffle(seed=seed), counts


def loss_figure(log_history: list[dict] | Mapping[str, list[dict]]) -> Figure:
    """The stage's training loss by step (`training.png`), from the trainer's log history; given several runs' histories
    by name, one labelled line each (the README's comparison of stage designs)."""
    runs = log_history if isinstance(log_history, Mapping) else {"": log_history}
    figure = Figure(figsize=(5, 3) if len(runs) == 1 else (6.5, 3.5))
    axes = figure.add_subplot()
    for name, history in runs.items():
        points = [(entry["step"], float(entry["loss"])) for entry in history if "loss" in entry and "step" in entry]
        axes.plot([step for step, _ in points], [loss for _, loss in points], marker="o", label=name or None)
    axes.set(xlabel="step", ylabel="training loss", title="second stage")
    if len(runs) > 1:
        axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def train_stage(sft: Path, out: Path, seed: int) -> tuple[Path, dict[str, int]]:
    model, tokenizer = models.load(str(sft))
    model = models.to_inference_device(model)  # the answers are selected by generating; Trainer places it next
    started = time.perf_counter()
    rows, counts = stage_rows(model, tokenizer, seed)
    counts["selection_seconds"] = round(time.perf_counter() - started)
    print(f"Stage rows: {counts}")
    args = cpu_tutorial_config(
        str(out / "run"),
        learning_rate=LEARNING_RATE,
        num_train_epochs=1,
        warmup_steps=2,
        max_length=192,
        seed=seed,
    )
    rows = with_loss_masks(rows, tokenizer, FIRST_LINE_ONLY)
    trainer = SFTTrainer(model=model, args=args, train_dataset=rows, processing_class=tokenizer)
    trainer.train()
    stage = out / "tuned"
    trainer.save_model(str(stage))
    counts["training_seconds"] = round(time.perf_counter() - started - counts["selection_seconds"])
    write_json({"rows": counts, "log_history": trainer.state.log_history}, out / "training.json")
    loss_figure(trainer.state.log_history).savefig(out / "training.png")
    return stage, counts


def compare_with_sft(sft_folder: Path, stage: Path, out: Path) -> int:
    """`evals compare` of the SFT model (base) and the stage (tuned), gated; the SFT model's answers come from the
    eval's results.json when they are reusable (same weights, prompts, decoding: about 60 s saved), else generated."""
    compare = ["compare", "--base", str(sft_folder / "tuned"), "--tuned", str(stage), "--out", str(out)]
    compare += ["--allow-code-execution", "--fail-on-regression"]
    sft_results = sft_folder / "results.json"
    if sft_results.is_file():
        status = cli.main([*compare, "--base-results", str(sft_results)])
        if status != cli.EXIT_BAD_INPUT:
            return status
        print(f"The SFT model's answers in {sft_results} are not reusable (above); generating them again.")
    return cli.main(compare)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sft", type=Path, default=Path("eval-results"), help="the `nox -s eval` output folder")
    parser.add_argument("--out", type=Path, default=Path("eval-results/rl"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-training", action="store_true", help="compare an existing OUT/tuned checkpoint")
    args = parser.parse_args()
    sft = args.sft / "tuned"
    if not (sft / "config.json").is_file():
        raise SystemExit(f"No SFT checkpoint in {sft}: run `nox -s eval` first (or pass --sft FOLDER).")

    started = time.perf_counter()
    stage = args.out / "tuned"
    if not args.skip_training:
        stage, _ = train_stage(sft, args.out, args.seed)
    trained = time.perf_counter()
    status = compare_with_sft(args.sft, stage, args.out)
    sft_results = args.sft / "results.json"
    if status in (0, 1):
        stage_results = load_results(args.out / "results.json")
        if sft_results.is_file():
            table = three_way_markdown(load_results(sft_results), stage_results)
            (args.out / "three_way.md").write_text(table, encoding="utf-8")
            print(table)
        if collapsed := collapsed_tasks(stage_results):
            print("The stage narrowed its answers to templates (a failure, as a regression is):")
            print("\n".join(f"  COLLAPSED: {line}" for line in collapsed))
            status = cli.EXIT_REGRESSION
    done = time.perf_counter()
    print(f"Stage checkpoint: {stage.resolve()}; reports under {args.out.resolve()}")
    print(f"Stage {trained - started:.0f} s, comparison {done - trained:.0f} s, total {done - started:.0f} s.")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
