"""Scripts that regenerate the shipped data in `trl_sft_plus/data/` byte for byte; not installed with the package.

Run from the repository root: `python -m data_builders.build_haiku`, `python -m data_builders.build_chat`.
"""
