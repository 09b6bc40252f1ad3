"""A check for a CUDA machine (tiny random model, a few steps; no timing): what SFTPlusConfig picks on a GPU, and
that the trainer's additions, on their defaults with bf16, leave the weights where a run without them leaves them.

    CUBLAS_WORKSPACE_CONFIG=:4096:8 python benchmarks/gpu_check.py
"""

from __future__ import annotations

import tempfile

import torch
from datasets import concatenate_datasets

from trl_sft_plus import SFTPlusConfig, SFTPlusTrainer, models
from trl_sft_plus.data_loading import tagged
from trl_sft_plus.testing import tiny_llama


def run(additions: bool, tokenizer, output_dir: str):
    torch.manual_seed(0)
    args = SFTPlusConfig(
        output_dir=output_dir, max_steps=6, per_device_train_batch_size=8, max_length=128, logging_steps=1,
        eval_strategy="steps", eval_steps=3, report_to="none", save_strategy="no", seed=0,
        repetition_monitor=additions, repetition_monitor_steps=2, generation_validation=additions,
        validation_max_new_tokens=16, quality_filtering=True,
    )  # fmt: skip
    train = tagged("chat", 96, seed=0).select_columns(["messages"])
    evaluation = concatenate_datasets([tagged("haiku-heldout", 4), tagged("chat", 4, seed=1)]).select_columns(
        ["messages"]
    )
    trainer = SFTPlusTrainer(
        model=tiny_llama(tokenizer),
        args=args,
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
    )
    trainer.train()
    return trainer


def main() -> None:
    assert torch.cuda.is_available(), "no CUDA device"
    torch.use_deterministic_algorithms(True)
    tokenizer = models.load_tokenizer()
    print("device:", torch.cuda.get_device_name(0))
    with tempfile.TemporaryDirectory() as folder:
        defaults = SFTPlusConfig(output_dir=folder)
        print(f"defaults on CUDA: bf16={defaults.bf16} gradient_checkpointing={defaults.gradient_checkpointing}")
        plain = run(False, tokenizer, folder + "/plain")
        plus = run(True, tokenizer, folder + "/plus")
    print("model device:", next(plus.model.parameters()).device, "bf16:", plus.args.bf16)
    rep = sorted({k for entry in plus.state.log_history for k in entry if k.startswith("rep/")})
    gen = sorted({k for entry in plus.state.log_history for k in entry if k.startswith("eval_gen_")})
    print("rep/ keys:", rep[:6], "...", len(rep))
    print("eval_gen_ keys:", gen[:6], "...", len(gen))
    diffs = [
        (a - b).abs().max().item()
        for a, b in zip(plain.model.state_dict().values(), plus.model.state_dict().values(), strict=True)
    ]
    losses = [
        (a.get("loss"), b.get("loss"))
        for a, b in zip(plain.state.log_history, plus.state.log_history, strict=False)
        if "loss" in a
    ]
    print("max |weight difference| with vs without monitor+validation:", max(diffs))
    print("losses (without, with):", losses)
    assert rep and gen, "monitor or validator metrics missing"
    assert max(diffs) == 0.0, "the additions changed the weights"
    print("GPU CHECK PASSED")


if __name__ == "__main__":
    main()
