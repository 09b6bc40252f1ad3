"""The model card: `trainer.save_model(folder)` leaves TRL's README.md in `folder`, naming the base model and loading
`folder` in its quick-start, with our three tables holding the numbers of the run (filter counts, the last repetition
check, the last generation validation)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from datasets import Dataset
from transformers import AutoModelForCausalLM
from trl_sft_plus.evals.run_eval import add_comparison_to_card

from trl_sft_plus import SFTPlusTrainer
from trl_sft_plus.model_card import SECTION_MARKER, base_model_name
from trl_sft_plus.testing import tiny_llama

from .conftest import chat_rows, plain_config


def _row(name: str, value) -> str:
    return f"| {name} | {value:.4g} |" if isinstance(value, float) else f"| {name} | {value} |"


HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture
def embedded_folder(tokenizer, tmp_path, monkeypatch):
    """A tiny model where the embedded SmolLM2's converted checkpoint lives: how `nox -s eval` loads its base."""
    monkeypatch.setenv("TRL_SFT_PLUS_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "smollm2-135m-instruct"
    tiny_llama(tokenizer).save_pretrained(folder)
    return folder


@pytest.fixture
def trained(tokenizer, tmp_path, embedded_folder):
    train_rows = chat_rows(32)
    train_rows[5]["messages"][1]["content"] = ""  # an empty answer: dropped by the quality filters, with a reason
    eval_rows = [dict(row, task="chat") for row in chat_rows(4)]
    args = plain_config(
        tmp_path / "run",
        max_steps=4,
        quality_filtering=True,
        repetition_monitor=True,
        repetition_monitor_steps=2,
        repetition_monitor_max_overhead=1.0,  # never skip a check for time on a busy machine
        repetition_max_new_tokens=8,
        generation_validation=True,
        validation_max_new_tokens=8,
        eval_strategy="steps",
        eval_steps=2,
        per_device_eval_batch_size=4,
    )
    trainer = SFTPlusTrainer(
        model=AutoModelForCausalLM.from_pretrained(embedded_folder),  # config._name_or_path is the folder
        args=args,
        train_dataset=Dataset.from_list(train_rows),
        eval_dataset=Dataset.from_list(eval_rows),
        processing_class=tokenizer,
    )
    trainer.train()
    return trainer


def test_saved_model_card_has_the_runs_numbers(trained, tmp_path, embedded_folder):
    folder = tmp_path / "final"  # not args.output_dir: the card goes where the weights go
    trained.save_model(str(folder))
    assert (folder / "model.safetensors").is_file()
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "trl-sft-plus" in card.split(SECTION_MARKER)[0]  # TRL's own card (tags) comes first
    assert card.count(SECTION_MARKER) == 1
    assert f"fine-tuned version of [{HUB_ID}](https://huggingface.co/{HUB_ID})" in card
    assert f"base_model: {HUB_ID}" in card
    assert f'pipeline("text-generation", model="{folder}"' in card
    assert "None" not in card
    assert trained.model.config._name_or_path == str(embedded_folder)  # named for the card only
    assert trained.hub_model_id is None

    report = trained.quality_reports["train"]
    assert report.input_rows == 32 and report.kept_rows == len(trained.train_dataset) < 32
    assert "### Data quality (train dataset)" in card
    assert _row("input rows", 32) in card
    assert _row("kept rows", report.kept_rows) in card
    for reason, count in report.dropped.items():
        assert _row(f"dropped: {reason}", count) in card
    assert sum(report.dropped.values()) == 32 - report.kept_rows

    history = trained.repetition_monitor.history
    assert [entry["step"] for entry in history] == [2.0, 4.0]
    assert "### Repetition monitor (step 4)" in card
    last_check = history[-1]
    logged = [entry for entry in trained.state.log_history if "rep/seq_rep_4" in entry]
    assert logged[-1]["step"] == 4 and logged[-1]["rep/seq_rep_4"] == last_check["seq_rep_4"]
    for key in ("seq_rep_4", "eos_rate"):
        assert _row(f"rep/{key}", last_check[key]) in card

    evaluations = [entry for entry in trained.state.log_history if "eval_gen_seq_rep_4" in entry]
    assert [entry["step"] for entry in evaluations] == [2, 4]
    assert "### Generation validation (step 4)" in card
    gen_keys = [key for key in evaluations[-1] if key.startswith("eval_gen_")]
    assert "eval_gen_eos_rate" in gen_keys and "eval_gen_num_prompts" in gen_keys
    for key in gen_keys:
        assert _row(key, evaluations[-1][key]) in card
    assert _row("eval_gen_num_prompts", 4.0) in card


def test_saving_twice_keeps_one_copy_and_output_dir_is_restored(trained, tmp_path):
    folder = tmp_path / "final"
    trained.save_model(str(folder))
    trained.save_model(str(folder))
    assert (folder / "README.md").read_text(encoding="utf-8").count(SECTION_MARKER) == 1
    assert trained.args.output_dir == str(tmp_path / "run")
    assert not (tmp_path / "run" / "README.md").exists()  # TRL writes there only for checkpoints and pushes


def test_base_model_name_of_hub_ids_folders_and_unnamed_models(tmp_path, tokenizer):
    def model(name):
        return SimpleNamespace(config=SimpleNamespace(_name_or_path=name))

    assert base_model_name(model("HuggingFaceTB/SmolLM2-135M")) == "HuggingFaceTB/SmolLM2-135M"
    assert base_model_name(model("gpt2")) == "gpt2"
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    (recorded / "config.json").write_text(json.dumps({"_name_or_path": "Qwen/Qwen3-0.6B"}))
    assert base_model_name(model(str(recorded))) == "Qwen/Qwen3-0.6B"  # what transformers 4 wrote in config.json
    plain = tmp_path / "my-sft-run"
    plain.mkdir()
    (plain / "config.json").write_text("{}")
    assert base_model_name(model(str(plain))) == "my-sft-run"
    assert base_model_name(model(str(tmp_path / "gone" / "checkpoint-40"))) == "checkpoint-40"
    tokenizer.name_or_path = "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert base_model_name(model(""), tokenizer) == "HuggingFaceTB/SmolLM2-135M-Instruct"  # built in memory
    assert base_model_name(model(""), None) is None


def test_eval_appends_its_base_versus_tuned_tables_to_the_tuned_card(tmp_path):
    tuned = tmp_path / "tuned"
    tuned.mkdir()
    (tuned / "README.md").write_text("# Model Card for tuned\n", encoding="utf-8")
    report = "# Base versus tuned\n\n- base: `a`\n\n## overall\n\n| metric | base |\n|---|---|\n| eos | 0.5 |\n\n"
    (tmp_path / "report.md").write_text(report + "## Examples\n\n**haiku-1**: prompt\n", encoding="utf-8")
    add_comparison_to_card(tmp_path, tuned)
    add_comparison_to_card(tmp_path, tuned)  # a second comparison replaces the first
    card = (tuned / "README.md").read_text(encoding="utf-8")
    assert card.startswith("# Model Card for tuned\n")
    assert card.count("## Base versus tuned") == 1 and "### overall" in card and "| eos | 0.5 |" in card
    assert "Examples" not in card and "haiku-1" not in card
