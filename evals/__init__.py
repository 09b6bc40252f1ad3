"""The eval harness: base versus tuned on prompt suites, with paired statistics, reports and a CI regression gate.

    python -m evals compare --base smollm2-135m-instruct --tuned path/to/checkpoint --out eval-results
    python -m evals compare ... --baseline saved/results.json --fail-on-regression

Modules: `suite` (JSONL suites and their checks), `scoring` (the project's scorers on suite rows), `runner`
(generation with one model), `compare` (both models -> results dict), `stats` (paired bootstrap, metric directions),
`results` (the results.json format), `gate` (regression gate against one run), `gate_runs` (against several reruns),
`noise` (rerun spread, false alarms, power), `environment` (what makes runs comparable), `report` / `html_report`
(renderers), `cli`.
The lm-eval task configs for the same suites and scorers live in `evals/tasks/`.
"""

from .suite import PromptRow, SuiteError, load_suites

__all__ = ["PromptRow", "SuiteError", "load_suites"]
