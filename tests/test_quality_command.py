"""`trl-sft-plus filter` and the trainer's integration call."""

from __future__ import annotations

import json
import logging

import pytest
from datasets import Dataset, IterableDataset

from tests.conftest import plain_config
from trl_sft_plus.quality import InvalidRowError, integration
from trl_sft_plus.quality.command import main
from trl_sft_plus.quality.integration import AllRowsDroppedError, filter_for_training, select_kept

LOOP = "\n".join(["Write a haiku about programming"] * 15)
ROWS = [
    {"messages": [{"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris."}]},
    {
        "messages": [
            {"role": "user", "content": "Write a haiku about programming"},
            {"role": "assistant", "content": LOOP},
        ]
    },
    {"messages": [{"role": "user", "content": "Hello?"}]},
    {"messages": [{"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris."}]},
    {"messages": [{"role": "user", "content": "Capital of Peru?"}, {"role": "assistant", "content": "Lima. " * 80}]},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_filter_command_writes_kept_rows_report_and_dropped_rows(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", ROWS)
    kept, report, dropped = tmp_path / "out" / "kept.jsonl", tmp_path / "report.json", tmp_path / "dropped.jsonl"
    argv = [str(source), "--output", str(kept), "--report", str(report), "--dropped", str(dropped)]
    assert main(argv) == 0
    data = json.loads(report.read_text())
    assert (data["input_rows"], data["kept_rows"]) == (5, 1)
    assert data["dropped"] == {"repetition:dup_lines": 1, "structure:no_assistant_turn": 1, "exact_dedup": 1,
                               "repetition:loop": 1}  # fmt: skip
    assert [d["index"] for d in data["dropped_rows"]] == [1, 2, 3, 4]
    assert [json.loads(line) for line in kept.read_text().splitlines()] == [ROWS[0]]
    records = [json.loads(line) for line in dropped.read_text().splitlines()]
    assert [(r["index"], r["reason"]) for r in records] == [(d["index"], d["reason"]) for d in data["dropped_rows"]]
    assert records[1]["row"] == ROWS[2]
    assert "kept 1 of 5 rows" in capsys.readouterr().err


def test_filter_command_reads_parquet_and_counts_tokens_with_a_model(tmp_path, tiny_model_dir):
    source = tmp_path / "in.parquet"
    Dataset.from_list([ROWS[0], ROWS[4]]).to_parquet(str(source))
    report = tmp_path / "report.json"
    argv = [str(source), "--output", str(tmp_path / "kept.jsonl"), "--report", str(report)]
    argv += ["--model", str(tiny_model_dir), "--max-length", "64", "--filters", "structure,length"]
    assert main(argv) == 0  # by default an overlong row is kept for TRL to truncate, and flagged
    assert json.loads(report.read_text())["flagged"] == {"length:truncated": 1}
    assert main([*argv, "--filter-kwargs", '{"length": {"on_overflow": "drop"}}']) == 0
    assert json.loads(report.read_text())["dropped_rows"] == [{"index": 1, "reason": "length:too_long"}]


@pytest.mark.parametrize(
    "setup, extra, message",
    [
        (lambda p: None, [], "Dataset file not found"),
        (lambda p: p.write_text("{not json\n"), [], "Could not read"),
        (lambda p: write_jsonl(p, [{"question": "Q", "answer": "A"}]), [], "columns ['answer', 'question']"),
        (lambda p: write_jsonl(p, ROWS), ["--filters", "repetiton"], "Unknown quality filter 'repetiton'"),
        (lambda p: write_jsonl(p, ROWS), ["--filter-kwargs", "{oops"], "not valid JSON"),
        (lambda p: write_jsonl(p, ROWS), ["--strict"], "Row 2: invalid field 'messages'"),
    ],
)
def test_filter_command_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys, setup, extra, message):
    source = tmp_path / "in.jsonl"
    setup(source)
    argv = [str(source), "--output", str(tmp_path / "k.jsonl"), "--report", str(tmp_path / "r.json"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after any progress bars of `datasets`
    assert err.startswith("trl-sft-plus filter: error:") and message in err
    if "Row" in message or "columns" in message or "Could not" in message or "not found" in message:
        assert "in.jsonl" in err
    assert not (tmp_path / "r.json").exists()


# --- integration -------------------------------------------------------------------------------------------------


def test_filter_for_training_saves_the_report_and_dropped_rows(tmp_path, tokenizer, capsys):
    args = plain_config(
        tmp_path, quality_filtering=True, max_length=64, quality_filter_kwargs={"length": {"on_overflow": "drop"}}
    )
    kept, report = filter_for_training(Dataset.from_list(ROWS), tokenizer=tokenizer, args=args, dataset_name="train")
    assert report.kept_rows == len(kept) == 1
    # the tokenizer and max_length of the training config were used (length runs before repetition)
    assert report.dropped == {"length:too_long": 2, "structure:no_assistant_turn": 1, "exact_dedup": 1}
    saved = json.loads((tmp_path / "quality_report_train.json").read_text())
    assert saved["dropped_rows"] == report.dropped_rows
    lines = (tmp_path / "quality_dropped_train.jsonl").read_text().splitlines()
    assert [json.loads(line)["index"] for line in lines] == [1, 2, 3, 4]
    assert "Data quality filtering: train dataset" in capsys.readouterr().out


def test_filter_for_training_uses_config_filters_kwargs_and_strict(tmp_path, tokenizer):
    args = plain_config(
        tmp_path,
        quality_filtering=True,
        quality_filters=["structure", "exact_dedup"],
        quality_filter_kwargs='{"exact_dedup": {"normalize": false}}',
    )
    _, report = filter_for_training(Dataset.from_list(ROWS), tokenizer=tokenizer, args=args, dataset_name="eval")
    assert report.filters == ["structure", "exact_dedup"] and report.dropped == {
        "structure:no_assistant_turn": 1,
        "exact_dedup": 1,
    }
    assert (tmp_path / "quality_report_eval.json").is_file()
    args = plain_config(tmp_path, quality_filtering=True, quality_strict=True)
    with pytest.raises(InvalidRowError, match="Row 2"):
        filter_for_training(Dataset.from_list(ROWS), tokenizer=tokenizer, args=args, dataset_name="train")


def test_filter_for_training_skips_tokenized_and_disabled_and_streams_lazily(tmp_path, tokenizer, caplog):
    args = plain_config(tmp_path, quality_filtering=True)
    tokenized = Dataset.from_list([{"input_ids": [1, 2, 3]}])
    streamed = IterableDataset.from_generator(lambda: iter(ROWS))
    with caplog.at_level(logging.INFO, logger="trl_sft_plus.quality.integration"):
        assert filter_for_training(tokenized, tokenizer=tokenizer, args=args, dataset_name="train") == (
            tokenized,
            None,
        )
        lazy, live = filter_for_training(streamed, tokenizer=tokenizer, args=args, dataset_name="train")
    assert "already tokenized" in caplog.text and "runs lazily as rows are pulled" in caplog.text
    assert isinstance(lazy, IterableDataset) and live.streaming and live.input_rows == 0  # filtered as it is read
    off = plain_config(tmp_path, quality_filtering=False)
    rows = Dataset.from_list(ROWS)
    assert filter_for_training(rows, tokenizer=tokenizer, args=off, dataset_name="train") == (rows, None)
    assert not (tmp_path / "quality_report_train.json").exists()


def test_filter_for_training_refuses_to_leave_nothing_to_train_on(tmp_path, tokenizer):
    args = plain_config(tmp_path, quality_filtering=True)
    with pytest.raises(AllRowsDroppedError, match="dropped all 1 rows of the train dataset"):
        filter_for_training(Dataset.from_list([ROWS[2]]), tokenizer=tokenizer, args=args, dataset_name="train")


def test_other_ranks_select_the_rows_the_main_process_kept(tmp_path, tokenizer, monkeypatch):
    args = plain_config(tmp_path, quality_filtering=True)
    dataset = Dataset.from_list(ROWS)
    main_kept, main_report = filter_for_training(dataset, tokenizer=tokenizer, args=args, dataset_name="train")

    class Rank1:
        is_main_process, num_processes = False, 2

    def broadcast(payload, from_process=0):
        assert payload == [None, None] and from_process == 0  # rank 1 computes nothing itself
        payload[0], payload[1] = main_report.to_dict(), {}  # the report, and no changed rows
        return payload

    monkeypatch.setattr(integration, "PartialState", Rank1)
    monkeypatch.setattr(integration, "broadcast_object_list", broadcast)
    kept, report = filter_for_training(dataset, tokenizer=tokenizer, args=args, dataset_name="train")
    assert report == main_report and kept["messages"] == main_kept["messages"]
    assert select_kept(dataset, main_report)["messages"] == main_kept["messages"]
