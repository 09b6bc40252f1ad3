"""Generation throughput, side by side in one run on the same model and prompts: our batched generator (what the
validator, the monitor and the harness use), lm-eval's `HFLM.generate_until`, and one prompt at a time.

Same model (the embedded SmolLM2-135M-Instruct), same chat-templated prompts, greedy decoding, the same new-token
budget and batch size. Prints prompts/s and new tokens/s for each, and the ratios. Targets: ours >= 1.5x lm-eval,
>= 3x unbatched.
"""

from __future__ import annotations

import argparse
import time

import torch

from trl_sft_plus import models
from trl_sft_plus.generation import GenerationSettings, generate
from trl_sft_plus.validation.prompts import load_prompt_files

SUITES = ["haiku", "python", "chat"]


def prompts(count: int) -> list[str]:
    from trl_sft_plus.evals.suite import resolve_suite_path

    rows = load_prompt_files([resolve_suite_path(name) for name in SUITES], require_task=True)
    return [row.user_text for row in rows][:count]


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def run_ours(model, tokenizer, texts, max_new_tokens, batch_size):
    settings = GenerationSettings(max_new_tokens=max_new_tokens, batch_size=batch_size)
    outputs, seconds = timed(lambda: generate(model, tokenizer, texts, settings))
    return sum(len(g.completion_token_ids) for g in outputs), seconds


def run_lm_eval(model, tokenizer, texts, max_new_tokens, batch_size):
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size, max_length=2048)
    contexts = [
        tokenizer.apply_chat_template([{"role": "user", "content": t}], tokenize=False, add_generation_prompt=True)
        for t in texts
    ]
    gen_kwargs = {"until": [], "max_gen_toks": max_new_tokens, "do_sample": False}
    requests = [Instance("generate_until", {}, (context, gen_kwargs), i) for i, context in enumerate(contexts)]
    outputs, seconds = timed(lambda: lm.generate_until(requests, disable_tqdm=True))
    new_tokens = sum(len(tokenizer(o, add_special_tokens=False)["input_ids"]) for o in outputs)
    return new_tokens, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=48)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--model", default=models.DEFAULT_MODEL, help="e.g. eval-results/tuned after nox -s eval")
    args = parser.parse_args()
    model, tokenizer = models.load(args.model)
    model.eval()
    texts = prompts(args.prompts)
    # Every prompt in the order of the suites mixes tasks, so answers of very different lengths share batches
    results = {
        "ours (batched)": run_ours(model, tokenizer, texts, args.max_new_tokens, args.batch_size),
        "lm-eval HFLM.generate_until": run_lm_eval(model, tokenizer, texts, args.max_new_tokens, args.batch_size),
        "ours, one prompt at a time": run_ours(model, tokenizer, texts, args.max_new_tokens, 1),
    }
    print(
        f"{len(texts)} prompts, {args.max_new_tokens} new tokens max, batch {args.batch_size}, "
        f"{torch.get_num_threads()} threads"
    )
    for name, (tokens, seconds) in results.items():
        print(
            f"{name:30s} {len(texts) / seconds:6.2f} prompts/s  {tokens / seconds:7.1f} new tokens/s  ({seconds:.1f} s)"
        )
    ours = results["ours (batched)"][1]
    print(f"ratio vs lm-eval:   {results['lm-eval HFLM.generate_until'][1] / ours:.2f}x (target >= 1.5)")
    print(f"ratio vs unbatched: {results['ours, one prompt at a time'][1] / ours:.2f}x (target >= 3)")


if __name__ == "__main__":
    main()
