"""The jobs that only generate or score (the harness's comparison, the second stage's answer selection, the IFD
filter command) put the model on the GPU when there is one, through `models.to_inference_device`."""

from __future__ import annotations

import json

import torch
from trl_sft_plus.evals.runner import DecodingSettings, run_model
from trl_sft_plus.evals.suite import load_suites

from trl_sft_plus import models
from trl_sft_plus.quality.command import main as filter_main


class MoveRecorder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.moves: list[tuple] = []

    def to(self, *args, **kwargs):
        self.moves.append(args)
        return self


def test_the_model_moves_to_cuda_only_when_there_is_one(monkeypatch):
    model = MoveRecorder()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert models.to_inference_device(model) is model and model.moves == []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert models.to_inference_device(model) is model and model.moves == [("cuda",)]


def _record_placements(monkeypatch) -> list[str]:
    placed: list[str] = []
    monkeypatch.setattr(models, "to_inference_device", lambda model: placed.append(type(model).__name__) or model)
    return placed


def test_the_harness_places_the_model_it_answers_with(tiny_model_dir, monkeypatch):
    placed = _record_placements(monkeypatch)
    rows = load_suites(["chat"])[:2]
    run = run_model("tuned", str(tiny_model_dir), rows, DecodingSettings(max_new_tokens=4, batch_size=2))
    assert placed == ["LlamaForCausalLM"] and len(run.generations) == 2


def test_the_ifd_filter_command_places_its_model(tiny_model_dir, tmp_path, monkeypatch):
    placed = _record_placements(monkeypatch)
    row = {"messages": [{"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris."}]}
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(row) + "\n", encoding="utf-8")
    argv = [str(source), "--output", str(tmp_path / "kept.jsonl"), "--report", str(tmp_path / "report.json")]
    assert filter_main([*argv, "--model", str(tiny_model_dir), "--filters", "structure,ifd"]) == 0
    assert placed == ["LlamaForCausalLM"]
    assert json.loads((tmp_path / "report.json").read_text())["input_rows"] == 1


def test_the_second_stage_selects_answers_with_the_placed_model(tiny_model_dir, tmp_path, monkeypatch):
    from trl_sft_plus.evals import run_rl

    placed = _record_placements(monkeypatch)
    selected_with: list[str] = []

    class Selected(Exception):
        pass

    def select(model, tokenizer, seed):
        selected_with.extend(placed)  # the placement happened before the answers are generated
        raise Selected

    monkeypatch.setattr(run_rl, "stage_rows", select)
    try:
        run_rl.train_stage(tiny_model_dir, tmp_path, seed=0)
    except Selected:
        pass
    assert selected_with == ["LlamaForCausalLM"]
