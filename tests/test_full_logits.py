"""The full-logits loss path equals TRL's fused LM head (loss, gradients, metrics) and an explicit setting wins."""

from __future__ import annotations

import pytest
import torch
import trl
from datasets import Dataset

from trl_sft_plus import SFTPlusConfig, SFTPlusTrainer
from trl_sft_plus.full_logits import FullLogitsHead, FullLogitsLoss
from trl_sft_plus.testing import TINY_ARCHITECTURES, tiny_causal_lm, tiny_llama

from .conftest import chat_rows, plain_config

# fp32 on the same batch and weights: TRL's head sums the vocabulary in two chunks with an online log-sum-exp, ours in
# one log_softmax, so the two differ only by float rounding
RTOL = 1e-5
PROMPT_COMPLETION = [{"prompt": [m[0]], "completion": [m[1]]} for m in (row["messages"] for row in chat_rows(8))]
UNSUPPORTED = {  # TRL's head keeps these: its logit transforms and MoE auxiliary loss are not rebuilt here
    "gemma2": "soft-capped logits",
    "cohere": "scaled logits",
    "mixtral": "MoE router auxiliary loss",
    "qwen3_moe": "MoE router auxiliary loss",
}


def _trainer(model, tokenizer, tmp_path, rows=None, **overrides) -> SFTPlusTrainer:
    args = plain_config(tmp_path, **overrides)
    dataset = Dataset.from_list(rows or chat_rows(8))
    return SFTPlusTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)


def _loss_grads_metrics(trainer: SFTPlusTrainer, batch: dict) -> tuple[float, dict, dict]:
    trainer.model.train()
    trainer.model.zero_grad()
    torch.manual_seed(0)  # the same dropout masks (gpt2, opt) for both paths
    loss = trainer.compute_loss(trainer.model, dict(batch), num_items_in_batch=None)
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in trainer.model.named_parameters() if p.grad is not None}
    metrics = {key: values[-1] for key, values in trainer._metrics["train"].items()}
    return loss.item(), grads, metrics


def _compare(tokenizer, tmp_path, make_model, rows=None, **overrides) -> dict:
    """Loss, gradients and logged metrics of one batch through TRL's head and through ours, same initial weights."""
    theirs = _trainer(make_model(), tokenizer, tmp_path / "fused", rows, full_logits_loss=False, **overrides)
    ours = _trainer(make_model(), tokenizer, tmp_path / "full", rows, full_logits_loss=True, **overrides)
    assert theirs.full_logits is None and ours.full_logits is not None
    batch = theirs.data_collator([theirs.train_dataset[i] for i in range(4)])
    loss_a, grads_a, metrics_a = _loss_grads_metrics(theirs, batch)
    loss_b, grads_b, metrics_b = _loss_grads_metrics(ours, batch)
    assert loss_b == pytest.approx(loss_a, rel=RTOL)
    assert grads_a.keys() == grads_b.keys() and grads_a
    # each tensor against its own largest entry; tensors whose true gradient is zero (OPT's key biases: softmax ignores
    # a constant added to every key) carry only rounding noise, so the floor is a thousandth of the largest gradient
    floor = 1e-3 * max(grad.abs().max().item() for grad in grads_a.values())
    worst = 0.0
    for name, grad in grads_a.items():
        worst = max(worst, ((grads_b[name] - grad).abs().max() / max(grad.abs().max().item(), floor)).item())
    assert worst < RTOL, worst
    assert metrics_b["entropy"] == pytest.approx(metrics_a["entropy"], rel=RTOL)
    assert metrics_b["mean_token_accuracy"] == metrics_a["mean_token_accuracy"]
    assert metrics_b["num_tokens"] == metrics_a["num_tokens"]
    if "aux_loss" in metrics_a:
        assert metrics_b["aux_loss"] == pytest.approx(metrics_a["aux_loss"], rel=RTOL)
    return {"loss": loss_a, "worst_grad": worst, "metrics": metrics_a}


@pytest.mark.parametrize("architecture", sorted(set(TINY_ARCHITECTURES) - set(UNSUPPORTED)))
def test_loss_and_gradients_equal_trl_head(architecture, tokenizer, tmp_path):
    result = _compare(tokenizer, tmp_path, lambda: tiny_causal_lm(architecture, tokenizer))
    assert result["loss"] > 1.0  # a random model: a real loss was compared, not two zeros


@pytest.mark.parametrize(
    "name, rows, overrides",
    [
        ("untied head", None, {"tied": False}),
        ("completion only", PROMPT_COMPLETION, {}),
        ("padding-free", None, {"padding_free": True, "max_length": None}),
        ("dft loss", None, {"loss_type": "dft"}),
        ("unlikelihood, padding-free", None, {"unlikelihood_alpha": 1.0, "padding_free": True, "max_length": None}),
    ],
)
def test_equal_on_trl_batch_formats(name, rows, overrides, tokenizer, tmp_path):
    tied = overrides.pop("tied", True)
    _compare(tokenizer, tmp_path, lambda: tiny_llama(tokenizer, tie_word_embeddings=tied), rows, **overrides)


def test_unlikelihood_term_equal_on_both_heads(tokenizer, tmp_path):
    """The unlikelihood term reads the targets' log-probabilities from whichever head ran: same loss and gradients."""
    with_term = _compare(tokenizer, tmp_path / "ul", lambda: tiny_llama(tokenizer), unlikelihood_alpha=1.0)
    without = _compare(tokenizer, tmp_path / "plain", lambda: tiny_llama(tokenizer))
    # a random model spreads its probability thin (penalty about 5e-4 here), yet well above rounding (about 1e-6)
    assert with_term["loss"] > without["loss"] + 1e-4


def test_training_run_equals_trl_head(tokenizer, tmp_path):
    """Four optimizer steps: logged losses and final weights of both paths agree."""
    runs = []
    for flag in (False, True):
        model = tiny_llama(tokenizer)
        trainer = _trainer(model, tokenizer, tmp_path / str(flag), chat_rows(32), full_logits_loss=flag)
        trainer.train()
        losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
        runs.append((losses, {k: v.detach().clone() for k, v in model.state_dict().items()}))
    (losses_a, weights_a), (losses_b, weights_b) = runs
    assert len(losses_a) == 4
    assert losses_b == pytest.approx(losses_a, rel=RTOL)
    for name, weight in weights_a.items():  # Adam turns gradient rounding into update rounding, well below one step
        torch.testing.assert_close(weights_b[name], weight, rtol=0, atol=1e-4)


def test_bf16_autocast_kept(tokenizer, tmp_path):
    """bf16 training on a CPU: the backbone runs in bf16 on both paths (swapping the forward once dropped accelerate's
    autocast wrapper, so the full-logits path trained in fp32) and the first step's losses agree to bf16 rounding."""
    runs = {}
    for flag in (False, True):
        model = tiny_llama(tokenizer)
        dtypes: set[torch.dtype] = set()
        model.model.layers[0].mlp.register_forward_hook(lambda _m, _i, output, seen=dtypes: seen.add(output.dtype))
        trainer = _trainer(model, tokenizer, tmp_path / str(flag), full_logits_loss=flag, bf16=True, max_steps=1)
        assert trainer.args.bf16 and (trainer.full_logits is not None) == flag
        trainer.train()
        runs[flag] = (dtypes, [entry["loss"] for entry in trainer.state.log_history if "loss" in entry])
    assert runs[True][0] == runs[False][0] == {torch.bfloat16}
    assert runs[True][1] == pytest.approx(runs[False][1], rel=1e-2)


def _head_calls(monkeypatch) -> list[int]:
    calls: list[int] = []
    original = FullLogitsHead.__call__

    def counting(self, *args, **kwargs):
        calls.append(int(kwargs.get("fused_lm_head", False)))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FullLogitsHead, "__call__", counting)
    return calls


@pytest.mark.parametrize(
    "setting, budget_mb, expected",
    [(None, 2048, True), (None, 0, False), (True, 0, True), (False, 2048, False)],
)
def test_setting_and_memory_budget_pick_the_path(setting, budget_mb, expected, tokenizer, tmp_path, monkeypatch):
    calls = _head_calls(monkeypatch)
    trainer = _trainer(
        tiny_llama(tokenizer),
        tokenizer,
        tmp_path,
        max_steps=2,
        full_logits_loss=setting,
        full_logits_max_memory_mb=budget_mb,
    )
    trainer.train()
    assert sum(calls) == (2 if expected else 0)  # one head call per training step, or none


def test_auto_keeps_trl_head_off_cpu_and_where_unsupported(tokenizer, tmp_path, monkeypatch, caplog):
    trainer = _trainer(tiny_llama(tokenizer), tokenizer, tmp_path, full_logits_loss=None)
    assert trainer.full_logits is not None  # CPU: on by default
    monkeypatch.setattr(SFTPlusConfig, "device", property(lambda self: torch.device("cuda")))
    assert FullLogitsLoss.for_trainer(trainer) is None
    monkeypatch.undo()

    smoothing = _trainer(
        tiny_llama(tokenizer), tokenizer, tmp_path / "ls", full_logits_loss=None, label_smoothing_factor=0.1
    )
    assert smoothing.full_logits is None  # TRL computes that loss from its own full logits
    softcap = _trainer(tiny_causal_lm("gemma2", tokenizer), tokenizer, tmp_path / "gemma2", full_logits_loss=None)
    assert softcap.full_logits is None
    for model, overrides, reason in [
        (tiny_llama(tokenizer), {"label_smoothing_factor": 0.1}, "label smoothing"),
        (tiny_causal_lm("gemma2", tokenizer), {}, UNSUPPORTED["gemma2"]),
    ]:
        with pytest.raises(ValueError, match=reason):
            _trainer(model, tokenizer, tmp_path / "explicit", full_logits_loss=True, **overrides)


def test_defaults_and_conversion_from_trl_config(tokenizer, tmp_path, caplog):
    assert SFTPlusConfig(output_dir=str(tmp_path), report_to="none").full_logits_loss is None
    # use_cpu: the CPU defaults are asserted (on CUDA the full-logits loss stays off by design)
    args = trl.SFTConfig(output_dir=str(tmp_path), max_steps=1, bf16=False, report_to="none", use_cpu=True)
    with caplog.at_level("WARNING"):
        trainer = SFTPlusTrainer(
            model=tiny_llama(tokenizer), args=args, train_dataset=Dataset.from_list(chat_rows(8)),
            processing_class=tokenizer,
        )  # fmt: skip
    assert trainer.args.full_logits_loss is None and trainer.full_logits is not None
    assert "loss from full logits" in caplog.text
    # a TRL config states its sampler ("random"), so it is kept
    assert trainer.args.train_sampling_strategy == "random" and "similar lengths" not in caplog.text
