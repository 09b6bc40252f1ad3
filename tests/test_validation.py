"""Generation-based validation inside evaluate(): eval_gen_* metrics that loggers, early stopping and best-model
selection all see, without changing training."""

from __future__ import annotations

import json
import math

import pytest
import torch
from datasets import Dataset
from transformers import EarlyStoppingCallback

from trl_sft_plus import SFTPlusTrainer
from trl_sft_plus.testing import tiny_llama
from trl_sft_plus.validation.scorers import SCORERS, register_scorer
from trl_sft_plus.validation.validator import GenerationValidator

from .conftest import chat_rows, plain_config


def eval_rows():
    rows = [dict(row, task="chat") for row in chat_rows(4)]
    rows.append(
        {
            "messages": [
                {"role": "user", "content": "Write a haiku about rain"},
                {
                    "role": "assistant",
                    "content": "Rain taps the window\nthe kettle sings to itself\nwarm tea, grey morning",
                },
            ],
            "task": "haiku",
        }
    )
    rows.append(
        {
            "messages": [
                {"role": "user", "content": "# write a function that adds two numbers in python"},
                {"role": "assistant", "content": "```python\ndef add(a, b):\n    return a + b\n```"},
            ],
            "task": "python",
        }
    )
    return rows


def _trainer(tokenizer, tmp_path, model=None, callbacks=None, **overrides):
    settings = dict(
        generation_validation=True,
        validation_max_new_tokens=8,
        eval_strategy="steps",
        eval_steps=2,
        per_device_eval_batch_size=4,
    )
    settings.update(overrides)
    return SFTPlusTrainer(
        model=model or tiny_llama(tokenizer),
        args=plain_config(tmp_path, **settings),
        train_dataset=Dataset.from_list(chat_rows(32)),
        eval_dataset=Dataset.from_list(eval_rows()),
        processing_class=tokenizer,
        callbacks=callbacks,
    )


def test_evaluate_returns_gen_metrics_and_saves_generations(tokenizer, tmp_path):
    trainer = _trainer(tokenizer, tmp_path)
    metrics = trainer.evaluate()
    for key in (
        "eval_loss",
        "eval_gen_seq_rep_4",
        "eval_gen_eos_rate",
        "eval_gen_haiku_valid",
        "eval_gen_python_valid",
        "eval_gen_chrf",
        "eval_gen_cross_prompt_distinct",
        "eval_gen_cross_prompt_distinct_masked",
    ):
        assert key in metrics, key
    assert metrics["eval_gen_num_prompts"] == 6.0
    assert 0.0 <= metrics["eval_gen_seq_rep_4"] <= 1.0
    lines = (tmp_path / "generations" / "eval_step000000.jsonl").read_text().splitlines()
    assert len(lines) == 6 and json.loads(lines[4])["task"] == "haiku"


def test_best_model_is_chosen_on_a_gen_metric(tokenizer, tmp_path):
    trainer = _trainer(
        tokenizer,
        tmp_path,
        max_steps=6,
        save_strategy="steps",
        save_steps=2,
        load_best_model_at_end=True,
        metric_for_best_model="eval_gen_seq_rep_4",
        greater_is_better=False,
        learning_rate=5e-3,
    )
    trainer.train()
    evals = [(e["step"], e["eval_gen_seq_rep_4"]) for e in trainer.state.log_history if "eval_gen_seq_rep_4" in e]
    assert [step for step, _ in evals] == [2, 4, 6]
    best_step, best_value = min(evals, key=lambda item: (item[1], item[0]))
    assert trainer.state.best_metric == pytest.approx(best_value)
    assert trainer.state.best_model_checkpoint.endswith(f"checkpoint-{best_step}")
    saved = json.loads((tmp_path / "checkpoint-6" / "trainer_state.json").read_text())
    assert any("eval_gen_seq_rep_4" in entry for entry in saved["log_history"])


def test_early_stopping_on_a_gen_metric(tokenizer, tmp_path):
    @register_scorer("flat")
    def flat(sample):  # a metric that never improves
        return 0.5

    try:
        trainer = _trainer(
            tokenizer,
            tmp_path,
            max_steps=20,
            save_strategy="steps",
            save_steps=2,
            load_best_model_at_end=True,
            metric_for_best_model="eval_gen_flat",
            validation_scorers=["flat", "eos"],
            callbacks=[EarlyStoppingCallback(early_stopping_patience=2)],
        )
        trainer.train()
    finally:
        SCORERS.pop("flat")
    assert trainer.state.global_step == 6  # evals at 2 (best), 4 and 6 (no improvement twice): stop


def test_validation_does_not_change_weights(tokenizer, tmp_path):
    model_a, model_b = tiny_llama(tokenizer), tiny_llama(tokenizer)
    with_validation = _trainer(tokenizer, tmp_path / "a", model=model_a, max_steps=6, generation_do_sample=True)
    with_validation.train()
    without = _trainer(tokenizer, tmp_path / "b", model=model_b, max_steps=6, generation_validation=False)
    without.train()
    assert any("eval_gen_seq_rep_4" in e for e in with_validation.state.log_history)
    assert not any("eval_gen_seq_rep_4" in e for e in without.state.log_history)
    for (name, a), (_, b) in zip(model_a.state_dict().items(), model_b.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_prompts_without_user_turn_are_counted_not_fatal(tokenizer, tmp_path, caplog):
    trainer = _trainer(tokenizer, tmp_path)
    bad = Dataset.from_list([{"messages": [{"role": "assistant", "content": "hi"}]}] + eval_rows()[:2])
    metrics = trainer.evaluate(eval_dataset=bad)
    assert metrics["eval_gen_num_prompts"] == 2.0


def test_empty_validation_dataset_is_a_clear_error(tokenizer, tmp_path):
    with pytest.raises(ValueError, match="validation_dataset yields no prompts"):
        SFTPlusTrainer(
            model=tiny_llama(tokenizer),
            args=plain_config(tmp_path, generation_validation=True),
            train_dataset=Dataset.from_list(chat_rows(8)),
            processing_class=tokenizer,
            validation_dataset=[],
        )


def test_composite_score_orients_each_rate_and_skips_missing_ones():
    from trl_sft_plus.validation.validator import composite_score

    metrics = {"eos_rate": 0.8, "loop": 0.25, "haiku_valid": 0.5, "python_pass": math.nan}
    # eos 0.8, 1 - loop 0.75, haiku 0.5; python_pass NaN and prompt_echo absent are left out
    assert composite_score(
        metrics, ["eos_rate", "loop", "haiku_valid", "python_pass", "prompt_echo"]
    ) == pytest.approx((0.8 + 0.75 + 0.5) / 3)
    assert math.isnan(composite_score({}, ["eos_rate"]))


def test_score_metrics_need_a_direction_and_reach_best_model_selection(tokenizer, tmp_path):
    with pytest.raises(ValueError, match="no declared direction"):
        GenerationValidator([], score_metrics=["completion_tokens"])
    trainer = _trainer(tokenizer, tmp_path)
    metrics = trainer.evaluate()
    expected = {"eos_rate": 1, "loop": -1, "prompt_echo": -1, "haiku_valid": 1, "python_valid": 1}
    parts = [
        metrics[f"eval_gen_{name}"] if way > 0 else 1 - metrics[f"eval_gen_{name}"]
        for name, way in expected.items()
        if f"eval_gen_{name}" in metrics
    ]
    assert len(parts) >= 3 and metrics["eval_gen_score"] == pytest.approx(sum(parts) / len(parts))
