"""GRPO: our rewards inside real GRPOTrainer steps (tiny models, CPU), GRPOPlusTrainer's monitor, validation and
collapse check, and the collapse statistics on hand-written batches."""

from __future__ import annotations

import dataclasses
import inspect
import logging
import math
import types

import pytest
import trl
from datasets import Dataset
from transformers import TrainerControl, TrainerState

from trl_sft_plus import GRPOConfig, GRPOPlusConfig, GRPOPlusTrainer, GRPOTrainer
from trl_sft_plus.repetition.collapse import CollapseCallback, sampled_distinctness
from trl_sft_plus.rewards import completion_text, prompt_text, weighted_rewards
from trl_sft_plus.testing import save_tiny_model
from trl_sft_plus.validation.scorers import without_prompt_words

TOPICS = ["owls", "rain", "bread", "maps"]
WEIGHTS = {"haiku_form": 2.0, "on_topic": 0.5, "no_loop": 1.0, "ends_with_eos": 0.5}
# every check on, each as small as it can be: the GRPO step tests' settings (also the 2-process one's)
CHECKS_ON = dict(
    collapse_check=True, repetition_monitor=True, repetition_monitor_steps=1, repetition_max_new_tokens=4,
    repetition_monitor_max_overhead=1.0, generation_validation=True, validation_max_new_tokens=4,
    per_device_eval_batch_size=2,
)  # fmt: skip


def grpo_args(output_dir, config_cls=GRPOPlusConfig, **overrides):
    """4 prompts a step (2 distinct prompts x 2 generations), 8 new tokens, every check off unless overridden."""
    values = dict(
        output_dir=str(output_dir), max_steps=1, per_device_train_batch_size=4, num_generations=2,
        max_completion_length=8, learning_rate=1e-3, logging_steps=1, report_to="none", save_strategy="no",
        bf16=False, gradient_checkpointing=False, seed=0, disable_tqdm=True, dataloader_num_workers=0,
        use_cpu=True,  # the sampled answers asserted on are the CPU generator's, as in plain_config
    )  # fmt: skip
    if config_cls is GRPOPlusConfig:
        values.update(repetition_monitor=False, generation_validation=False, collapse_check=False)
    return config_cls(**{**values, **overrides})


def checked_trainer(model, tokenizer, dataset: Dataset, output_dir, **overrides):
    """(trainer, reward functions, weights): GRPOPlusTrainer on `dataset` (trained and evaluated) with our weighted
    rewards and every check on (`CHECKS_ON`); `overrides` go to `grpo_args`."""
    funcs, weights = weighted_rewards(WEIGHTS, tokenizer=tokenizer)
    args = grpo_args(output_dir, reward_weights=weights, **CHECKS_ON, **overrides)
    trainer = GRPOPlusTrainer(
        model=model,
        reward_funcs=funcs,
        args=args,
        train_dataset=dataset,
        eval_dataset=dataset,
        processing_class=tokenizer,
    )
    return trainer, funcs, weights


def haiku_prompts(conversational: bool = True, topics: list[str] = TOPICS) -> Dataset:
    rows = [f"Write a haiku about {topic}" for topic in topics]
    if conversational:
        return Dataset.from_list([{"prompt": [{"role": "user", "content": p}], "task": "haiku"} for p in rows])
    return Dataset.from_list([{"prompt": p + "\n"} for p in rows])


def last_batch(trainer):
    """The prompts, completions and per-function rewards of the last generation batch, as TRL logged them."""
    logs = trainer._logs
    return list(logs["prompt"]), list(logs["completion"]), {k: list(v) for k, v in logs["rewards"].items()}


def test_exports_signature_and_help():
    assert GRPOTrainer is GRPOPlusTrainer and GRPOConfig is GRPOPlusConfig
    assert issubclass(GRPOPlusTrainer, trl.GRPOTrainer) and issubclass(GRPOPlusConfig, trl.GRPOConfig)
    ours = inspect.signature(GRPOPlusTrainer.__init__).parameters
    theirs = inspect.signature(trl.GRPOTrainer.__init__).parameters
    assert list(ours)[: len(theirs)] == list(theirs)
    assert all(ours[name].default == p.default and ours[name].kind == p.kind for name, p in theirs.items())
    trl_fields = {f.name for f in dataclasses.fields(trl.GRPOConfig)}
    assert all(f.metadata.get("help") for f in dataclasses.fields(GRPOPlusConfig) if f.name not in trl_fields)


def test_sampled_distinctness_on_hand_written_batches():
    # draw 0: owls -> "x", rain -> "x" (1 of 2 distinct); draw 1: "y" vs "z" (2 of 2): mean 0.75
    assert sampled_distinctness(["owls", "owls", "rain", "rain"], ["x", "y", "x", "z"]) == 0.75
    # the same answer, up to case and spacing, for both prompts in every draw: 1/P
    assert sampled_distinctness(["owls", "owls", "rain", "rain"], ["x", "x", " X", "x "]) == 0.5
    assert sampled_distinctness(list("abcd"), ["same"] * 4) == 0.25
    assert math.isnan(sampled_distinctness(["owls", "owls"], ["x", "y"]))  # one prompt: nothing to compare


def test_collapse_check_counts_a_template_with_the_topic_swapped_in_as_one_answer():
    """What the second stage did (2026-11-27): one poem for every topic with the topic word swapped in. Whole answers
    are all distinct (1.0); without each prompt's words they are one answer, 1/P, and the check counts a strike."""
    logged = {}
    trainer = types.SimpleNamespace(
        collapse_check=CollapseCallback(0.5),
        model=types.SimpleNamespace(training=True),
        state=TrainerState(global_step=6),
        _log_metric=logged.__setitem__,
    )
    prompts = [[{"role": "user", "content": f"Write a haiku about {topic}"}] for topic in TOPICS for _ in range(2)]
    poem = "{} in the rain\nthe stones shine bright on the rocks\nwet boots, the world young"
    completions = [[{"role": "assistant", "content": poem.format(topic.title())}] for topic in TOPICS for _ in "ab"]
    GRPOPlusTrainer._check_collapse(trainer, prompts, completions)
    assert logged["completions/cross_prompt_distinct"] == 1.0
    # "rain" is its own prompt's word only once: that poem loses it, the others keep "rain" after "in the"
    assert logged["completions/cross_prompt_distinct_masked"] == 0.5
    assert trainer.collapse_check.history == [{"step": 7.0, "cross_prompt_distinct_masked": 0.5, "prompts": 4.0}]
    assert trainer.collapse_check.strikes == 1


def test_collapse_callback_stops_after_patience_batches_in_a_row(caplog):
    callback = CollapseCallback(0.5, stop=True, patience=2)
    state, control = TrainerState(), TrainerControl()
    stops = []
    for step, value in enumerate([0.4, 0.9, 0.5, math.nan, 0.5], start=1):
        callback.observe(value, step=step, prompts=2)
        state.global_step = step
        with caplog.at_level(logging.ERROR):
            callback.on_step_end(None, state, control)
        stops.append(control.should_training_stop)
    # strikes: 1, reset by 0.9, 1, NaN (one prompt) leaves them, 2 -> stop
    assert stops == [False, False, False, False, True]
    assert [h["cross_prompt_distinct_masked"] for h in callback.history] == [0.4, 0.9, 0.5, 0.5]
    assert "Stopping training at step 5: the policy collapsed" in caplog.text
    with pytest.raises(ValueError, match="patience"):
        CollapseCallback(0.5, patience=0)


def test_grpo_step_logs_rewards_monitor_distinctness_and_validation(tmp_path, tokenizer, word_model):
    model, topics = word_model
    trainer, funcs, weights = checked_trainer(model, tokenizer, haiku_prompts(topics=topics), tmp_path / "out")
    trainer.train()
    logged = next(entry for entry in trainer.state.log_history if "loss" in entry)
    prompts, completions, rewards = last_batch(trainer)
    assert len(completions) == 4 and len({completion_text(c) for c in completions}) > 1
    assert any(len(set(values)) > 1 for values in rewards.values())  # the rows are told apart
    # TRL called our functions on conversational rows with the `task` column: recomputing them gives what it logged
    for fn in funcs[:3]:
        assert rewards[fn.__name__] == pytest.approx(fn(prompts, completions, task=["haiku"] * 4))
        assert logged[f"rewards/{fn.__name__}/mean"] == pytest.approx(sum(rewards[fn.__name__]) / 4)
    # ends_with_eos read the completion ids: it agrees with TRL's own count of completions cut at the limit
    assert logged["rewards/ends_with_eos/mean"] == pytest.approx(1 - logged["completions/clipped_ratio"])
    means = [logged[f"rewards/{name}/mean"] for name in WEIGHTS]
    assert logged["reward"] == pytest.approx(sum(w * m for w, m in zip(weights, means, strict=True)), abs=1e-5)
    keys = [str(p) for p in prompts]
    texts = [completion_text(c) for c in completions]
    assert logged["completions/cross_prompt_distinct"] == pytest.approx(sampled_distinctness(keys, texts))
    masked = [without_prompt_words(prompt_text(p), t) for p, t in zip(prompts, texts, strict=True)]
    expected = sampled_distinctness(keys, masked)
    assert logged["completions/cross_prompt_distinct_masked"] == pytest.approx(expected)
    assert trainer.collapse_check.history[0]["cross_prompt_distinct_masked"] == pytest.approx(expected)
    # the repetition monitor: greedy answers to its fixed prompts, logged with the step
    assert 0.0 <= logged["rep/seq_rep_4"] <= 1.0 and 0.0 <= logged["rep/eos_rate"] <= 1.0
    assert len(trainer.repetition_monitor.history) == 1
    # generation validation: the eval dataset's prompts, beside TRL's own eval rewards
    metrics = trainer.evaluate()
    assert metrics["eval_gen_num_prompts"] == len(topics)
    for key in ("eval_gen_cross_prompt_distinct", "eval_gen_seq_rep_4", "eval_rewards/haiku_form/mean"):
        assert key in metrics, key
    assert (tmp_path / "out" / "generations" / "eval_step000001.jsonl").is_file()


def test_rewards_work_unchanged_in_trl_grpo_trainer_on_plain_prompts(tmp_path, tokenizer, word_model):
    funcs, weights = weighted_rewards(WEIGHTS, tokenizer=tokenizer)
    args = grpo_args(tmp_path, config_cls=trl.GRPOConfig, reward_weights=weights)
    model, topics = word_model
    trainer = trl.GRPOTrainer(
        model=model,
        reward_funcs=funcs,
        args=args,
        train_dataset=haiku_prompts(conversational=False, topics=topics),
        processing_class=tokenizer,
    )
    trainer.train()
    logged = next(entry for entry in trainer.state.log_history if "loss" in entry)
    prompts, completions, rewards = last_batch(trainer)
    assert all(isinstance(c, str) for c in completions)
    for fn in funcs[:3]:
        assert rewards[fn.__name__] == pytest.approx(fn(prompts, completions))
    assert logged["rewards/ends_with_eos/mean"] == pytest.approx(1 - logged["completions/clipped_ratio"])


@pytest.mark.parametrize("stop", [True, False])
def test_collapse_to_one_answer_is_logged_and_stops_training(tmp_path, tokenizer, caplog, stop):
    loop = tokenizer(" loop", add_special_tokens=False)["input_ids"]
    assert len(loop) == 1
    model = str(save_tiny_model(tmp_path / "loop", constant_token=loop[0], tokenizer=tokenizer))
    funcs, weights = weighted_rewards(WEIGHTS, tokenizer=tokenizer)
    args = grpo_args(
        tmp_path / "out",
        max_steps=3,
        reward_weights=weights,
        collapse_check=True,
        collapse_stop=stop,
        collapse_patience=1,
    )
    trainer = GRPOPlusTrainer(
        model=model, reward_funcs=funcs, args=args, train_dataset=haiku_prompts(), processing_class=tokenizer
    )
    with caplog.at_level(logging.WARNING):
        trainer.train()
    logged = [entry for entry in trainer.state.log_history if "loss" in entry]
    # " loop" x 8 for every prompt: one line (haiku_form 0), no topic (0), a loop (0), cut at the limit (0);
    # both prompts of each batch get the same answer: distinctness 1/2
    for entry in logged:
        assert entry["completions/cross_prompt_distinct"] == entry["completions/cross_prompt_distinct_masked"] == 0.5
        assert [entry[f"rewards/{name}/mean"] for name in WEIGHTS] == [0.0, 0.0, 0.0, 0.0]
    assert "look collapsed for step 1" in caplog.text
    assert trainer.collapse_check.history[0] == {"step": 1.0, "cross_prompt_distinct_masked": 0.5, "prompts": 2.0}
    if stop:
        assert trainer.state.global_step == 1 and len(logged) == 1
        assert "Stopping training at step 1: the policy collapsed" in caplog.text
    else:
        assert trainer.state.global_step == 3 and "Stopping training" not in caplog.text


def test_a_trl_grpo_config_becomes_ours(tmp_path, tokenizer, word_model):
    theirs = grpo_args(tmp_path, config_cls=trl.GRPOConfig, steps_per_generation=2)
    trainer = GRPOPlusTrainer(
        model=word_model[0],
        reward_funcs=weighted_rewards({"no_loop": 1.0}).reward_funcs,
        args=theirs,
        train_dataset=haiku_prompts(),
        processing_class=tokenizer,
    )
    assert isinstance(trainer.args, GRPOPlusConfig)
    assert (trainer.args.generation_batch_size, trainer.args.steps_per_generation) == (8, 2)
    assert trainer.repetition_monitor is not None and trainer.collapse_check is not None  # our defaults: on
