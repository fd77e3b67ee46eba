"""api.ingest.validation.parse_batch: what is accepted, and how each bad item is named (no database)."""

from __future__ import annotations

import uuid

import orjson
import pytest

from api.errors import InvalidInput, PayloadTooLarge
from api.ingest.validation import MAX_REPORTED_ERRORS, parse_batch
from wire import MAX_BEATS_PER_BATCH, MAX_FUTURE_SKEW_MS, RR_MAX_TICKS, RR_MIN_TICKS

NOW_MS = 1_767_225_600_000 + 86_400_000
T0 = 1_767_225_600_000


def body(beats: list[dict[str, object]], **extra: object) -> bytes:
    return orjson.dumps({"batch_id": str(uuid.uuid4()), "beats": beats, **extra})


def errors_of(raw: bytes) -> list[dict[str, object]]:
    with pytest.raises(InvalidInput) as info:
        parse_batch(raw, now_ms=NOW_MS)
    errors = info.value.fields["errors"]
    assert isinstance(errors, list)
    return errors


def test_valid_batch_becomes_int64_arrays_with_strap_and_gaps() -> None:
    raw = body(
        [{"t_ms": T0 + 800, "rr_ticks": 819}, {"t_ms": T0 + 1600, "rr_ticks": 820}],
        gaps=[{"start_ms": T0 - 5000, "end_ms": T0}],
        strap={"name": "H10", "battery_pct": 0, "firmware": None},
    )
    batch = parse_batch(raw, now_ms=NOW_MS)
    assert batch.t_ms.tolist() == [T0 + 800, T0 + 1600]
    assert batch.rr_ticks.tolist() == [819, 820]
    assert batch.t_ms.dtype.name == "int64"
    assert batch.gaps_ms == [(T0 - 5000, T0)]
    assert batch.strap is not None and batch.strap.name == "H10" and batch.strap.battery_pct == 0


def test_bounds_are_inclusive() -> None:
    raw = body(
        [
            {"t_ms": T0 + 1, "rr_ticks": RR_MIN_TICKS},
            {"t_ms": T0 + 2, "rr_ticks": RR_MAX_TICKS},
            {"t_ms": NOW_MS + MAX_FUTURE_SKEW_MS, "rr_ticks": 800},
        ]
    )
    assert parse_batch(raw, now_ms=NOW_MS).n_beats == 3


def test_out_of_bounds_rr_names_index_field_and_value() -> None:
    errors = errors_of(
        body(
            [
                {"t_ms": T0 + 1, "rr_ticks": RR_MIN_TICKS - 1},
                {"t_ms": T0 + 2, "rr_ticks": 800},
            ]
        )
    )
    assert errors == [
        {
            "loc": ["beats", 0, "rr_ticks"],
            "index": 0,
            "field": "rr_ticks",
            "reason": "outside physiological bounds 205-3072 ticks (200-3000 ms)",
            "value": RR_MIN_TICKS - 1,
        }
    ]


@pytest.mark.parametrize(
    ("t_ms", "reason_start"),
    [
        (T0 + 1, "duplicates"),
        (T0, "not increasing"),
        (NOW_MS + MAX_FUTURE_SKEW_MS + 1, "more than"),
        (946_684_799_999, "before 2000"),
    ],
)
def test_beat_time_errors(t_ms: int, reason_start: str) -> None:
    beats: list[dict[str, object]] = [
        {"t_ms": T0 + 1, "rr_ticks": 800},
        {"t_ms": t_ms, "rr_ticks": 800},
    ]
    errors = errors_of(body(beats))
    assert any(
        e["index"] == 1 and e["field"] == "t_ms" and str(e["reason"]).startswith(reason_start)
        for e in errors
    ), errors


@pytest.mark.parametrize(
    "beat",
    [
        {"t_ms": T0},
        {"rr_ticks": 800},
        {"t_ms": "1", "rr_ticks": 800},
        {"t_ms": T0, "rr_ticks": 8.5},
        {"t_ms": T0, "rr_ticks": True},
        {"t_ms": 2**62, "rr_ticks": 800},
        [T0, 800],
    ],
)
def test_malformed_beat_is_named(beat: object) -> None:
    errors = errors_of(body([{"t_ms": T0 - 1000, "rr_ticks": 800}, beat]))  # type: ignore[list-item]
    assert errors and all(e["loc"][:2] == ["beats", 1] for e in errors)  # type: ignore[index]


def test_too_many_beats_is_payload_too_large_before_any_item_check() -> None:
    beats = [{"t_ms": 0, "rr_ticks": 0}] * (MAX_BEATS_PER_BATCH + 1)
    with pytest.raises(PayloadTooLarge) as info:
        parse_batch(body(beats), now_ms=NOW_MS)
    assert info.value.status == 413 and info.value.fields["count"] == MAX_BEATS_PER_BATCH + 1


def test_error_list_is_capped_but_total_counted() -> None:
    beats = [{"t_ms": T0 + i, "rr_ticks": 1} for i in range(1, 500)]
    with pytest.raises(InvalidInput) as info:
        parse_batch(body(beats), now_ms=NOW_MS)
    assert len(info.value.fields["errors"]) == MAX_REPORTED_ERRORS  # type: ignore[arg-type]
    assert info.value.fields["error_count"] == 499


@pytest.mark.parametrize(
    ("raw", "loc0"),
    [
        (b'{"beats": []}', "batch_id"),
        (b'{"batch_id": "nope", "beats": []}', "batch_id"),
        (b'{"batch_id": "' + str(uuid.uuid4()).encode() + b'", "beats": {}}', "beats"),
        (b'{"batch_id": "' + str(uuid.uuid4()).encode() + b'", "gaps": [{"start_ms": 5}]}', "gaps"),
        (b'{"batch_id": "' + str(uuid.uuid4()).encode() + b'", "strap": {"name": 7}}', "strap"),
    ],
)
def test_envelope_errors(raw: bytes, loc0: str) -> None:
    errors = errors_of(raw)
    assert errors[0]["loc"][0] == loc0  # type: ignore[index]


def test_not_json_or_not_an_object() -> None:
    huge = b'{"batch_id": "' + str(uuid.uuid4()).encode() + b'", "beats": [{"t_ms": 1e400}]}'
    for raw in (b"{", b"[1, 2]", b"", huge):
        with pytest.raises(InvalidInput):
            parse_batch(raw, now_ms=NOW_MS)
