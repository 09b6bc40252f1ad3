"""The model card: `trainer.save_model(folder)` leaves TRL's README.md in `folder`, naming the base model and loading
`folder` in its quick-start, with our three tables holding the numbers of the weights saved (filter counts, the
repetition check and the generation validation of the last step, or of the checkpoint `load_best_model_at_end` kept),
an adapter's base and loading code for a peft model, and `nox -s eval`'s comparison with portable names."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from datasets import Dataset
from transformers import AutoModelForCausalLM
from trl_sft_plus.evals.run_eval import add_comparison_to_card
from trl_sft_plus.evals.suite import SUITES_DIR

from trl_sft_plus import SFTPlusTrainer
from trl_sft_plus.model_card import SECTION_MARKER, adapter_section, base_model_name, card_name, kept_step
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


def train(tokenizer, output_dir, embedded_folder, **overrides):
    train_rows = chat_rows(32)
    train_rows[5]["messages"][1]["content"] = ""  # an empty answer: dropped by the quality filters, with a reason
    eval_rows = [dict(row, task="chat") for row in chat_rows(4)]
    args = plain_config(
        output_dir,
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
        **overrides,
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


@pytest.fixture
def trained(tokenizer, tmp_path, embedded_folder):
    return train(tokenizer, tmp_path / "run", embedded_folder)


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


def test_card_reports_the_checkpoint_load_best_model_at_end_kept(tokenizer, tmp_path, embedded_folder):
    """Validation at steps 2 and 4; a constant metric keeps the first best (step 2): the saved weights are step 2's,
    and so are the card's monitor and validation tables, not the last step's."""
    trainer = train(
        tokenizer,
        tmp_path / "run",
        embedded_folder,
        save_strategy="steps",
        save_steps=2,
        load_best_model_at_end=True,
        metric_for_best_model="eval_gen_num_prompts",
        greater_is_better=True,
    )
    assert trainer.state.best_model_checkpoint.endswith("checkpoint-2") and trainer.state.global_step == 4
    assert kept_step(trainer) == 2
    folder = tmp_path / "final"
    trainer.save_model(str(folder))
    card = (folder / "README.md").read_text(encoding="utf-8")
    why = "the checkpoint kept by `load_best_model_at_end` (best `eval_gen_num_prompts` 4); training ran to step 4"
    assert f"### Generation validation (step 2: {why})" in card
    assert f"### Repetition monitor (step 2: {why})" in card
    assert "(step 4" not in card
    kept_eval = next(e for e in trainer.state.log_history if e.get("step") == 2 and "eval_gen_seq_rep_4" in e)
    for key in (key for key in kept_eval if key.startswith("eval_gen_")):
        assert _row(key, kept_eval[key]) in card
    check = next(entry for entry in trainer.repetition_monitor.history if entry["step"] == 2)
    for key in ("seq_rep_4", "eos_rate"):
        assert _row(f"rep/{key}", check[key]) in card


def test_kept_step_only_once_training_ended_with_load_best():
    def trainer(best="out/checkpoint-120", load_best=True, in_train=False):
        return SimpleNamespace(
            state=SimpleNamespace(best_model_checkpoint=best, best_metric=0.758, global_step=180),
            args=SimpleNamespace(load_best_model_at_end=load_best, metric_for_best_model="eval_gen_score"),
            is_in_train=in_train,
        )

    assert kept_step(trainer()) == 120
    assert kept_step(trainer(best="out/checkpoint-120/")) == 120
    assert kept_step(trainer(in_train=True)) is None  # a checkpoint's card during training: its own step's weights
    assert kept_step(trainer(load_best=False)) is None
    assert kept_step(trainer(best=None)) is None


def test_peft_card_names_base_and_adapter_and_loads_them(tokenizer, tmp_path, embedded_folder):
    peft = pytest.importorskip("peft")
    base = AutoModelForCausalLM.from_pretrained(embedded_folder)  # the embedded model's converted folder
    model = peft.get_peft_model(base, peft.LoraConfig(r=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    adapter = tmp_path / "adapter"
    trainer = SimpleNamespace(
        model=model, processing_class=tokenizer, args=SimpleNamespace(hub_model_id=None, output_dir=str(adapter))
    )
    section = adapter_section(trainer, adapter)
    assert "base model `HuggingFaceTB/SmolLM2-135M-Instruct`" in section and f"adapter `{adapter}`" in section
    loading = f'model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained("{HUB_ID}"), "{adapter}")'
    assert loading in section
    code = section.split("```python\n")[1].split("```")[0]
    compile(code, "card", "exec")
    assert str(embedded_folder) not in section and "cache" not in section
    trainer.args.hub_model_id = "me/smollm2-lora"
    assert '"me/smollm2-lora")' in adapter_section(trainer, adapter)
    assert adapter_section(SimpleNamespace(model=base), adapter) == ""  # full weights: no adapter section


def test_card_names(embedded_folder, tmp_path):
    assert card_name("smollm2-135m-instruct") == HUB_ID
    assert card_name(str(embedded_folder)) == HUB_ID  # the converted folder in the user cache
    assert card_name("Qwen/Qwen3-0.6B") == "Qwen/Qwen3-0.6B"
    assert card_name(str(tmp_path / "somewhere" / "my-run")) == "my-run"


def test_eval_card_names_models_and_suites_without_machine_paths(tmp_path, embedded_folder):
    tuned = tmp_path / "out" / "tuned"
    tuned.mkdir(parents=True)
    (tuned / "README.md").write_text("# Model Card for tuned\n", encoding="utf-8")
    own_suite = tmp_path / "home" / "my_suite.jsonl"
    suites = [str(SUITES_DIR / f"{name}.jsonl") for name in ("haiku", "python", "chat")] + [str(own_suite)]
    results = {
        "models": {
            "base": {"model": "smollm2-135m-instruct", "path": str(embedded_folder)},
            "tuned": {"model": str(tuned), "path": str(tuned.resolve())},
        },
        "suites": suites,
        "num_prompts": {"haiku": 32, "python": 48, "chat": 32, "own": 2},
    }
    (tmp_path / "out" / "results.json").write_text(json.dumps(results), encoding="utf-8")
    report = [  # the header lines `evals.report.markdown_report` writes
        "# Base versus tuned",
        "",
        f"- base: `smollm2-135m-instruct` ({embedded_folder})",
        f"- tuned: `{tuned}` ({tuned.resolve()})",
        f"- prompts: haiku 32, python 48, chat 32, own 2 from {', '.join(suites)}",
        "- created: 2026-12-07T00:00:00+00:00",
        "",
        "## overall",
        "",
        "| metric | base |",
        "|---|---|",
        "| eos | 0.5 |",
    ]
    (tmp_path / "out" / "report.md").write_text("\n".join(report) + "\n", encoding="utf-8")
    add_comparison_to_card(tmp_path / "out", tuned)
    card = (tuned / "README.md").read_text(encoding="utf-8")
    assert f"- base: `{HUB_ID}` (the embedded `smollm2-135m-instruct`)" in card
    assert "- tuned: this model" in card
    prompts = "haiku 32, python 48, chat 32, own 2"
    assert (
        f"- prompts: {prompts} from the suites haiku (shipped), python (shipped), chat (shipped), my_suite.jsonl"
        in card
    )
    assert str(tmp_path) not in card and "cache" not in card and ".jsonl (" not in card
    assert "- created: 2026-12-07" in card and "| eos | 0.5 |" in card


def test_trained_lora_card_names_the_hub_base_and_the_saved_adapter(tokenizer, tmp_path, embedded_folder):
    peft = pytest.importorskip("peft")
    trainer = SFTPlusTrainer(
        model=AutoModelForCausalLM.from_pretrained(embedded_folder),
        args=plain_config(tmp_path / "run", max_steps=2),
        train_dataset=Dataset.from_list(chat_rows(8)),
        processing_class=tokenizer,
        peft_config=peft.LoraConfig(r=4, target_modules="all-linear", task_type="CAUSAL_LM"),
    )
    trainer.train()
    folder = tmp_path / "adapter"
    trainer.save_model(str(folder))
    assert json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"] == HUB_ID
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert card.count("### Adapter") == 1
    assert f"This folder holds a LORA adapter, not full weights: base model `{HUB_ID}`, adapter `{folder}`." in card
    assert f'PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained("{HUB_ID}"), "{folder}")' in card
    assert str(embedded_folder) not in card
