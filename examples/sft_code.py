"""Fine-tune the embedded SmolLM2-135M-Instruct on Python functions: the SmolLM2 SFT tutorial's code run, offline.

The tutorial trains on 5,000 files of bigcode/the-stack-smol; offline we mine 5,000+ functions and classes from the
installed Python standard library into `# write a function that ... in python` -> fenced-code rows.

    python examples/sft_code.py            # default size, about 10 minutes on 2 CPU cores
    python examples/sft_code.py --full     # every mined row for one epoch
    python examples/sft_code.py --hub      # bigcode/the-stack-smol (data/python), needs the network

It prints the tutorial prompt's answer before and after training side by side.
"""

from __future__ import annotations

import argparse

import tutorial

from trl_sft_plus import SFTTrainer, models
from trl_sft_plus.data_loading import load_rows, tagged
from trl_sft_plus.generation import GenerationSettings

SHORT_ANSWER_CHARS = 600
PROMPTS = [
    "# write a snake movement function in python",
    "# write a function that reverses the words of a sentence in python",
]


def training_data(args: argparse.Namespace):
    if args.hub:  # the tutorial's data: raw files as plain text; offline this names the shipped stand-in
        files = load_rows("bigcode/the-stack-smol", config_name="data/python").select(range(5000))
        return files.rename_column("content", "text").select_columns(["text"])
    if args.full:
        return tagged("python-stdlib", seed=args.seed)
    # Default size: 2,000 functions of at most 600 characters (3,760 of the 5,128 qualify). Full-length rows fill
    # max_length (256 tokens) and cost about 12 s a step on 2 CPU cores; these cost about a third of that.
    return tagged("python-stdlib", 2000, seed=args.seed, max_answer_chars=SHORT_ANSWER_CHARS)


def main() -> None:
    args = tutorial.parse_args(__doc__, "outputs/sft-code", max_steps=100)

    model, tokenizer = models.load(args.model)
    settings = GenerationSettings(max_new_tokens=160, batch_size=len(PROMPTS))

    data = training_data(args)
    split = data.train_test_split(test_size=12, seed=args.seed)
    config = tutorial.config(args, repetition_monitor_steps=50, validation_max_new_tokens=160)
    trainer = SFTTrainer(
        model=model, args=config, train_dataset=split["train"], eval_dataset=split["test"], processing_class=tokenizer
    )
    tutorial.run(
        trainer, PROMPTS, settings, "SmolLM2-135M-Instruct: before and after code SFT", eval_before=args.eval_before
    )


if __name__ == "__main__":
    main()
