"""Filters by name, and the one place that turns names plus `{"name": {"param": value}}` into filter objects."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from .base import DatasetFilter, QualityFilter
from .filters import (
    CodeFilter,
    CutoffFilter,
    ExactDedupFilter,
    HygieneFilter,
    IFDFilter,
    LanguageMismatchFilter,
    LengthFilter,
    NearDedupFilter,
    PIIFilter,
    RefusalFilter,
    RepetitionFilter,
    SecretsFilter,
    StructureFilter,
    TemplateTokenFilter,
    WebResidueFilter,
)

logger = logging.getLogger(__name__)

# Pipeline order is list order: cheap structural checks first, so later filters only see well-formed rows; the
# editing filters (secrets, pii) before the length filter and dedup, which then see the redacted text.
FILTERS: dict[str, type] = {
    cls.name: cls
    for cls in (
        StructureFilter,
        HygieneFilter,
        TemplateTokenFilter,
        SecretsFilter,
        PIIFilter,
        LengthFilter,
        RepetitionFilter,
        CodeFilter,
        RefusalFilter,
        WebResidueFilter,
        CutoffFilter,
        LanguageMismatchFilter,
        ExactDedupFilter,
        NearDedupFilter,
        IFDFilter,
    )
}
DEFAULT_FILTERS: list[str] = [name for name in FILTERS if name != "ifd"]
# Arguments that come from the training setup, not from `quality_filter_kwargs`
_INJECTED = {"tokenizer", "model", "max_length"}


class FilterConfigError(ValueError):
    """Unknown filter names or parameters; the message names the filter and the parameter."""


def parse_filter_kwargs(kwargs: Mapping[str, Any] | str | None) -> dict[str, dict[str, Any]]:
    """`{"filter": {"param": value}}` from a dict or its JSON text (as given on a command line)."""
    if kwargs is None:
        return {}
    if isinstance(kwargs, str):
        try:
            kwargs = json.loads(kwargs)
        except json.JSONDecodeError as error:
            raise FilterConfigError(f"Quality filter kwargs are not valid JSON: {error}") from error
    if not isinstance(kwargs, Mapping):
        raise FilterConfigError(f"Quality filter kwargs must map filter names to dicts, got {type(kwargs).__name__}.")
    for name, params in kwargs.items():
        if not isinstance(params, Mapping):
            raise FilterConfigError(
                f'Quality filter kwargs for {name!r} must be a dict like {{"param": value}}, got {params!r}.'
            )
    return {name: dict(params) for name, params in kwargs.items()}


def build_filters(
    names: Sequence[str] | None = None,
    kwargs: Mapping[str, Any] | str | None = None,
    *,
    tokenizer: Any = None,
    max_length: int | None = None,
    model: Any = None,
) -> list[QualityFilter | DatasetFilter]:
    """Filter objects for `names` (default: `DEFAULT_FILTERS`, everything but `ifd`), in the order given.

    The length filter is skipped, with a logged note, when there is no tokenizer or no `max_length`; `ifd` needs
    the model and its tokenizer. Unknown names, parameters the filter does not take, and values it rejects raise
    `FilterConfigError` naming the filter and the parameter.
    """
    names = list(DEFAULT_FILTERS if names is None else names)
    unknown = [name for name in names if name not in FILTERS]
    if unknown:
        raise FilterConfigError(f"Unknown quality filter {unknown[0]!r}; known filters: {', '.join(FILTERS)}.")
    params_by_name = parse_filter_kwargs(kwargs)
    stray = [name for name in params_by_name if name not in names]
    if stray:
        raise FilterConfigError(
            f"Quality filter kwargs name {stray[0]!r}, which is not among the filters that run ({', '.join(names)})."
        )
    filters = []
    for name in dict.fromkeys(names):
        params = params_by_name.get(name, {})
        _check_params(name, params)
        if name == "length" and (tokenizer is None or max_length is None):
            missing = "tokenizer" if tokenizer is None else "max_length"
            logger.info("Quality filter 'length' skipped: no %s to count tokens against.", missing)
            continue
        injected = {"tokenizer": tokenizer, "max_length": max_length, "model": model}
        taken = inspect.signature(FILTERS[name]).parameters
        params = {**{k: v for k, v in injected.items() if k in taken}, **params}
        try:
            filters.append(FILTERS[name](**params))
        except (TypeError, ValueError) as error:
            raise FilterConfigError(f"Quality filter {name!r}: {error}") from error
    return filters


def _check_params(name: str, params: Mapping[str, Any]) -> None:
    signature = inspect.signature(FILTERS[name])
    accepted = [p for p in signature.parameters if p not in _INJECTED]
    for param, value in params.items():
        if param in _INJECTED:
            raise FilterConfigError(
                f"Quality filter {name!r}: parameter {param!r} comes from the training setup, not from filter kwargs."
            )
        if param not in signature.parameters:
            raise FilterConfigError(
                f"Quality filter {name!r} has no parameter {param!r}; it takes: {', '.join(accepted)}."
            )
        default = signature.parameters[param].default
        if value is None and "None" in str(signature.parameters[param].annotation):
            continue  # an optional parameter switched off
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise FilterConfigError(
                    f"Quality filter {name!r}: parameter {param!r} must be a number, got {value!r}."
                )
        if isinstance(default, bool) and not isinstance(value, bool):
            raise FilterConfigError(
                f"Quality filter {name!r}: parameter {param!r} must be true or false, got {value!r}."
            )
