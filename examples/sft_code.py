"""Fine-tune the embedded SmolLM2-135M-Instruct on Python functions: the SmolLM2 SFT tutorial's code run, offline.

The tutorial trains on 5,000 files of bigcode/the-stack-smol. Offline we train, as `nox -s eval` does, on the verified
standalone functions of `python-functions` (each passed its tests in the sandbox) whose body is more than one line,
at the eval recipe's learning rate (5e-5: at the tutorial's 2e-4 the eval recipe's code came out garbled). 12 of them
are held out: every evaluation runs their answers against their tests in the sandbox (`eval_gen_python_pass`). The
standard-library methods of `python-stdlib`, which this example trained on before, taught a spurious `self`: the
tutorial's snake prompt got `def snake_move(self, pos, action): return self.tk.call(...)`.

    python examples/sft_code.py            # default size
    python examples/sft_code.py --full     # every function for one epoch
    python examples/sft_code.py --hub      # bigcode/the-stack-smol (data/python), needs the network
    python examples/sft_code.py --lora 16  # a LoRA adapter of rank 16 instead of every weight (needs peft)

It prints the prompts' answers before and after training side by side and, for the prompts that come with tests,
each answer's `python_pass` (share of the asserts that pass), run in the sandbox. Running this script is the opt-in
to running generated code there.
"""

from __future__ import annotations

import argparse

import tutorial
from datasets import Dataset
from trl_sft_plus.evals.run_eval import LEARNING_RATE, MAX_ANSWER_CHARS, one_line_function

from trl_sft_plus import SFTTrainer, models
from trl_sft_plus.data_loading import load_rows, tagged
from trl_sft_plus.generation import GenerationSettings
from trl_sft_plus.validation import sandbox

HELD_OUT = 12
# (prompt, tests): the tutorial's own prompt has none; the other two state a signature and are scored with python_pass
PROMPTS = [
    ("# write a snake movement function in python", ()),
    (
        "# write a function `snake_move(head, direction)` that returns the snake's new head position (x, y) after one "
        'step "up", "down", "left" or "right" on a grid where y grows downwards in python',
        (
            "assert snake_move((0, 0), 'up') == (0, -1)",
            "assert snake_move((2, 3), 'right') == (3, 3)",
            "assert snake_move((5, 5), 'left') == (4, 5)",
            "assert snake_move((1, 1), 'down') == (1, 2)",
        ),
    ),
    (
        "# write a function `reverse_words(sentence)` that returns the sentence with its words in reverse order in "
        "python",
        (
            "assert reverse_words('hello world') == 'world hello'",
            "assert reverse_words('a b c') == 'c b a'",
            "assert reverse_words('one') == 'one'",
        ),
    ),
]


def training_data(args: argparse.Namespace) -> tuple[Dataset, Dataset]:
    """(training rows, evaluation rows); offline the evaluation rows carry their functions' tests."""
    if args.hub:  # the tutorial's data: raw files as plain text; offline this names the shipped stand-in
        files = load_rows("bigcode/the-stack-smol", config_name="data/python").select(range(5000))
        split = files.rename_column("content", "text").select_columns(["text"]).train_test_split(HELD_OUT, seed=0)
        return split["train"], split["test"]
    limit = None if args.full else MAX_ANSWER_CHARS  # short answers keep a step near 2 s on 2 CPU cores
    functions = tagged("python-functions", seed=args.seed, max_answer_chars=limit, keep_tests=True)
    functions = functions.shuffle(seed=args.seed)
    held_out = functions.select(range(HELD_OUT))
    train = functions.select(range(HELD_OUT, len(functions))).remove_columns("tests")
    train = train.filter(lambda row: not one_line_function(row["messages"][-1]["content"]))
    return train, held_out


def main() -> None:
    args = tutorial.parse_args(__doc__, "outputs/sft-code", max_steps=100)
    sandbox.isolation(sandbox.network_allowed())  # before any training: refuses where namespaces do not work

    model, tokenizer = models.load(args.model)
    settings = GenerationSettings(max_new_tokens=160, batch_size=len(PROMPTS))

    train, evaluation = training_data(args)
    config = tutorial.config(
        args,
        learning_rate=LEARNING_RATE,
        repetition_monitor_steps=50,
        validation_max_new_tokens=160,
        validation_allow_code_execution=not args.hub,
    )
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
        peft_config=tutorial.peft_config(args),
    )
    tutorial.run(
        trainer,
        [prompt for prompt, _ in PROMPTS],
        settings,
        "SmolLM2-135M-Instruct: before and after code SFT",
        eval_before=args.eval_before,
        tests=[tests for _, tests in PROMPTS],
    )


if __name__ == "__main__":
    main()
