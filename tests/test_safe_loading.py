"""Safe loading on every path that loads a model or tokenizer: weights from safetensors only unless `allow_pickle`,
remote code off unless `trust_remote_code`. A pickle-only checkpoint is refused with one line naming the file and
the flag, by the loader, `python -m evals compare` and `trl-sft-plus train`, and loads with the flag."""

from __future__ import annotations

import inspect
import json
import logging
import subprocess
import sys

import pytest
import torch
from transformers import AutoProcessor, AutoTokenizer, LlamaForCausalLM, PreTrainedModel
from trl_sft_plus.evals.cli import main as evals_main

from trl_sft_plus import models
from trl_sft_plus.cli import _train_parser
from trl_sft_plus.cli import main as cli_main
from trl_sft_plus.testing import tiny_llama

from .conftest import chat_rows


@pytest.fixture(scope="module")
def pickle_checkpoint(tmp_path_factory, tokenizer_dir):
    """A tiny random model saved the pre-safetensors way: config, tokenizer and `pytorch_model.bin` only."""
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    model = tiny_llama(tokenizer, seed=3)
    folder = tmp_path_factory.mktemp("pickle-only")
    model.config.architectures = ["LlamaForCausalLM"]  # what `save_pretrained` records, and TRL reads
    model.config.save_pretrained(folder)
    model.generation_config.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    assert not list(folder.glob("*.safetensors"))
    return folder, {name: tensor.clone() for name, tensor in model.state_dict().items()}


def record_from_pretrained(monkeypatch, cls) -> list[dict]:
    """Record the keyword arguments of every `cls.from_pretrained` call (subclasses included) and still load."""
    calls: list[dict] = []
    function = inspect.getattr_static(cls, "from_pretrained").__func__

    def recording(klass, *args, **kwargs):
        calls.append({"class": klass.__name__, **kwargs})
        return function(klass, *args, **kwargs)

    monkeypatch.setattr(cls, "from_pretrained", classmethod(recording))
    return calls


def assert_same_weights(model, expected: dict[str, torch.Tensor]) -> None:
    state = model.state_dict()
    assert state.keys() == expected.keys()
    for name, tensor in expected.items():
        assert torch.equal(state[name], tensor), name


def assert_one_line_naming(err: str, checkpoint) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert str(checkpoint / "pytorch_model.bin") in lines[0] and "--allow-pickle" in lines[0], lines[0]
    return lines[0]


# The loader ---------------------------------------------------------------------------------------------------------


def test_loader_refuses_pickle_without_the_flag(pickle_checkpoint, monkeypatch):
    folder, _ = pickle_checkpoint
    calls = record_from_pretrained(monkeypatch, PreTrainedModel)
    with pytest.raises(models.ModelLoadError) as error:
        models.load(str(folder))
    message = str(error.value)
    assert "\n" not in message
    assert str(folder / "pytorch_model.bin") in message
    assert "--allow-pickle" in message and "allow_pickle=True" in message
    assert calls == []  # refused before transformers opened the file


def test_loader_with_the_flag_loads_the_saved_weights_and_warns(pickle_checkpoint, caplog):
    folder, weights = pickle_checkpoint
    with caplog.at_level(logging.WARNING, logger="trl_sft_plus.models"):
        model, tokenizer = models.load(str(folder), allow_pickle=True)
    assert_same_weights(model, weights)
    assert tokenizer.eos_token == "<|im_end|>"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("pytorch_model.bin" in w and "allow_pickle" in w for w in warnings), warnings


def test_loader_passes_safe_defaults_to_transformers(tiny_model_dir, monkeypatch):
    model_calls = record_from_pretrained(monkeypatch, PreTrainedModel)
    tokenizer_calls = record_from_pretrained(monkeypatch, AutoTokenizer)
    models.load(str(tiny_model_dir))
    assert [c["trust_remote_code"] for c in model_calls] == [False]
    assert [c["use_safetensors"] for c in model_calls] == [True]
    assert [c["trust_remote_code"] for c in tokenizer_calls] == [False]
    models.load(str(tiny_model_dir), trust_remote_code=True)  # only an explicit opt-in turns it on
    assert model_calls[-1]["trust_remote_code"] is True and tokenizer_calls[-1]["trust_remote_code"] is True


def test_lm_eval_task_tokenizer_keeps_remote_code_off(tiny_model_dir, monkeypatch):
    from trl_sft_plus.evals.tasks import utils

    calls = record_from_pretrained(monkeypatch, AutoTokenizer)
    utils._tokenizer.cache_clear()
    try:
        utils._tokenizer(str(tiny_model_dir))
    finally:
        utils._tokenizer.cache_clear()
    assert [c["trust_remote_code"] for c in calls] == [False]


def test_hub_error_names_the_flag(monkeypatch):
    """A hub repository without safetensors: transformers' OSError becomes one line that names the flag."""
    monkeypatch.setattr(models, "resolve_model_path", lambda name, allow_pickle=False, need_weights=True: name)
    monkeypatch.setattr(models, "_tokenizer_from", lambda path, trust_remote_code: None)

    def no_safetensors(*args, **kwargs):
        raise OSError("org/model does not appear to have a file named model.safetensors.\nCheck the repository.")

    monkeypatch.setattr(models.AutoModelForCausalLM, "from_pretrained", no_safetensors)
    with pytest.raises(models.ModelLoadError) as error:
        models.load("org/model")
    assert str(error.value) == (
        "Could not load model weights from 'org/model': org/model does not appear to have a file named "
        "model.safetensors.; if it only has pickle weights, pass --allow-pickle (or allow_pickle=True)"
    )


# python -m evals compare ----------------------------------------------------------------------------------------------


def test_evals_compare_refuses_pickle_with_one_line(pickle_checkpoint, tiny_model_dir, tmp_path):
    folder, _ = pickle_checkpoint
    out = tmp_path / "out"
    command = [sys.executable, "-m", "evals", "compare", "--base", str(tiny_model_dir), "--tuned", str(folder)]
    result = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert assert_one_line_naming(result.stderr, folder).startswith("error: ")
    assert not out.exists()  # refused before any generation or output


def test_evals_compare_with_the_flag_runs_on_the_pickle_model(pickle_checkpoint, tmp_path, monkeypatch):
    folder, weights = pickle_checkpoint
    calls = record_from_pretrained(monkeypatch, PreTrainedModel)
    loaded: list = []
    monkeypatch.setattr(models.AutoModelForCausalLM, "from_pretrained", _keep(loaded, models.AutoModelForCausalLM))
    suite = tmp_path / "suite.jsonl"
    suite.write_text(json.dumps({"id": "c1", "task": "chat", "prompt": "Name a colour."}) + "\n")
    out = tmp_path / "out"
    arguments = ["--base", str(folder), "--tuned", str(folder), "--suite", str(suite), "--out", str(out)]
    status = evals_main(["compare", *arguments, "--max-new-tokens", "2", "--n-resamples", "99", "--allow-pickle"])
    assert status == 0
    assert [(c["use_safetensors"], c["trust_remote_code"]) for c in calls] == [(None, False), (None, False)]
    assert len(loaded) == 2
    for model in loaded:
        assert_same_weights(model, weights)
    results = json.loads((out / "results.json").read_text())
    assert results["models"]["tuned"]["path"] == str(folder)


def _keep(loaded: list, cls):
    """Wrap `cls.from_pretrained` so the test can look at each model it returned."""
    original = cls.from_pretrained

    def keeping(*args, **kwargs):
        model = original(*args, **kwargs)
        loaded.append(model)
        return model

    return keeping


# trl-sft-plus train ---------------------------------------------------------------------------------------------------


def _train_arguments(model: str, data, out) -> list[str]:
    return [
        "train",
        "--model_name_or_path",
        model,
        "--dataset_name",
        str(data),
        "--output_dir",
        str(out),
        "--max_steps",
        "1",
        "--per_device_train_batch_size",
        "2",
        "--max_length",
        "64",
        "--learning_rate",
        "0",
        "--report_to",
        "none",
        "--save_strategy",
        "no",
        "--repetition_monitor",
        "false",
        "--dataloader_num_workers",
        "0",
    ]


@pytest.fixture
def train_file(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in chat_rows(8)))
    return path


def test_train_refuses_pickle_with_one_line(pickle_checkpoint, train_file, tmp_path, capsys, monkeypatch):
    folder, _ = pickle_checkpoint
    calls = record_from_pretrained(monkeypatch, PreTrainedModel)
    assert cli_main(_train_arguments(str(folder), train_file, tmp_path / "out")) == 2
    line = assert_one_line_naming(capsys.readouterr().err, folder)
    assert line.startswith("trl-sft-plus train: error: ")
    assert calls == [] and not (tmp_path / "out").exists()


def test_train_flag_takes_both_spellings():
    """TrlParser (HfArgumentParser) registers `--allow_pickle` and the dashed alias the error message names."""
    for spelling in ("--allow_pickle", "--allow-pickle"):
        _, training_args, _ = _train_parser().parse_args_and_config(args=[spelling, "--output_dir", "o"])
        assert training_args.allow_pickle is True
    _, training_args, _ = _train_parser().parse_args_and_config(args=["--output_dir", "o"])
    assert training_args.allow_pickle is False and training_args.trust_remote_code is False


def test_train_with_the_flag_trains_from_the_pickle_weights(pickle_checkpoint, train_file, tmp_path, monkeypatch):
    folder, weights = pickle_checkpoint
    model_calls = record_from_pretrained(monkeypatch, PreTrainedModel)
    processor_calls = record_from_pretrained(monkeypatch, AutoProcessor)
    out = tmp_path / "out"
    assert cli_main([*_train_arguments(str(folder), train_file, out), "--allow_pickle"]) == 0
    assert [(c["use_safetensors"], c["trust_remote_code"]) for c in model_calls] == [(None, False)]
    assert [c["trust_remote_code"] for c in processor_calls] == [False]
    assert (out / "model.safetensors").is_file()  # saved the safe way, whatever it was loaded from
    assert_same_weights(LlamaForCausalLM.from_pretrained(out), weights)  # learning rate 0: the loaded weights


def test_trainer_refuses_a_pickle_folder_given_by_path(pickle_checkpoint, tmp_path, chat_dataset):
    """`SFTPlusTrainer(model="folder")` checks the folder like every other loader, and asks TRL for safetensors."""
    folder, _ = pickle_checkpoint
    from trl_sft_plus import SFTPlusTrainer

    from .conftest import plain_config

    with pytest.raises(models.ModelLoadError, match="pytorch_model.bin is a pickle checkpoint"):
        SFTPlusTrainer(model=str(folder), args=plain_config(tmp_path / "o"), train_dataset=chat_dataset)
    trainer = SFTPlusTrainer(
        model=str(folder), args=plain_config(tmp_path / "o", allow_pickle=True), train_dataset=chat_dataset
    )
    assert "use_safetensors" not in (trainer.args.model_init_kwargs or {})
