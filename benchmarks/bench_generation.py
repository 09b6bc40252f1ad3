"""Generation throughput, side by side in one run on the same model and prompts: our batched generator (what the
validator, the monitor and the harness use) with one token per pass and with prompt-lookup speculation, lm-eval's
`HFLM.generate_until`, and one prompt at a time.

Same model (the embedded SmolLM2-135M-Instruct unless --model), same chat-templated prompts, greedy decoding, the same
new-token budget, batch size and dtype. Prints prompts/s and new tokens/s for each, the ratios, whether speculation
gave the same tokens as one token per pass, and its acceptance rate. Targets: speculative >= 1.5x lm-eval at equal
batch size and dtype (>= 2x on the base model, whose answers loop), >= 3x unbatched, identical tokens.
Try it quickly with `--prompts 4 --max-new-tokens 8 --skip-unbatched`; timings need a quiet machine.
"""

from __future__ import annotations

import argparse
import time

import torch

from trl_sft_plus import models
from trl_sft_plus.generation import GenerationSettings, GenerationStats, generate
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


def run_ours(model, tokenizer, texts, max_new_tokens, batch_size, speculative_tokens=0, speculative_ngram=3):
    settings = GenerationSettings(
        max_new_tokens=max_new_tokens, batch_size=batch_size, speculative_tokens=speculative_tokens,
        speculative_ngram=speculative_ngram,
    )  # fmt: skip
    stats = GenerationStats()
    outputs, seconds = timed(lambda: generate(model, tokenizer, texts, settings, stats=stats))
    return sum(len(g.completion_token_ids) for g in outputs), seconds, outputs, stats


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
    return new_tokens, seconds, outputs, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=48, help="how many prompts (a small number to try it)")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--speculative-tokens", type=int, default=4, help="draft tokens per row and pass")
    parser.add_argument("--speculative-ngram", type=int, default=3, help="longest n-gram prompt lookup matches")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--skip-unbatched", action="store_true", help="leave out one prompt at a time (slow)")
    parser.add_argument("--model", default=models.DEFAULT_MODEL, help="e.g. eval-results/tuned after nox -s eval")
    args = parser.parse_args()
    model, tokenizer = models.load(args.model, dtype=getattr(torch, args.dtype))
    model.eval()
    texts = prompts(args.prompts)
    n, batch = args.max_new_tokens, args.batch_size
    speculative = f"ours, speculative k={args.speculative_tokens}"
    # Every prompt in the order of the suites mixes tasks, so answers of very different lengths share batches
    results = {
        "ours, one token per pass": run_ours(model, tokenizer, texts, n, batch),
        speculative: run_ours(model, tokenizer, texts, n, batch, args.speculative_tokens, args.speculative_ngram),
        "lm-eval HFLM.generate_until": run_lm_eval(model, tokenizer, texts, n, batch),
    }
    if not args.skip_unbatched:
        results["ours, one prompt at a time"] = run_ours(model, tokenizer, texts, n, 1)
    print(
        f"{args.model}: {len(texts)} prompts, {n} new tokens max, batch {batch}, {args.dtype}, "
        f"{torch.get_num_threads()} threads"
    )
    for name, (tokens, seconds, _, stats) in results.items():
        passes = (
            f"  {stats.forward_passes} passes, {stats.positions} positions, {stats.tokens_per_pass:.2f} tok/pass"
            if stats
            else ""
        )
        print(
            f"{name:30s} {len(texts) / seconds:6.2f} prompts/s  {tokens / seconds:7.1f} new tokens/s  "
            f"({seconds:.1f} s){passes}"
        )
    plain, spec, lm_eval = (
        results["ours, one token per pass"],
        results[speculative],
        results["lm-eval HFLM.generate_until"],
    )
    same = [a.completion_token_ids == b.completion_token_ids for a, b in zip(plain[2], spec[2], strict=True)]
    same_text = sum(g.completion.strip() == text.strip() for g, text in zip(spec[2], lm_eval[2], strict=True))
    print(
        f"speculation: acceptance rate {spec[3].acceptance_rate:.2f} ({spec[3].accepted_tokens} of "
        f"{spec[3].drafted_tokens} drafted tokens), passes {plain[3].forward_passes} -> {spec[3].forward_passes}, "
        f"identical tokens to one token per pass: {sum(same)}/{len(same)}; same text as lm-eval: "
        f"{same_text}/{len(texts)}"
    )
    print(f"ratio vs lm-eval, one token per pass: {lm_eval[1] / plain[1]:.2f}x")
    print(f"ratio vs lm-eval, speculative:        {lm_eval[1] / spec[1]:.2f}x (target >= 1.5, >= 2 on the base model)")
    print(f"speculative vs one token per pass:    {plain[1] / spec[1]:.2f}x")
    if "ours, one prompt at a time" in results:
        print(
            f"ratio vs unbatched:                   {results['ours, one prompt at a time'][1] / spec[1]:.2f}x (>= 3)"
        )


if __name__ == "__main__":
    main()
