"""lm-eval task configs (YAML) and the hooks they name (`utils.py`)."""
