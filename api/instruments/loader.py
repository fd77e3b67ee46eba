"""Reads and validates the instrument definition and protocol template files at start-up.

Shipped files live in ``definitions/`` and ``protocols/`` beside this module; a clinic adds its own in
``SOMATRACE_INSTRUMENTS_DIR`` (instrument files at its top, templates in its ``protocols/``). Any
problem ends start-up with an ``InstrumentDefinitionError`` naming the file and the field.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from api.instruments.definition import Instrument, definition_problems
from api.instruments.errors import InstrumentDefinitionError
from api.instruments.protocol import Protocol, protocol_problems

logger = logging.getLogger(__name__)

SHIPPED_DEFINITIONS = Path(__file__).parent / "definitions"
SHIPPED_PROTOCOLS = Path(__file__).parent / "protocols"
#: Order of the shipped instruments in lists; others follow by id.
SHIPPED_ORDER = ("phq9", "gad7", "pcl5")
#: The template new patients get unless the clinic names another.
DEFAULT_TEMPLATE = "standard"

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Catalog:
    """The instruments and protocol templates this server knows, and the files they came from."""

    instruments: Mapping[str, Instrument]
    templates: Mapping[str, Protocol]
    default_template: str
    files: Mapping[str, Path] = field(default_factory=dict)

    def instrument(self, instrument_id: str) -> Instrument | None:
        return self.instruments.get(instrument_id)

    @property
    def default_protocol(self) -> Protocol:
        return self.templates[self.default_template]


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a dotted path, array positions counted from 1."""
    return ".".join(str(p + 1) if isinstance(p, int) else str(p) for p in loc) or "(file)"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentDefinitionError(path, "(syntax)", f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise InstrumentDefinitionError(path, "(file)", f"cannot be read: {exc}") from None


def _parse(path: Path, model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # a misspelt key shows up as an unknown key and a missing one: name the unknown key first
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise InstrumentDefinitionError(
            path, field_path(tuple(first["loc"])), f"{first['msg']}{more}"
        ) from None


def load_instrument_file(path: Path) -> Instrument:
    """One instrument definition file, parsed and checked; raises ``InstrumentDefinitionError``."""
    inst = _parse(path, Instrument, _read_toml(path))
    if inst.id != path.stem:
        raise InstrumentDefinitionError(
            path, "id", f"is {inst.id!r}; it must match the file name ({inst.id}.toml)"
        )
    problems = definition_problems(inst)
    if problems:
        where, message = problems[0]
        raise InstrumentDefinitionError(path, where, message)
    return inst


def load_protocol_file(path: Path, known: Mapping[str, Instrument]) -> Protocol:
    """One protocol template file, parsed and checked against the known instruments."""
    protocol = _parse(path, Protocol, _read_toml(path))
    if protocol.id != path.stem:
        raise InstrumentDefinitionError(
            path, "id", f"is {protocol.id!r}; it must match the file name ({protocol.id}.toml)"
        )
    problems = protocol_problems(protocol, known)
    if problems:
        where, message = problems[0]
        raise InstrumentDefinitionError(path, where, message)
    return protocol


def _toml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == ".toml" and p.is_file())


def _ordered(instruments: dict[str, Instrument]) -> dict[str, Instrument]:
    first = [i for i in SHIPPED_ORDER if i in instruments]
    rest = sorted(i for i in instruments if i not in SHIPPED_ORDER)
    return {i: instruments[i] for i in [*first, *rest]}


def load_catalog(clinic_dir: Path | None = None, default_template: str | None = None) -> Catalog:
    """The shipped instruments and templates plus the clinic's (``clinic_dir``), all validated.

    A clinic file with a shipped id replaces the shipped one; it must then carry another version, so
    stored responses say which wording they answered.
    """
    return _load_catalog(clinic_dir.resolve() if clinic_dir is not None else None, default_template)


@lru_cache(maxsize=8)
def _load_catalog(clinic_dir: Path | None, default_template: str | None) -> Catalog:
    if clinic_dir is not None and not clinic_dir.is_dir():
        raise InstrumentDefinitionError(
            clinic_dir, "(folder)", "SOMATRACE_INSTRUMENTS_DIR is not a folder"
        )
    instruments: dict[str, Instrument] = {}
    files: dict[str, Path] = {}
    for path in _toml_files(SHIPPED_DEFINITIONS):
        inst = load_instrument_file(path)
        instruments[inst.id] = inst
        files[inst.id] = path
    if clinic_dir is not None:
        for path in _toml_files(clinic_dir):
            inst = load_instrument_file(path)
            shipped = instruments.get(inst.id)
            if shipped is not None and shipped.version == inst.version:
                raise InstrumentDefinitionError(
                    path,
                    "version",
                    f"replaces the shipped {inst.id} {shipped.version}; give it another version",
                )
            if shipped is not None:
                logger.warning(
                    "instrument %s %s from %s replaces the shipped one", inst.id, inst.version, path
                )
            instruments[inst.id] = inst
            files[inst.id] = path
    templates: dict[str, Protocol] = {}
    folders = [SHIPPED_PROTOCOLS] + ([clinic_dir / "protocols"] if clinic_dir is not None else [])
    for folder in folders:
        for path in _toml_files(folder):
            protocol = load_protocol_file(path, instruments)
            templates[protocol.id] = protocol
            files[f"protocol:{protocol.id}"] = path
    chosen = default_template or DEFAULT_TEMPLATE
    if chosen not in templates:
        raise InstrumentDefinitionError(
            "SOMATRACE_QUESTIONNAIRE_TEMPLATE",
            "(setting)",
            f"no protocol template {chosen!r}; known: {sorted(templates)}",
        )
    return Catalog(
        instruments=_ordered(instruments), templates=templates, default_template=chosen, files=files
    )
