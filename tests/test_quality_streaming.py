"""Streamed datasets are filtered lazily, with the same decisions as in-process, counts as rows pass, bounded dedup
indexes, and a WARNING for whatever cannot run on a stream."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

from datasets import Dataset, IterableDataset

from trl_sft_plus.quality import QualityPipeline, build_filters
from trl_sft_plus.quality.base import DatasetFilter
from trl_sft_plus.quality.integration import filter_for_training, log_quality_metrics
from trl_sft_plus.quality.streaming import StreamingQuality

DIRTY = Path(__file__).parent / "data" / "dirty_sft.jsonl"
ROWS = [{"messages": json.loads(line)["messages"]} for line in DIRTY.read_text(encoding="utf-8").splitlines()]


def chat(i: int, answer: str | None = None) -> dict:
    answer = answer or f"Row {i} says that the number {i} is one more than {i - 1}, as counting goes."
    return {"messages": [{"role": "user", "content": f"Tell me about the number {i}."},
                         {"role": "assistant", "content": answer}]}  # fmt: skip


def args(tmp_path, **extra) -> SimpleNamespace:
    return SimpleNamespace(quality_filtering=True, quality_filters=None, quality_filter_kwargs=None,
                           quality_strict=False, max_length=None, dataset_text_field="text", output_dir=str(tmp_path),
                           dataloader_num_workers=0, dataset_num_proc=None, **extra)  # fmt: skip


def test_a_stream_is_filtered_like_the_in_memory_dataset():
    dataset = Dataset.from_list(ROWS + ROWS[:3])  # three exact duplicates at the end
    kept, report = QualityPipeline(build_filters()).run(dataset)
    stream = StreamingQuality(build_filters(), kind="conversational")
    streamed = list(stream.apply(dataset.to_iterable_dataset(), batch_size=16))
    assert streamed == list(kept)  # same rows, same order, same redactions
    live = stream.report.to_dict()
    assert live.pop("streaming") is True
    expected = report.to_dict()
    assert expected.pop("streaming") is False
    assert {**live, "seconds": 0} == {**expected, "seconds": 0}


def test_nothing_runs_until_the_stream_is_read_and_counts_grow_as_rows_pass():
    stream = StreamingQuality(build_filters(), kind="conversational")
    filtered = stream.apply(Dataset.from_list([chat(i) for i in range(40)]).to_iterable_dataset(), batch_size=10)
    assert stream.report.input_rows == 0
    iterator = iter(filtered)
    next(iterator)
    assert stream.report.input_rows == 10 and stream.report.kept_rows == 10
    assert len(list(iterator)) == 39 and stream.report.input_rows == 40


def test_dedup_indexes_are_bounded_and_say_so(caplog):
    rows = [chat(i) for i in range(6)] + [chat(0)]  # the duplicate comes 6 kept rows after its original
    caplog.set_level(logging.WARNING)
    wide = StreamingQuality(build_filters(["exact_dedup"]), kind="conversational")
    assert len(list(wide.apply(Dataset.from_list(rows).to_iterable_dataset()))) == 6
    narrow = StreamingQuality(build_filters(["exact_dedup"]), kind="conversational", max_dedup_rows=4)
    assert len(list(narrow.apply(Dataset.from_list(rows).to_iterable_dataset()))) == 7
    assert "dedup indexes start over" in caplog.text and "max_dedup_rows" in caplog.text


def test_a_filter_that_needs_the_whole_dataset_is_named_in_a_warning(caplog):
    class WholeDataset(DatasetFilter):
        name = "needs_everything"
        parallel = False

        def fingerprint(self, row):
            return None

        def filter(self, index, fingerprint):
            return True

    caplog.set_level(logging.WARNING)
    stream = StreamingQuality([WholeDataset()], kind="conversational")
    assert stream.report.filters == []
    assert "'needs_everything' cannot run on the streamed train dataset" in caplog.text


def test_the_trainer_path_filters_a_stream_logs_each_step_and_saves_the_report(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    dataset = Dataset.from_list(ROWS).to_iterable_dataset()
    filtered, report = filter_for_training(dataset, tokenizer=None, args=args(tmp_path), dataset_name="train")
    assert isinstance(filtered, IterableDataset) and report.streaming
    assert "runs lazily as rows are pulled" in caplog.text
    first = next(iter(filtered))
    logs = {"loss": 1.0}
    logged = log_quality_metrics({"train": report}, logs, False)
    assert logged and logs["quality/input_rows"] >= 1 and first["messages"]
    kept = list(filtered)  # a second pass (epoch) counts again, with fresh dedup indexes
    logs = {"loss": 0.9}
    log_quality_metrics({"train": report}, logs, logged)
    assert logs["quality/input_rows"] == 2 * len(ROWS)  # a streamed report is logged at every step
    saved = json.loads((tmp_path / "quality_report_train.json").read_text())
    assert saved["streaming"] is True and saved["input_rows"] == 2 * len(ROWS)
    assert len(kept) == saved["kept_rows"] // 2 == 37  # the dirty set's 32 good and 5 redacted rows, each epoch
    dropped = [json.loads(line) for line in (tmp_path / "quality_dropped_train.jsonl").read_text().splitlines()]
    assert len(dropped) == 2 * 32 and {d["reason"] for d in dropped} >= {
        "template_tokens:<|im_end|>",
        "cutoff:dangling",
    }


def test_an_in_memory_report_is_still_logged_once():
    from trl_sft_plus.quality import FilterReport

    reports = {"train": FilterReport(2, 2)}
    logs = {"loss": 1.0}
    assert log_quality_metrics(reports, logs, False) and "quality/kept_rows" in logs
    logs = {"loss": 0.5}
    log_quality_metrics(reports, logs, True)
    assert "quality/kept_rows" not in logs


def test_other_ranks_get_the_main_process_redactions(tmp_path, monkeypatch):
    from trl_sft_plus.quality import integration

    dataset = Dataset.from_list(ROWS)
    main_kept, main_report = filter_for_training(dataset, tokenizer=None, args=args(tmp_path), dataset_name="train")
    positions = _kept_indices(main_report, len(ROWS))
    edits = {i: {"messages": row["messages"]} for i, row in zip(positions, main_kept, strict=True)
             if i in main_report.changed_rows}  # fmt: skip

    class Rank1:
        is_main_process, num_processes = False, 2

    def broadcast(payload, from_process=0):
        payload[0], payload[1] = main_report.to_dict(), edits
        return payload

    monkeypatch.setattr(integration, "PartialState", Rank1)
    monkeypatch.setattr(integration, "broadcast_object_list", broadcast)
    kept, report = filter_for_training(dataset, tokenizer=None, args=args(tmp_path), dataset_name="train")
    assert len(main_report.changed_rows) == 5 and list(kept) == list(main_kept)


def _kept_indices(report, rows: int) -> list[int]:
    dropped = {entry["index"] for entry in report.dropped_rows}
    return [i for i in range(rows) if i not in dropped]


def test_the_trainer_filters_a_streamed_dataset_as_batches_are_pulled(tmp_path, tiny_model_dir):
    """No training step: the trainer is built on a streamed copy of the dirty set, one batch is pulled, one log made."""
    from tests.conftest import plain_config
    from trl_sft_plus import SFTPlusTrainer

    config = plain_config(tmp_path, quality_filtering=True, max_steps=1, max_length=256)
    trainer = SFTPlusTrainer(model=str(tiny_model_dir), args=config,
                             train_dataset=Dataset.from_list(ROWS).to_iterable_dataset())  # fmt: skip
    report = trainer.quality_reports["train"]
    assert report.streaming and report.kept_rows + report.dropped_count == report.input_rows
    batch = next(iter(trainer.get_train_dataloader()))
    assert batch["input_ids"].shape[0] == 4 and report.input_rows >= 4 and report.dropped_count > 0
    trainer.log({"loss": 1.0})
    assert trainer.state.log_history[-1]["quality/input_rows"] == report.input_rows
    saved = json.loads((tmp_path / "quality_report_train.json").read_text())
    assert saved["streaming"] and saved["input_rows"] == report.input_rows
