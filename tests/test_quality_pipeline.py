"""The pipeline over `datasets`: accounting, indices, strict mode, workers, dedup order, and the report."""

from __future__ import annotations

import json
import os

import pytest
from datasets import Dataset, IterableDataset

from trl_sft_plus.data_loading import DatasetLoadError
from trl_sft_plus.quality import (
    DatasetFilter,
    FilterReport,
    InvalidRowError,
    QualityFilter,
    QualityPipeline,
    ReportInvariantError,
    build_filters,
)
from trl_sft_plus.quality.filters import ExactDedupFilter, NearDedupFilter, StructureFilter

LOOP = "\n".join(["Write a haiku about programming"] * 15)
ESSAY = (
    "Rivers shape the land they cross. Over thousands of years they carve valleys, carry sediment to the sea and "
    "build deltas where they slow down. People have settled along rivers for water, food and transport, and many "
    "of the oldest cities stand on their banks. A river's flow changes with the seasons: snowmelt and rain swell it "
    "in spring, while long dry summers can shrink it to a chain of pools. Dams smooth these changes and produce "
    "electricity, but they also trap sediment and block the fish that swim upstream to spawn. Today, restoring "
    "rivers often means giving them room to flood again, so that wetlands can store water and shelter wildlife."
)


def turn(prompt, answer, *, topic="x"):
    return {
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
        "topic": topic,
    }


ROWS = [
    turn("What is the capital of France?", "Paris.", topic="geo"),  # 0 kept
    turn("Write a haiku about programming", LOOP),  # 1 repetition
    {"messages": [{"role": "user", "content": "Hello?"}], "topic": "x"},  # 2 structure
    turn("What is the capital of France?", "Paris.", topic="geo-again"),  # 3 exact duplicate of 0
    turn("Tell me about rivers.", ESSAY),  # 4 kept
    turn("Tell me about rivers.", ESSAY.replace("sea", "ocean")),  # 5 near duplicate of 4
    turn("Say something.", "itâ€™s fine"),  # 6 hygiene
    turn("Write code.", "```python\ndef f(:\n    pass\n```"),  # 7 code
]


@pytest.fixture
def dataset():
    return Dataset.from_list(ROWS)


def test_every_row_is_kept_or_counted_with_its_input_index(dataset):
    kept, report = QualityPipeline(build_filters()).run(dataset)
    assert report.input_rows == 8 and report.kept_rows == 2 == len(kept)
    assert report.kept_rows + sum(report.dropped.values()) == report.input_rows
    assert report.dropped_rows == [
        {"index": 1, "reason": "repetition:dup_lines"},
        {"index": 2, "reason": "structure:no_assistant_turn"},
        {"index": 3, "reason": "exact_dedup"},
        {"index": 5, "reason": "near_dedup"},
        {"index": 6, "reason": "hygiene:mojibake"},
        {"index": 7, "reason": "code:syntax_error"},
    ]
    assert kept.column_names == ["messages", "topic"]  # the input's columns, nothing added
    assert kept["topic"] == ["geo", "x"] and kept[1]["messages"][1]["content"] == ESSAY


def test_first_failing_filter_in_pipeline_order_names_the_reason(dataset):
    row = [turn("Write a haiku about programming", LOOP + "\nitâ€™s")]
    pipeline_order = QualityPipeline(build_filters(["repetition", "hygiene"])).run(Dataset.from_list(row))[1]
    reversed_order = QualityPipeline(build_filters(["hygiene", "repetition"])).run(Dataset.from_list(row))[1]
    assert pipeline_order.dropped == {"repetition:dup_lines": 1}
    assert reversed_order.dropped == {"hygiene:mojibake": 1}


def test_dedup_keeps_the_first_occurrence_even_after_earlier_drops():
    rows = [turn("Q", "A broken answer itâ€™s"), turn("Q", "The answer is 42."), turn("Q", "The answer is 42.")]
    rows += [turn("Q", "the  ANSWER is 42.")]  # same text up to case and spacing
    kept, report = QualityPipeline([*build_filters(["hygiene"]), ExactDedupFilter()]).run(Dataset.from_list(rows))
    assert report.dropped_rows == [
        {"index": 0, "reason": "hygiene:mojibake"},
        {"index": 2, "reason": "exact_dedup"},
        {"index": 3, "reason": "exact_dedup"},
    ]
    assert kept[0]["messages"][1]["content"] == "The answer is 42."


def test_near_dedup_is_deterministic_and_respects_its_threshold():
    other = "Mountains rise where plates collide; wind, ice and rivers wear them down again over millions of years."
    rows = [turn("Rivers?", ESSAY), turn("Mountains?", other), turn("Rivers?", ESSAY.replace("food", "fish"))]
    dataset = Dataset.from_list(rows)
    first = QualityPipeline([NearDedupFilter()]).run(dataset)[1]
    again = QualityPipeline([NearDedupFilter()]).run(dataset)[1]
    assert first.dropped_rows == again.dropped_rows == [{"index": 2, "reason": "near_dedup"}]
    assert QualityPipeline([NearDedupFilter(threshold=0.95)]).run(dataset)[1].dropped == {}


class ProcessNote(QualityFilter):
    """Keeps every row with a note naming the process that saw it: shows where the per-row filters ran."""

    name = "process"

    def filter(self, row):
        return True, "main" if os.getpid() == MAIN_PID else "worker"


MAIN_PID = os.getpid()


def test_num_proc_2_gives_the_same_result_as_one_process():
    rows = [ROWS[i % len(ROWS)] | {"topic": f"t{i}"} for i in range(64)]
    dataset = Dataset.from_list(rows)
    kept_1, report_1 = QualityPipeline(build_filters(), num_proc=1, batch_size=8).run(dataset)
    pipeline_2 = QualityPipeline([*build_filters(), ProcessNote()], num_proc=2, batch_size=8, min_rows_per_process=1)
    kept_2, report_2 = pipeline_2.run(dataset)
    assert report_1.dropped_rows == report_2.dropped_rows and report_1.dropped == report_2.dropped
    assert kept_1["topic"] == kept_2["topic"] == ["t0", "t4"]
    assert report_2.flagged == {"process:worker": 2}  # the kept rows' notes: the filters ran in worker processes
    small = QualityPipeline([ProcessNote()], num_proc=2).run(dataset)[1]  # 64 rows: not worth a worker pool
    assert small.flagged == {"process:main": 64}


class LongAnswers(DatasetFilter):
    """A main-process dataset filter (like IFD, without a model): drops answers longer than 10 characters."""

    name, parallel, fingerprint_dtype = "long", False, "int64"

    def fingerprint(self, row):
        return len(row.assistant_text)

    def filter(self, index, fingerprint):
        return fingerprint <= 10 or (False, "over_10")


def test_main_process_dataset_filters_see_only_survivors_and_tolerate_none():
    kept, report = QualityPipeline([StructureFilter(), LongAnswers()], num_proc=2).run(Dataset.from_list(ROWS))
    assert report.dropped == {"structure:no_assistant_turn": 1, "long:over_10": 5}
    assert kept["topic"] == ["geo", "geo-again"]
    nothing_left = QualityPipeline([StructureFilter(), LongAnswers()]).run(Dataset.from_list([ROWS[2]]))[1]
    assert nothing_left.dropped == {"structure:no_assistant_turn": 1}


def test_strict_mode_names_the_row_and_field(dataset):
    with pytest.raises(InvalidRowError, match=r"Row 2: invalid field 'messages' \(structure:no_assistant_turn\)"):
        QualityPipeline(build_filters(), strict=True).run(dataset)
    bad_content = Dataset.from_list(
        [turn("Q", "A"), {"messages": [{"role": "user", "content": "Q"}, {"role": "bot", "content": "A"}]}]
    )
    with pytest.raises(InvalidRowError, match=r"Row 1: invalid field 'messages\[1\]\.role'"):
        QualityPipeline([StructureFilter()], strict=True, num_proc=2, min_rows_per_process=1).run(bad_content)
    # Content filters never raise in strict mode: a looping answer is well-formed, just bad
    assert QualityPipeline(build_filters(), strict=True).run(Dataset.from_list([ROWS[1]]))[1].dropped


def test_text_rows_formatting_func_and_prompt_completion():
    text = Dataset.from_list([{"body": "A fine sentence."}, {"body": " "}, {"body": "A fine sentence."}])
    assert QualityPipeline(build_filters()).run(text, dataset_text_field="body")[1].dropped == {
        "structure:empty_text": 1,
        "exact_dedup": 1,
    }
    pairs = Dataset.from_list([{"q": "Hi", "a": "Hello!"}, {"q": "Hi", "a": LOOP}])
    kept, report = QualityPipeline(build_filters()).run(pairs, formatting_func=lambda r: f"{r['q']}\n{r['a']}")
    assert report.dropped_rows == [{"index": 1, "reason": "repetition:dup_lines"}] and kept.column_names == ["q", "a"]
    pc = Dataset.from_list([{"prompt": "Q?", "completion": "A."}, {"prompt": "Q?", "completion": ""}])
    assert QualityPipeline(build_filters()).run(pc)[1].dropped == {"structure:empty_completion": 1}


def test_wrong_input_types_get_clear_errors():
    with pytest.raises(DatasetLoadError, match="columns"):
        QualityPipeline(build_filters()).run(Dataset.from_list([{"question": "Q", "answer": "A"}]))
    with pytest.raises(ValueError, match="already tokenized"):
        QualityPipeline(build_filters()).run(Dataset.from_list([{"input_ids": [1, 2]}]))
    streamed = IterableDataset.from_generator(lambda: iter([{"text": "a"}]))
    with pytest.raises(TypeError, match="map-style"):
        QualityPipeline(build_filters()).run(streamed)


def test_file_backed_dataset_and_empty_dataset(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    dataset = Dataset.from_json(str(path), cache_dir=str(tmp_path / "cache"))
    assert QualityPipeline(build_filters()).run(dataset)[1].kept_rows == 2
    empty = Dataset.from_list([{"messages": [{"role": "user", "content": "Q"}]}]).select([])
    kept, report = QualityPipeline(build_filters()).run(empty)
    assert (len(kept), report.input_rows, report.kept_rows) == (0, 0, 0)


def test_cached_decisions_are_reused_only_for_the_same_filters(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    dataset = Dataset.from_json(str(path), cache_dir=str(tmp_path / "cache"))
    first = QualityPipeline(build_filters()).run(dataset)[1]
    cache_files = set((tmp_path / "cache").rglob("cache-*.arrow"))
    again = QualityPipeline(build_filters()).run(dataset)[1]
    assert again.dropped_rows == first.dropped_rows and set((tmp_path / "cache").rglob("cache-*.arrow")) == cache_files
    looser = QualityPipeline(build_filters(kwargs={"repetition": {"max_dup_line_frac": 1.0}})).run(dataset)[1]
    assert {"index": 1, "reason": "repetition:dup_lines"} not in looser.dropped_rows  # not served from the cache


def test_report_round_trip_metrics_and_table(tmp_path, dataset):
    _, report = QualityPipeline(build_filters()).run(dataset)
    saved = FilterReport.load(report.save(tmp_path / "report.json"))
    assert saved == report
    data = json.loads((tmp_path / "report.json").read_text())
    assert {"input_rows", "kept_rows", "dropped", "dropped_rows"} <= set(data)
    metrics = report.as_log_metrics()
    assert metrics["quality/input_rows"] == 8.0 and metrics["quality/kept_rows"] == 2.0
    assert metrics["quality/dropped/exact_dedup"] == 1.0 and metrics["quality/kept_fraction"] == 0.25
    assert all(isinstance(value, float) for value in metrics.values())
    from rich.console import Console

    console = Console(record=True, width=100)
    report.print_table(console)
    table = console.export_text()
    assert "dropped: repetition:dup_lines" in table and "25.0%" in table


def test_report_invariant_is_checked():
    with pytest.raises(ReportInvariantError, match="kept 3 \\+ dropped 1 != input 5"):
        FilterReport(input_rows=5, kept_rows=3, dropped={"x": 1}, dropped_rows=[{"index": 0, "reason": "x"}])
    with pytest.raises(ReportInvariantError, match="lists 0 dropped rows but counts 1"):
        FilterReport(input_rows=2, kept_rows=1, dropped={"x": 1}, dropped_rows=[])
