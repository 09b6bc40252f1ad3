"""Our figures in the model card TRL writes: the data-quality report, the last repetition check and the last
generation-validation results, each as a short Markdown table appended to `README.md`.

TRL (1.16) writes its card from `create_model_card`, which it calls only when it saves a checkpoint
(`_save_checkpoint`) or pushes (`push_to_hub`), always into `args.output_dir`. `trainer.save_model(folder)` writes no
card, so `SFTPlusTrainer.save_model` calls `write_model_card` for the folder the user named.

TRL names the base model only when `config._name_or_path` is a hub id and fills the quick-start with
`trainer.hub_model_id`, which is None unless the run pushes; a model loaded from a folder (the embedded SmolLM2 is one,
in the user cache) and saved locally got "fine-tuned version of [None]" and `model="None"`. `card_names` gives TRL's
card the base model's name (`base_model_name`) and the folder the card is written into, for the one call.

With `load_best_model_at_end`, the weights saved after training are the best checkpoint's, not the last step's: the
card's tables then come from that checkpoint's evaluation and repetition check (`kept_step`). A model wrapped by peft
gets a section naming the base model and the adapter and showing how to load the two.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from accelerate.utils import is_peft_model

from .models import EMBEDDED_MODELS, portable_name, text_tokenizer

SECTION_MARKER = "<!-- trl-sft-plus -->"


def _table(header: tuple[str, str], rows: list[tuple[str, Any]]) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "| --- | ---: |"]
    for name, value in rows:
        lines.append(f"| {name} | {value:.4g} |" if isinstance(value, float) else f"| {name} | {value} |")
    return "\n".join(lines)


def kept_step(trainer: Any) -> int | None:
    """The step of the checkpoint `load_best_model_at_end` loaded into the model once training ended; None while
    training runs (a checkpoint's card describes the weights of its own step) or when the last step's weights stay."""
    state, args = trainer.state, trainer.args
    best = getattr(state, "best_model_checkpoint", None)
    if not best or not getattr(args, "load_best_model_at_end", False) or getattr(trainer, "is_in_train", False):
        return None
    match = re.search(r"checkpoint-(\d+)$", str(best).rstrip("/\\"))
    return int(match.group(1)) if match else None


def _at_or_before(entries: list[dict], step: int | None) -> dict | None:
    """The last entry logged at `step` or before it (the last of all when `step` is None)."""
    kept = [entry for entry in entries if step is None or entry.get("step", 0) <= step]
    return kept[-1] if kept else None


def _step_note(step: Any, kept: int | None, trainer: Any) -> str:
    """`step N`, and when `load_best_model_at_end` kept an earlier checkpoint, which one and by which metric."""
    step = int(step)
    if kept is None:
        return f"step {step}"
    best = trainer.state.best_metric
    why = (
        f"the checkpoint kept by `load_best_model_at_end` (best `{trainer.args.metric_for_best_model or 'loss'}`"
        + (f" {best:.4g}" if isinstance(best, float) else "")
        + f"); training ran to step {trainer.state.global_step}"
    )
    return f"step {step}: {why}" if step == kept else f"step {step}, the last before step {kept}, {why}"


def adapter_section(trainer: Any, folder: str | Path | None = None) -> str:
    """For a peft model: the base model (its hub id where known) and the adapter folder, and how to load them."""
    model = trainer.model
    if not is_peft_model(model):
        return ""
    configs = model.peft_config
    config = configs.get(getattr(model, "active_adapter", "default")) or next(iter(configs.values()))
    recorded = getattr(config, "base_model_name_or_path", None)
    base = _name_of(str(recorded)) if recorded else base_model_name(model.get_base_model(), trainer.processing_class)
    adapter = trainer.args.hub_model_id or str(folder if folder is not None else trainer.args.output_dir)
    kind = getattr(config.peft_type, "value", config.peft_type)
    return (
        f"### Adapter\n\nThis folder holds a {kind} adapter, not full weights: base model `{base}`, "
        f"adapter `{adapter}`.\n\n"
        "```python\n"
        "from peft import PeftModel\n"
        "from transformers import AutoModelForCausalLM\n\n"
        f'model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained("{base}"), "{adapter}")\n'
        "```"
    )


def plus_sections(trainer: Any, folder: str | Path | None = None) -> str:
    """Markdown for the card; empty when there is nothing to report. The monitor's and the validation's numbers are
    those of the weights being saved: the kept checkpoint's step when `load_best_model_at_end` loaded one."""
    parts = []
    adapter = adapter_section(trainer, folder)
    if adapter:
        parts.append(adapter)
    for name, report in getattr(trainer, "quality_reports", {}).items():
        rows = [("input rows", report.input_rows), ("kept rows", report.kept_rows)]
        rows += [(f"dropped: {reason}", count) for reason, count in sorted(report.dropped.items())]
        parts.append(f"### Data quality ({name} dataset)\n\n" + _table(("", "rows"), rows))
    kept = kept_step(trainer)
    monitor = getattr(trainer, "repetition_monitor", None)
    check = _at_or_before(monitor.history, kept) if monitor is not None else None
    if check is not None:
        rows = [(f"rep/{key}", value) for key, value in check.items() if key != "step"]  # the names loggers see
        title = f"### Repetition monitor ({_step_note(check['step'], kept, trainer)})"
        parts.append(f"{title}\n\n" + _table(("metric", "value"), rows))
    evaluations = [entry for entry in trainer.state.log_history if any("_gen_" in key for key in entry)]
    evaluation = _at_or_before(evaluations, kept)
    if evaluation is not None:
        rows = [(key, value) for key, value in sorted(evaluation.items()) if "_gen_" in key]
        title = f"### Generation validation ({_step_note(evaluation.get('step', 0), kept, trainer)})"
        parts.append(f"{title}\n\n" + _table(("metric", "value"), rows))
    if not parts:
        return ""
    return f"\n{SECTION_MARKER}\n## trl-sft-plus\n\n" + "\n\n".join(parts) + "\n"


_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")


def base_model_name(model: Any, processing_class: Any = None) -> str | None:
    """The name of the model a run started from: its hub id when known, else the name of the folder it came from.

    A hub id in `config._name_or_path` is used as it is. A folder is named by the embedded model it holds (its hub
    id), else by the hub id its config.json recorded as `_name_or_path` (transformers 4 wrote it), else by the
    folder's own name. A model built in memory, with no name, is named after its tokenizer in the same way."""
    tokenizer = text_tokenizer(processing_class)
    for name in (
        getattr(getattr(model, "config", None), "_name_or_path", None),
        getattr(tokenizer, "name_or_path", None),
    ):
        if name:
            return _name_of(str(name))
    return None


def card_name(name_or_path: str) -> str:
    """A model's name for a card or a report, meaning the same on another machine: the hub id of an embedded model (by
    its name or its converted folder, `models.portable_name`), a hub id as it is, else what `base_model_name` says of a
    folder (its recorded hub id or its own name); never a path of this machine."""
    return _name_of(name_or_path)


def _name_of(name: str) -> str:
    if name in EMBEDDED_MODELS:
        return EMBEDDED_MODELS[name].hub_id
    if portable_name(name) != name:  # the embedded model's converted folder in the user cache
        return portable_name(name)
    path = Path(name).expanduser()
    if not path.is_dir():
        return name if _HUB_ID.fullmatch(name) else path.name
    folder = path.resolve()
    try:
        recorded = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("_name_or_path")
    except (OSError, ValueError, AttributeError):
        recorded = None
    if isinstance(recorded, str) and _HUB_ID.fullmatch(recorded) and not Path(recorded).is_dir():
        return recorded
    return folder.name


@contextmanager
def card_names(trainer: Any) -> Iterator[None]:
    """For one `create_model_card` call: the base model's name in `config._name_or_path` (where TRL reads it) and,
    unless the run pushes to the hub, `args.output_dir` (the folder the card and the weights are in) as the model
    the quick-start loads."""
    config = trainer.model.config
    name_or_path, hub_model_id = config._name_or_path, trainer.hub_model_id
    base = base_model_name(trainer.model, trainer.processing_class)
    if base:
        config._name_or_path = base
    if hub_model_id is None:
        trainer.hub_model_id = str(trainer.args.output_dir)
    try:
        yield
    finally:
        config._name_or_path, trainer.hub_model_id = name_or_path, hub_model_id


def write_model_card(trainer: Any, folder: str | Path) -> None:
    """TRL's card, with our sections, as `folder/README.md` (main process only, like TRL's).

    TRL's `create_model_card` takes no folder: pointing `args.output_dir` at `folder` for the one call reuses TRL's
    card unchanged instead of copying its template code.
    """
    args = trainer.args
    model_name = args.hub_model_id.split("/")[-1] if args.hub_model_id else Path(folder).name
    output_dir, args.output_dir = args.output_dir, str(folder)
    try:
        trainer.create_model_card(model_name=model_name)
    finally:
        args.output_dir = output_dir


def append_plus_sections(trainer: Any) -> None:
    folder = Path(trainer.args.output_dir)  # the folder being saved: write_model_card points output_dir there
    card = folder / "README.md"
    sections = plus_sections(trainer, folder)
    if not sections or not card.is_file():
        return
    text = card.read_text(encoding="utf-8")
    if SECTION_MARKER in text:  # a card rewritten at each checkpoint keeps one copy of our sections
        text = text[: text.index(SECTION_MARKER)].rstrip("\n") + "\n"
    card.write_text(text + sections, encoding="utf-8")
