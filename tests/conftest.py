"""Shared fixtures: the SmolLM2 tokenizer (cheap) and tiny random Llama models built on it (hidden 64, 2 layers)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
from datasets import Dataset  # noqa: E402

from trl_sft_plus import models  # noqa: E402
from trl_sft_plus.testing import save_tiny_model, tiny_llama, word_token_ids  # noqa: E402
from trl_sft_plus.validation.scorers import topic_words  # noqa: E402

# `accelerate launch` with 2 CPU processes over gloo (examples/accelerate/cpu_2proc.yaml): the multi-process tests'
# command prefix; the script or `-m module` and its arguments follow
TWO_CPU_PROCESSES = [
    sys.executable,
    "-m",
    "accelerate.commands.launch",
    "--config_file",
    str(Path(__file__).parent.parent / "examples" / "accelerate" / "cpu_2proc.yaml"),
]


@pytest.fixture(autouse=True)
def isolated_base_answer_cache(tmp_path, monkeypatch):
    """Each test starts with an empty cache of base answers (`evals.base_cache`): no test reuses another's."""
    monkeypatch.setenv("TRL_SFT_PLUS_BASE_CACHE", str(tmp_path / "base-answers"))


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory):
    """The embedded model's tokenizer saved alone, so tiny models can share it without loading SmolLM2."""
    path = tmp_path_factory.mktemp("tokenizer")
    models.load_tokenizer().save_pretrained(path)
    return path


@pytest.fixture
def tokenizer(tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tokenizer_dir)


@pytest.fixture
def tiny_model(tokenizer):
    return tiny_llama(tokenizer)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tokenizer_dir):
    """A tiny random model saved with the SmolLM2 tokenizer: what CLI and harness tests pass as MODEL."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    path = tmp_path_factory.mktemp("tiny-model")
    tiny_llama(tokenizer).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture
def word_model(tmp_path, tokenizer):
    """A tiny model that mostly writes six words and line breaks, and often stops: answers that differ from prompt to
    prompt and in their rewards. Returns its folder and the topics it can name (those words, less stopwords)."""
    words = word_token_ids(tokenizer, 6)
    newline = tokenizer("\n", add_special_tokens=False)["input_ids"]
    vocabulary = words + newline + [tokenizer.eos_token_id]
    folder = save_tiny_model(tmp_path / "words", vocabulary=vocabulary, eos_scale=1.5, tokenizer=tokenizer)
    topics = [tokenizer.decode([i]).strip() for i in words]
    return str(folder), [t for t in topics if topic_words(f"about {t}")]


def chat_rows(n: int = 32) -> list[dict]:
    topics = ["rivers", "stars", "bread", "maps", "rain", "trains", "owls", "salt"]
    return [
        {
            "messages": [
                {"role": "user", "content": f"Tell me one fact about {topics[i % len(topics)]}, number {i}."},
                {"role": "assistant", "content": f"Fact {i}: {topics[i % len(topics)]} are worth learning about."},
            ]
        }
        for i in range(n)
    ]


@pytest.fixture
def chat_dataset():
    return Dataset.from_list(chat_rows())


def plain_config(output_dir, **overrides):
    """An SFTPlusConfig small enough for tests, with every addition off unless overridden."""
    from trl_sft_plus import SFTPlusConfig

    values = dict(
        output_dir=str(output_dir),
        max_steps=4,
        per_device_train_batch_size=4,
        learning_rate=1e-3,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        bf16=False,
        gradient_checkpointing=False,
        # The values asserted here are the CPU paths' (full-logits loss, length-grouped batches, the sampled words of
        # tiny models); on a GPU machine Trainer would move the model to CUDA and those paths, by design, change
        use_cpu=True,
        max_length=64,
        seed=0,
        dataloader_num_workers=0,
        disable_tqdm=True,
        quality_filtering=False,
        repetition_monitor=False,
        eos_preflight=False,
        generation_validation=False,
        full_logits_loss=False,  # TRL's fused LM head, as in trl.SFTTrainer
    )
    values.update(overrides)
    return SFTPlusConfig(**values)


def oracle_drafts(monkeypatch, answers: dict[tuple[int, ...], list[int]]) -> None:
    """Replace prompt lookup by drafts that follow each prompt's known greedy answer (`answers`: prompt ids -> answer
    tokens, then its EOS if it stopped) for a pseudo-random number of tokens, then go wrong: rows accept different
    counts every pass, from none to the whole draft, EOS included, which real lookup on random models rarely does."""
    import random

    from trl_sft_plus.generation import continuous as decoding

    class Oracle(decoding.PromptLookup):
        def __init__(self, ids, max_ngram):
            super().__init__(ids, max_ngram)
            self.prompt = tuple(ids)

        def draft(self, k: int) -> list[int]:
            answer, done = answers[self.prompt], len(self.ids) - len(self.prompt)
            right = random.Random(done * 7919 + len(self.prompt)).randint(0, k)
            wrong = [(token + 1) % 1000 for token in answer[done + right : done + k]]
            return (answer[done : done + right] + wrong)[:k]

    monkeypatch.setattr(decoding, "PromptLookup", Oracle)
