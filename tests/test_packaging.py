"""The wheel's package list names every package folder, the harness installs under `trl_sft_plus.evals` (never as
a top-level `evals`), and the lm-eval task template matches the metric directions the scorers declare."""

from __future__ import annotations

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_installed_and_evals_is_not_top_level():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = setuptools["package-dir"]
    found = {
        ".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "trl_sft_plus").rglob("__init__.py")
    } | {
        "trl_sft_plus." + ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "evals").rglob("__init__.py")
    }
    assert set(setuptools["packages"]) == found
    assert mapping == {"trl_sft_plus.evals": "evals"}
    assert not any(name == "evals" or name.startswith("evals.") for name in setuptools["packages"])


def test_installed_harness_is_the_evals_folder():
    import trl_sft_plus.evals.stats as stats

    assert Path(stats.__file__).resolve().parent == ROOT / "evals"


def test_lm_eval_template_matches_the_declared_directions():
    from trl_sft_plus.evals.tasks import utils

    assert utils.TEMPLATE.read_text() == utils.render_template()
    for task in ("haiku", "python", "chat"):
        text = (ROOT / "evals" / "tasks" / f"sftplus_{task}.yaml").read_text()
        assert "include: _sftplus_template.yaml" in text and "metric_list" not in text
