"""One GRPOPlusTrainer step with the collapse check, the repetition monitor and generation validation on, then one
evaluation: what `tests/test_distributed.py` runs under `accelerate launch` with 2 CPU processes.

Usage: `grpo_launch_script.py MODEL_DIR TOPICS_JSON OUTPUT_DIR`. Every rank writes `rank{N}.json` with what it saw,
so the test can check that the ranks joined one group and agree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from datasets import Dataset
from test_grpo import checked_trainer  # this script's folder is first on the path
from transformers import AutoTokenizer

TEMPLATES = ("Write a haiku about {}", "Compose a haiku about {}")


def main(model_dir: str, topics_json: str, output_dir: str) -> None:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    topics = json.loads(topics_json)
    requests = [template.format(topic) for topic in topics for template in TEMPLATES]  # 4 prompts: 2 a rank
    rows = [{"prompt": [{"role": "user", "content": request}], "task": "haiku"} for request in requests]
    dataset = Dataset.from_list(rows)
    # the single-process test's trainer, less its `use_cpu=True`: the config must set it itself
    trainer, _, _ = checked_trainer(model_dir, tokenizer, dataset, output_dir, use_cpu=False)
    trainer.train()
    metrics = trainer.evaluate()
    logged = next(entry for entry in trainer.state.log_history if "loss" in entry)
    seen = {
        "world_size": trainer.accelerator.num_processes,
        "collapse_history": trainer.collapse_check.history,
        "monitor_checks": len(trainer.repetition_monitor.history),
        "logged": {k: v for k, v in logged.items() if k.startswith(("completions/cross", "rep/", "reward"))},
        "eval_gen": {k: v for k, v in metrics.items() if k.startswith("eval_gen_")},
    }
    index = trainer.accelerator.process_index
    Path(output_dir, f"rank{index}.json").write_text(json.dumps(seen, indent=2, sort_keys=True, default=str))
    trainer.accelerator.wait_for_everyone()
    trainer.accelerator.end_training()


if __name__ == "__main__":
    main(*sys.argv[1:4])
