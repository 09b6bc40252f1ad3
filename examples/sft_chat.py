"""Fine-tune the embedded SmolLM2-135M-Instruct on short chat and haiku conversations: the SmolLM2 SFT tutorial's
chat run, offline, with `SFTTrainer` imported from trl_sft_plus instead of trl.

    python examples/sft_chat.py            # default size, about 6 minutes on 2 CPU cores
    python examples/sft_chat.py --full     # every shipped row for one epoch
    python examples/sft_chat.py --hub      # HuggingFaceTB/smoltalk (everyday-conversations), needs the network
    python examples/sft_chat.py --lora 16  # a LoRA adapter of rank 16 instead of every weight (needs peft)

It prints the tutorial prompts' answers before and after training side by side.
"""

from __future__ import annotations

import argparse

import tutorial
from datasets import concatenate_datasets

from trl_sft_plus import SFTTrainer, models
from trl_sft_plus.data_loading import load_rows, mixture, tagged
from trl_sft_plus.generation import GenerationSettings

PROMPTS = [
    "Write a haiku about programming",
    "Write a haiku about the ocean",
    "Can you help me learn to code?",
    "What is the capital of France?",
]


def training_data(args: argparse.Namespace):
    if args.hub:  # the tutorial's dataset; offline this fails with a message naming the shipped stand-in
        return load_rows("HuggingFaceTB/smoltalk", config_name="everyday-conversations").select_columns(["messages"])
    # About as many haiku as chat rows: with twice as many haiku, chat prompts got haiku-like non-answers
    return mixture({"haiku": None if args.full else 400, "chat": None}, seed=args.seed)


def main() -> None:
    args = tutorial.parse_args(__doc__, "outputs/sft-chat", max_steps=120)

    model, tokenizer = models.load(args.model)
    settings = GenerationSettings(max_new_tokens=96, batch_size=len(PROMPTS))

    eval_dataset = concatenate_datasets([tagged("haiku-heldout", 12, seed=args.seed), tagged("chat", 4, seed=1)])
    config = tutorial.config(args, repetition_monitor_steps=40, validation_max_new_tokens=64)
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=training_data(args),
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=tutorial.peft_config(args),
    )
    tutorial.run(
        trainer, PROMPTS, settings, "SmolLM2-135M-Instruct: before and after chat SFT", eval_before=args.eval_before
    )


if __name__ == "__main__":
    main()
