"""`python -m evals baseline`: reruns of a training command, one results.json each, resumable, errors named."""

from __future__ import annotations

import json
import shlex
import sys

from trl_sft_plus.evals.cli import main

# "training" copies a finished checkpoint into {out} and counts itself, so the test sees every rerun that ran
TRAIN = (
    f'{shlex.quote(sys.executable)} -c "import shutil, sys; shutil.copytree(sys.argv[1], sys.argv[2], '
    "dirs_exist_ok=True); open(sys.argv[3], 'a').write(sys.argv[4] + chr(10))\" {model} {out} {counter} {seed}-{bf16}"
)


def test_reruns_are_kept_resumed_and_failures_named(tiny_model_dir, tmp_path, capsys):
    suite = tmp_path / "suite.jsonl"
    suite.write_text('{"id": "a", "task": "chat", "prompt": "Hi"}\n{"id": "b", "task": "chat", "prompt": "Why?"}\n')
    counter = tmp_path / "ran.txt"
    command = TRAIN.replace("{model}", shlex.quote(str(tiny_model_dir))).replace(
        "{counter}", shlex.quote(str(counter))
    )
    out = tmp_path / "baseline"
    argv = ["baseline", "--out", str(out), "--seeds", "0", "--bf16", "off", "--train-command", command,
            "--base", str(tiny_model_dir), "--suite", str(suite), "--max-new-tokens", "4"]  # fmt: skip
    assert main(argv) == 0
    assert counter.read_text().split() == ["0-off"]
    results = json.loads((out / "seed0-bf16off.json").read_text())
    assert len(results["generations"]) == 2  # compared with the base on the suite
    assert "[1/1] seed0-bf16off: kept" in capsys.readouterr().out

    assert main([*argv[:4], "0", "1", *argv[5:]]) == 0  # resumed: only the new seed trains
    assert counter.read_text().split() == ["0-off", "1-off"]
    assert sorted(p.name for p in out.glob("*.json")) == ["seed0-bf16off.json", "seed1-bf16off.json"]
    printed = capsys.readouterr().out
    assert "[1/2] seed0-bf16off: done before, kept" in printed and "needs at least 3" in printed

    failing = [*argv[:2], str(tmp_path / "other"), *argv[3:]]
    failing[failing.index("--train-command") + 1] = f"{shlex.quote(sys.executable)} -c 'raise SystemExit(3)'"
    assert main(failing) == 2
    err = capsys.readouterr().err
    assert "rerun seed0-bf16off: the training command exited with 3" in err and "train.log" in err
    assert not list((tmp_path / "other").glob("*.json"))  # nothing half-done is kept
