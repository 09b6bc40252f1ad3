"""The shipped training data (JSONL files, built by the top-level `data_builders` package) and `stdlib_code`, which
builds the `python-stdlib` set from the installed standard library on first use. Load them with
`trl_sft_plus.data_loading.load_rows(name)`."""
