"""`trl-sft-plus train | filter`.

`train` is TRL's `trl sft` script shape built on `trl.TrlParser` with `SFTPlusConfig` (TRL's own CLI hard-codes its
trainer class): flags or a YAML file via `--config`, and it runs unchanged under `accelerate launch`.
Errors about the user's input end in one line on stderr and exit status 2 (`TRL_SFT_PLUS_DEBUG=1` shows tracebacks).
Flags use TRL's underscore spelling (`--allow_pickle`, `--trust_remote_code`); `HfArgumentParser` also registers the
dashed alias of each (`--allow-pickle`), the spelling the loader's errors name for every command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

USAGE = "usage: trl-sft-plus {train,filter} [options]  (trl-sft-plus COMMAND --help for details)"


@dataclass
class TrainScriptArguments:
    """What to train on: shipped names, local files or hub datasets (see `trl_sft_plus.data_loading.load_rows`)."""

    dataset_name: str = field(
        default="chat",
        metadata={
            "help": "Training data: a shipped name (haiku, chat, python-stdlib, python-functions), a JSONL/JSON/Parquet "
            "file, or a hub dataset id."
        },
    )
    dataset_config: str | None = field(default=None, metadata={"help": "Hub dataset configuration name."})
    dataset_train_split: str = field(default="train", metadata={"help": "Split to train on."})
    eval_dataset_name: str | None = field(
        default=None, metadata={"help": "Evaluation data, in any form `dataset_name` takes."}
    )
    eval_fraction: float = field(
        default=0.0, metadata={"help": "Hold out this fraction of the training rows for evaluation (seeded)."}
    )


def _train_parser():
    from trl import ModelConfig, TrlParser

    from .config import SFTPlusConfig

    return TrlParser((TrainScriptArguments, SFTPlusConfig, ModelConfig), prog="trl-sft-plus train")


def train(argv: Sequence[str]) -> int:
    from trl import get_peft_config, get_quantization_config

    from .data_loading import load_rows
    from .models import DEFAULT_MODEL, resolve_model_path
    from .trainer import SFTPlusTrainer

    script_args, training_args, model_args = _train_parser().parse_args_and_config(args=list(argv))
    model_path = resolve_model_path(
        model_args.model_name_or_path or DEFAULT_MODEL, allow_pickle=training_args.allow_pickle
    )
    model_init_kwargs = dict(
        revision=model_args.model_revision,
        trust_remote_code=training_args.trust_remote_code,
        attn_implementation=model_args.attn_implementation,
        dtype=model_args.dtype,
        use_safetensors=None if training_args.allow_pickle else True,
    )
    model_init_kwargs.update(training_args.model_init_kwargs or {})
    training_args.model_init_kwargs = model_init_kwargs

    train_dataset = load_rows(
        script_args.dataset_name, script_args.dataset_train_split, config_name=script_args.dataset_config
    )
    eval_dataset = None
    if script_args.eval_dataset_name:
        eval_dataset = load_rows(script_args.eval_dataset_name, "test")
    elif script_args.eval_fraction > 0:
        split = train_dataset.train_test_split(test_size=script_args.eval_fraction, seed=training_args.seed)
        train_dataset, eval_dataset = split["train"], split["test"]

    trainer = SFTPlusTrainer(
        model=model_path,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        quantization_config=get_quantization_config(model_args),
        peft_config=get_peft_config(model_args),
    )
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model(training_args.output_dir)
    trainer.accelerator.print(
        f"Model saved to {training_args.output_dir} ({trainer.accelerator.num_processes} process(es))"
    )
    trainer.accelerator.wait_for_everyone()
    trainer.accelerator.end_training()  # closes the process group on every rank before the interpreter exits
    return 0


def filter_rows(argv: Sequence[str]) -> int:
    from .quality.command import main as run_filter

    return run_filter(list(argv))


COMMANDS = {"train": train, "filter": filter_rows}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    from .data_loading import DatasetLoadError
    from .models import ModelLoadError

    try:
        return COMMANDS[argv[0]](argv[1:])
    except (ModelLoadError, DatasetLoadError, OSError, ValueError, KeyError) as error:
        if os.environ.get("TRL_SFT_PLUS_DEBUG"):
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"trl-sft-plus {argv[0]}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
