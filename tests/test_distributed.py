"""Multi-process runs on CPU (2 processes, gloo) give the same filter report and generation metrics as 1 process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import TWO_CPU_PROCESSES

EXAMPLES = Path(__file__).parent.parent / "examples"


def run_example(tmp_path: Path, model_dir: Path, processes: int, *extra: str) -> Path:
    output_dir = tmp_path / f"run{processes}{''.join(extra)}"
    example = [
        str(EXAMPLES / "sft_chat.py"),
        "--model",
        str(model_dir),
        "--output-dir",
        str(output_dir),
        "--max-steps",
        "2",
        "--eval-steps",
        "2",
        "--eval-before",
        "--batch-size",
        str(8 // processes),
        *extra,
    ]
    if processes == 1:
        command = [sys.executable, *example]
    else:
        command = [*TWO_CPU_PROCESSES, *example]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    # the processes joined one group: a launcher that starts one process, or two that each train alone, fails here
    printed = result.stdout
    assert printed.count("Saved to") == 1 and f"on {processes} process(es)" in printed, printed[-2000:]
    return output_dir


@pytest.mark.distributed
def test_two_processes_match_one_process(tmp_path, word_model):
    """On the word model, whose greedy choices have clear margins: a uniformly random model's near-ties flipped
    between the 1- and 2-process runs on AVX2-only cores (one answer of 16, from d5d8010 on), float rounding the
    processes do not share, not a difference in what they generate."""
    model_dir = word_model[0]
    one = run_example(tmp_path, model_dir, 1)
    two = run_example(tmp_path, model_dir, 2)

    report_one = json.loads((one / "quality_report_train.json").read_text())
    report_two = json.loads((two / "quality_report_train.json").read_text())
    for key in ("input_rows", "kept_rows", "dropped", "dropped_rows"):
        assert report_one[key] == report_two[key], key
    assert report_one["input_rows"] == 767  # 400 haiku + 367 chat

    before_one = json.loads((one / "eval_before.json").read_text())
    before_two = json.loads((two / "eval_before.json").read_text())
    gen_keys = sorted(key for key in before_one if key.startswith("eval_gen_"))
    assert "eval_gen_seq_rep_4" in gen_keys and "eval_gen_haiku_valid" in gen_keys
    assert {key: before_one[key] for key in gen_keys} == {key: before_two[key] for key in gen_keys}
    # each rank evaluates half the rows, padded to its own batches: the same loss up to fp32 rounding of a model whose
    # logits are large (the word model: 3e-4 relative on AVX2-only cores)
    assert before_one["eval_loss"] == pytest.approx(before_two["eval_loss"], rel=1e-3)

    generations = sorted((one / "generations").glob("eval_step000000*.jsonl"))
    assert generations and generations[0].read_text() == (two / "generations" / generations[0].name).read_text()


@pytest.mark.distributed
def test_lora_on_two_processes(tmp_path, tiny_model_dir):
    """`--lora 4` on 2 CPU processes: both ranks train one adapter (DDP over the adapter's weights only), the monitor
    and validation generate through it, and the saved folder is an adapter the harness loads on its base."""
    from trl_sft_plus import models

    two = run_example(tmp_path, tiny_model_dir, 2, "--lora", "4")
    assert models.is_adapter_folder(two)
    before = json.loads((two / "eval_before.json").read_text())
    assert "eval_gen_seq_rep_4" in before
    model, _ = models.load(str(two))
    assert type(model).__name__ == "PeftModelForCausalLM"


@pytest.mark.distributed
def test_grpo_on_two_processes_gathers_the_batch_and_the_validation_prompts(tmp_path, word_model):
    """One GRPOPlusTrainer step on 2 CPU processes: both ranks joined one group, the collapse check saw the whole
    generation batch (two requests per topic, 2 prompts a rank), validation scored every prompt once, and the ranks
    agree."""
    model_dir, topics = word_model
    output_dir = tmp_path / "grpo"
    script = Path(__file__).parent / "grpo_launch_script.py"
    command = [*TWO_CPU_PROCESSES, str(script), model_dir, json.dumps(topics), str(output_dir)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    ranks = [json.loads((output_dir / f"rank{index}.json").read_text()) for index in (0, 1)]
    assert [seen["world_size"] for seen in ranks] == [2, 2]
    assert ranks[0] == ranks[1]  # the same collapse decisions, monitor checks and metrics
    history = ranks[0]["collapse_history"]
    assert len(history) == 1 and history[0]["prompts"] == 4  # 2 distinct prompts a rank, gathered
    assert ranks[0]["monitor_checks"] == 1
    assert ranks[0]["eval_gen"]["eval_gen_num_prompts"] == 2 * len(topics)  # each prompt once, gathered over ranks
    assert 0.0 <= ranks[0]["logged"]["completions/cross_prompt_distinct_masked"] <= 1.0
