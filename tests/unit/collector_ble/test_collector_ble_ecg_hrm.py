"""Pure parts of the BLE side: Polar PMD ECG frames and requests, the emulator's 0x2A37 encoder,
the live RMSSD and the morning-reading verdict."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from collector.ecg import (
    POLAR_EPOCH_UNIX_NS,
    EcgFrame,
    EcgTimestamper,
    EcgWriter,
    MalformedPmdFrame,
    PmdError,
    build_start_ecg_request,
    build_stop_ecg_request,
    parse_control_point_response,
    parse_ecg_frame,
    parse_start_request,
    read_ecg_csv,
)
from collector.emulation.hrm import (
    ALL_FLAG_FORMS,
    EncodingError,
    FlagForm,
    encode_heart_rate_measurement,
)
from collector.emulation.session import load_rr_csv
from collector.emulation.strap import StrapEmulationError
from collector.gatt import parse_heart_rate_measurement
from collector.verdict import morning_verdict, rmssd_ms
from wire import ms_to_ticks


def ecg_frame(polar_ns: int, samples: list[int], frame_type: int = 0) -> bytes:
    body = b"".join(v.to_bytes(3, "little", signed=True) for v in samples)
    return bytes([0]) + struct.pack("<Q", polar_ns) + bytes([frame_type]) + body


def test_start_request_is_polar_ecg_130hz_14bit() -> None:
    assert build_start_ecg_request() == bytes.fromhex("02000001820001010e00")
    assert parse_start_request(build_start_ecg_request()) == (0, {0: 130, 1: 14})
    assert build_stop_ecg_request() == b"\x03\x00"
    with pytest.raises(MalformedPmdFrame):
        parse_start_request(b"\x02\x00\x00\x01\x82")


def test_ecg_frame_samples_are_signed_24_bit_microvolts() -> None:
    frame = parse_ecg_frame(ecg_frame(1_000, [-98, 0, 1744, -8_388_608, 8_388_607]))
    assert frame.samples_uv == (-98, 0, 1744, -8_388_608, 8_388_607)
    assert frame.last_sample_unix_ns == POLAR_EPOCH_UNIX_NS + 1_000


@pytest.mark.parametrize(
    ("packet", "message"),
    [
        (b"\x00\x01", "shorter than its header"),
        (ecg_frame(0, [1])[:-1], "not a multiple of 3"),
        (b"\x02" + ecg_frame(0, [1])[1:], "not ECG"),
        (ecg_frame(0, [1], frame_type=0x80), "not supported"),
    ],
)
def test_malformed_ecg_frames_raise(packet: bytes, message: str) -> None:
    with pytest.raises(MalformedPmdFrame, match=message):
        parse_ecg_frame(packet)


def test_control_point_response() -> None:
    response = parse_control_point_response(bytes([0xF0, 0x02, 0x00, 0x00, 0x00]))
    assert response.ok and response.op_code == 2 and response.status_text == "success"
    refused = parse_control_point_response(bytes([0xF0, 0x02, 0x00, 0x0D, 0x00]))
    assert not refused.ok and refused.status_text == "device in charger"
    with pytest.raises(MalformedPmdFrame):
        parse_control_point_response(b"\x02\x00")


def test_timestamper_spreads_samples_between_frames() -> None:
    stamper = EcgTimestamper(sample_rate_hz=100.0)
    first = stamper.stamp(EcgFrame(1_000_000_000, (1, 2, 3)))
    assert first == [980_000_000, 990_000_000, 1_000_000_000]
    second = stamper.stamp(EcgFrame(1_033_000_000, (4, 5, 6)))
    assert second == [1_011_000_000, 1_022_000_000, 1_033_000_000]
    stamper.reset()
    assert stamper.stamp(EcgFrame(5_000_000_000, (7,))) == [5_000_000_000]
    with pytest.raises(PmdError):
        EcgTimestamper(sample_rate_hz=0)


def test_ecg_writer_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "ecg" / "x.csv"
    with EcgWriter(path, sample_rate_hz=100.0) as writer:
        writer.write_frame(EcgFrame(2_000_000_000, (10, -20)))
    with EcgWriter(path, sample_rate_hz=100.0) as writer:  # appends, one header
        writer.write_frame(EcgFrame(3_000_000_000, (30,)))
    times, values = read_ecg_csv(path)
    assert values == [10, -20, 30]
    assert times == [1_990_000_000, 2_000_000_000, 3_000_000_000]
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(PmdError, match="not an ECG file"):
        read_ecg_csv(tmp_path / "bad.csv")


def test_every_flag_form_round_trips_through_the_parser() -> None:
    assert len(ALL_FLAG_FORMS) == 24
    for form in ALL_FLAG_FORMS:
        rr = tuple(range(600, 600 + 7 * form.max_rr_values(), 7))
        hr = 400 if form.hr_uint16 else 200
        packet = encode_heart_rate_measurement(hr, rr, form=form, energy_expended_kj=513)
        assert len(packet) <= 20
        m = parse_heart_rate_measurement(packet)
        assert (m.heart_rate_bpm, m.rr_ticks) == (hr, rr if form.rr else ())
        assert m.energy_expended_kj == (513 if form.energy else None)


def test_nine_rr_values_fit_the_default_mtu_only_in_the_smallest_form() -> None:
    assert FlagForm().max_rr_values() == 9
    assert FlagForm(hr_uint16=True, energy=True).max_rr_values() == 7
    assert FlagForm(rr=False).max_rr_values() == 0
    with pytest.raises(EncodingError, match="exceeds ATT MTU"):
        encode_heart_rate_measurement(60, [800] * 10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"heart_rate_bpm": 256}, "out of range"),
        ({"heart_rate_bpm": 60, "rr_ticks": [70_000]}, "out of range"),
        ({"heart_rate_bpm": 60, "rr_ticks": [800], "form": FlagForm(rr=False)}, "without the RR"),
        ({"heart_rate_bpm": 60, "form": FlagForm(contact="maybe")}, "unknown contact"),
        (
            {"heart_rate_bpm": 60, "form": FlagForm(energy=True), "energy_expended_kj": -1},
            "out of range",
        ),
    ],
)
def test_encoder_rejects_what_a_strap_cannot_send(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(EncodingError, match=message):
        encode_heart_rate_measurement(**kwargs)  # type: ignore[arg-type]


def test_ms_to_ticks_rounds_to_nearest() -> None:
    assert ms_to_ticks(800.0) == 819  # 819.2
    assert ms_to_ticks(421.0) == 431  # 431.104
    assert ms_to_ticks(1000.0) == 1024


def test_rr_session_loader_groups_rows_and_reports_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "rr.csv"
    path.write_text("t_offset_ms,rr_ms,hr_bpm\n430,421,90\n1552,379,90\n2673,1073,90\n2681,413,\n")
    session = load_rr_csv(path)
    assert [(n.heart_rate_bpm, n.rr_ticks) for n in session] == [
        (90, (431,)),
        (90, (388,)),
        (90, (1099, 423)),
    ]
    path.write_text("t_offset_ms,rr_ms,hr_bpm\n430,abc,90\n")
    with pytest.raises(StrapEmulationError, match=":2: bad RR row"):
        load_rr_csv(path)
    with pytest.raises(StrapEmulationError, match="cannot read"):
        load_rr_csv(tmp_path / "missing.csv")


def test_rmssd() -> None:
    assert rmssd_ms([800.0]) is None
    assert rmssd_ms([800.0, 810.0, 790.0]) == pytest.approx(((10**2 + 20**2) / 2) ** 0.5)


def test_morning_verdict_grades_quality() -> None:
    steady = [1000.0 + (15.0 if i % 2 else -15.0) for i in range(300)]
    good = morning_verdict(steady, [i == 0 for i in range(300)], duration_s=300.0)
    assert good.grade == "good" and good.beats == 300 and good.artifact_share == 0.0
    assert good.rmssd_ms == pytest.approx(30.0)
    # Half the reading missing and a break in the middle.
    half = steady[:150]
    partial = morning_verdict(half, [i in (0, 75) for i in range(150)], duration_s=300.0)
    assert partial.grade == "fair"
    assert any("cover" in r for r in partial.reasons)
    assert any("dropped" in r for r in partial.reasons)
    # Many ectopic beats.
    noisy = list(steady)
    for i in range(10, 300, 12):
        noisy[i], noisy[i + 1] = 500.0, 1500.0
    poor = morning_verdict(noisy, [i == 0 for i in range(300)], duration_s=300.0)
    assert poor.grade == "poor" and poor.artifact_share > 0.10
    assert morning_verdict([], [], 300.0).grade == "poor"
