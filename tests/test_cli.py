"""The `trl-sft-plus` CLI: trains from YAML, and ends bad input with one clear line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from trl_sft_plus.cli import main

from .conftest import TWO_CPU_PROCESSES, chat_rows


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _config(tmp_path, tiny_model_dir, data, **extra):
    config = {
        "model_name_or_path": str(tiny_model_dir),
        "dataset_name": str(data),
        "output_dir": str(tmp_path / "out"),
        "max_steps": 2,
        "per_device_train_batch_size": 2,
        "max_length": 64,
        "report_to": "none",
        "save_strategy": "no",
        "logging_steps": 1,
        "repetition_monitor_steps": 1,
        "repetition_max_new_tokens": 4,
        "dataloader_num_workers": 0,
        **extra,
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_train_two_steps_from_yaml(tmp_path, tiny_model_dir):
    data = _write_jsonl(tmp_path / "train.jsonl", chat_rows(16))
    config = _config(tmp_path, tiny_model_dir, data)
    assert main(["train", "--config", str(config)]) == 0
    assert (tmp_path / "out" / "model.safetensors").is_file()
    report = json.loads((tmp_path / "out" / "quality_report_train.json").read_text())
    assert report["input_rows"] == 16 and report["kept_rows"] + sum(report["dropped"].values()) == 16


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--model_name_or_path", "no-such-model"], "Unknown model 'no-such-model'"),
        (["--dataset_name", "missing.jsonl"], "Dataset file not found"),
        (["--dataset_name", "BAD_COLUMNS"], "SFT needs 'messages'"),
        (["--dataset_name", "HuggingFaceTB/smoltalk"], "HF_HUB_OFFLINE=1; use the shipped offline stand-in 'chat'"),
        (["--dataset_name", "bigcode/the-stack-smol"], "stand-in 'python-stdlib'"),
    ],
)
def test_bad_input_ends_in_one_line(tmp_path, tiny_model_dir, capsys, monkeypatch, args, expected):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    bad = _write_jsonl(tmp_path / "bad.jsonl", [{"question": "q", "answer": "a"}] * 4)
    args = [str(bad) if a == "BAD_COLUMNS" else str(tmp_path / a) if a == "missing.jsonl" else a for a in args]
    base = [
        "--model_name_or_path",
        str(tiny_model_dir),
        "--dataset_name",
        str(bad),
        "--output_dir",
        str(tmp_path / "o"),
        "--report_to",
        "none",
        "--max_steps",
        "1",
    ]
    assert main(["train", *base, *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and expected in errors[0] and err.strip().endswith(errors[0]), err


def test_usage_without_command(capsys):
    assert main([]) == 2
    assert main(["--help"]) == 0
    assert "train" in capsys.readouterr().out


@pytest.mark.distributed
def test_accelerate_launch_two_cpu_processes(tmp_path, tiny_model_dir):
    data = _write_jsonl(tmp_path / "train.jsonl", chat_rows(16))
    config = _config(tmp_path, tiny_model_dir, data)
    command = [
        *TWO_CPU_PROCESSES,
        "-m",
        "trl_sft_plus.cli",
        "train",
        "--config",
        str(config),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "out" / "model.safetensors").is_file()
    # one line, from the main process, and the two processes trained as one group (`--cpu --num_processes 2` once
    # started a single process here: accelerate's MULTI_CPU launch needs mpirun)
    assert result.stdout.count("Model saved to") == 1 and "(2 process(es))" in result.stdout


@pytest.mark.parametrize("name", ["chat.yaml", "code.yaml"])
def test_shipped_yaml_configs_parse(name):
    from trl_sft_plus.cli import _train_parser

    config = Path(__file__).parent.parent / "examples" / "configs" / name
    script_args, training_args, model_args = _train_parser().parse_args_and_config(args=["--config", str(config)])
    assert model_args.model_name_or_path == "smollm2-135m-instruct"
    assert script_args.dataset_name in ("chat", "python-stdlib")
    assert training_args.max_steps > 0 and training_args.repetition_monitor_steps > 0
    assert training_args.eval_strategy == "steps"
