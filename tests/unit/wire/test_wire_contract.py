"""The one wire contract: what the collector writes, the API accepts, with the same bounds on both sides."""

from __future__ import annotations

import subprocess
import sys
import uuid

import jsonschema_rs
import orjson
import pytest

from api.errors import InvalidInput
from api.ingest.validation import parse_batch
from collector.beats import Beat, Gap
from collector.quirks import GENERIC, filter_rr
from collector.spool import SpoolBatch
from collector.uploader import batch_payload
from wire import (
    BATCH_JSON_SCHEMA,
    MIN_T_MS,
    RR_MAX_MS,
    RR_MAX_TICKS,
    RR_MIN_MS,
    RR_MIN_TICKS,
    RR_TICKS_PER_S,
    StrapInfo,
    encode_batch,
    is_plausible_rr_ticks,
    ms_to_ticks,
    ticks_to_ms,
)

T0 = 1_767_225_600_000
NOW_MS = T0 + 3_600_000
VALIDATOR = jsonschema_rs.validator_for(BATCH_JSON_SCHEMA)


def spool_batch(rr_ticks: list[int], strap: StrapInfo | None = None) -> SpoolBatch:
    beats, t = [], T0
    for rr in rr_ticks:
        t += round(ticks_to_ms(rr))
        beats.append(Beat(t_ms=t, rr_ticks=rr))
    return SpoolBatch(
        batch_id=uuid.uuid4(),
        beats=tuple(beats),
        gaps=(Gap(T0 - 5_000, T0 - 1_000),),
        strap=strap or StrapInfo("AA:BB:CC:DD:EE:FF", "Polar H10 1A2B", "H10", "3.2.0", 80),
    )


def test_the_uploaders_document_passes_the_schema_and_the_api_reads_it_back_unchanged() -> None:
    batch = spool_batch([RR_MIN_TICKS, 820, 1024, RR_MAX_TICKS])
    doc = batch_payload(batch)
    VALIDATOR.validate(doc)
    parsed = parse_batch(orjson.dumps(doc), now_ms=NOW_MS)
    assert parsed.batch_id == batch.batch_id
    assert parsed.t_ms.tolist() == [b.t_ms for b in batch.beats]
    assert parsed.rr_ticks.tolist() == [b.rr_ticks for b in batch.beats]
    assert parsed.gaps_ms == [(T0 - 5_000, T0 - 1_000)]
    assert parsed.strap == batch.strap  # the same class on both sides


@pytest.mark.parametrize("rr", [RR_MIN_TICKS - 1, RR_MAX_TICKS + 1])
def test_a_value_the_collector_drops_is_one_the_schema_and_the_api_refuse(rr: int) -> None:
    assert filter_rr(GENERIC, (rr,)).rr_ticks == ()
    doc = encode_batch(uuid.uuid4(), [(T0 + 1000, rr)])
    assert not VALIDATOR.is_valid(doc)
    with pytest.raises(InvalidInput) as info:
        parse_batch(orjson.dumps(doc), now_ms=NOW_MS)
    assert info.value.fields["errors"][0]["field"] == "rr_ticks"  # type: ignore[index]


def test_strap_text_over_the_limit_is_refused_by_schema_and_api() -> None:
    doc = encode_batch(uuid.uuid4(), [(T0 + 1000, 1000)], strap=StrapInfo(name="x" * 201))
    assert not VALIDATOR.is_valid(doc)
    with pytest.raises(InvalidInput):
        parse_batch(orjson.dumps(doc), now_ms=NOW_MS)


def test_tick_bounds_are_exactly_the_ms_bounds() -> None:
    assert RR_TICKS_PER_S == 1024 and (RR_MIN_TICKS, RR_MAX_TICKS) == (205, 3072)
    for ticks in range(0, 4000):
        assert is_plausible_rr_ticks(ticks) == (RR_MIN_MS <= ticks_to_ms(ticks) <= RR_MAX_MS)
    assert ms_to_ticks(800.0) == 819 and ticks_to_ms(1024) == 1000.0
    assert MIN_T_MS == 946_684_800_000  # 2000-01-01T00:00:00Z


def test_strap_info_round_trips_through_its_wire_form() -> None:
    info = StrapInfo("AA", "H10", "H10", None, 0)
    assert StrapInfo.from_doc(dict(info.to_doc())) == info
    assert encode_batch(uuid.uuid4(), [])["beats"] == []


def test_wire_imports_nothing_but_the_standard_library() -> None:
    code = (
        "import sys, wire\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'api', 'collector', 'analysis', 'somatrace', 'numpy', 'pydantic', 'httpx', 'bleak'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
