"""A baseline made by another recipe is refused (exit 2, the differing fields named), unless the user gates across
recipes on purpose with --allow-recipe-mismatch; `nox -s eval` records what it trained in the checkpoint."""

from __future__ import annotations

from trl_sft_plus.evals import environment, run_eval
from trl_sft_plus.evals.cli import main
from trl_sft_plus.evals.results import write_json

from .gate_reruns import reruns
from .test_gate_environment import _environment, _with

RECIPE = {"base_model": "HuggingFaceTB/SmolLM2-135M-Instruct", "learning_rate": 5e-05, "lora_rank": 0}


def _trained(max_steps: int = 180, recipe: dict | None = RECIPE, seed: int = 0) -> dict:
    block = _environment(bf16=False, seed=seed)
    block["training"]["max_steps"] = max_steps
    if recipe is not None:
        block["training"]["recipe"] = dict(recipe)
    return block


def _gate(tmp_path, candidate: dict, baselines: list[dict], *extra: str) -> int:
    runs = reruns(len(baselines) + 1)
    folder = tmp_path / "runs"
    folder.mkdir(exist_ok=True)
    for index, block in enumerate(baselines):
        write_json(_with(runs[index + 1], block), folder / f"seed{index}.json")
    write_json(_with(runs[0], candidate), tmp_path / "candidate.json")
    argv = ["gate", str(tmp_path / "candidate.json"), "--baseline", str(folder), "--fail-on-regression"]
    return main([*argv, "--n-resamples", "999", *extra])


def test_mismatches_name_each_run_and_field():
    baselines = {"a.json": _trained(120)["training"], "b.json": None, "c.json": _trained()["training"]}
    baselines["c.json"]["recipe"]["learning_rate"] = 2e-4
    lines = environment.recipe_mismatches(_trained()["training"], baselines)
    assert lines == [
        "a.json: training.max_steps = 180 here, 120 there",
        "b.json: no training record, so the recipe that made it is unknown",
        "c.json: training.recipe.learning_rate = 5e-05 here, 0.0002 there",
    ]
    # the seed and the bf16 mode are what reruns vary: not part of the recipe
    assert environment.recipe_mismatches(_trained()["training"], {"d.json": _trained(seed=4)["training"]}) == []
    assert environment.recipe_mismatches(None, baselines) == []  # no record here: nothing to compare
    older = _trained(recipe=None)["training"]  # a baseline from before the recipe record
    assert environment.recipe_mismatches(_trained()["training"], {"e.json": older}) == [
        f"e.json: training.recipe.{key} = {value!r} here, 'not recorded' there"
        for key, value in sorted(RECIPE.items())
    ]


def test_a_stale_baseline_is_refused_unless_allowed(tmp_path, capsys):
    stale = [_trained(120, seed=s) for s in range(3)]
    assert _gate(tmp_path, _trained(), stale) == 2
    err = capsys.readouterr().err
    assert "another recipe" in err and "seed0.json: training.max_steps = 180 here, 120 there" in err
    assert "--allow-recipe-mismatch" in err
    assert _gate(tmp_path, _trained(), stale, "--allow-recipe-mismatch") == 0
    out = capsys.readouterr().out
    assert "recipe differs from the baseline (--allow-recipe-mismatch): " in out
    assert "seed0.json: training.max_steps = 180 here, 120 there" in out
    assert _gate(tmp_path, _trained(), [_trained(seed=s) for s in range(3)]) == 0  # same recipe, other seeds


def test_run_eval_records_its_recipe(tmp_path):
    args = run_eval.training_config(tmp_path, 180, 0)
    recipe = run_eval.recipe(args, None, 0)
    assert (
        recipe["learning_rate"] == run_eval.LEARNING_RATE and recipe["haiku_rows"] == run_eval.DEFAULT_SIZES["haiku"]
    )
    assert recipe["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and recipe["batch_size"] == 8
    assert len(recipe["data_sha256"]) == 64 and recipe["data_sha256"] == run_eval.shipped_data_digest()
    assert run_eval.recipe(args, 500, 16)["haiku_rows"] == 500
    args.learning_rate = 1e-4
    assert run_eval.recipe(args, None, 0)["learning_rate"] == 1e-4
