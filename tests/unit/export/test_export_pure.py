"""Pure parts of the research export: segments, per-beat artifact flags, Kubios lines, the streaming zip."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from analysis.clean import clean_rr
from api.export.beats import MATCH_TOLERANCE_MS, artifact_flags, segment_starts
from api.export.kubios import recording_file_name, rr_lines
from api.export.zipstream import ZipStream


def test_segment_starts_after_a_gap() -> None:
    rr = np.array([800.0, 800.0, 800.0, 800.0])
    t = np.array([1000, 1800, 9000, 9800], dtype=np.int64)  # 7.2 s jump before the third beat
    assert segment_starts(t, rr, None).tolist() == [True, False, True, False]
    assert segment_starts(t, rr, 200).tolist() == [False, False, True, False]


def _smooth_rr(n: int = 600) -> np.ndarray:
    return 900 + 30 * np.sin(np.arange(n) / 4)


def test_series_the_correction_leaves_alone_has_no_flags() -> None:
    rr = _smooth_rr()
    assert clean_rr(rr).artifact_share == 0.0  # precondition: nothing to correct
    starts = np.zeros(rr.size, dtype=bool)
    starts[0] = True
    assert not artifact_flags(rr, starts).any()


def test_flags_are_the_beats_the_correction_changed() -> None:
    rr = _smooth_rr()
    rr[300], rr[301] = 520.0, 1280.0  # premature beat and compensatory pause
    rr[450] = 5000.0  # outside physiological bounds
    starts = np.zeros(rr.size, dtype=bool)
    starts[0] = True
    flags = artifact_flags(rr, starts)
    assert flags[450]
    assert flags[300] or flags[301]
    assert flags.sum() <= 6  # only around the artifacts
    assert not flags[:290].any() and not flags[460:].any()
    # Where the correction keeps the beat count, the flags are exactly its changed beats.
    kept = np.delete(rr, 450)
    result = clean_rr(kept)
    assert result.nn_ms.size == kept.size
    changed = np.abs(result.nn_ms - kept) > MATCH_TOLERANCE_MS
    assert np.flatnonzero(np.delete(flags, 450)).tolist() == np.flatnonzero(changed).tolist()


def test_kubios_lines_are_exact_seconds() -> None:
    ticks = np.array([819, 1024, 1, 2047], dtype=np.int32)
    lines = rr_lines(ticks).decode().split()
    assert [float(x) for x in lines] == [819 / 1024, 1.0, 1 / 1024, 2047 / 1024]
    assert lines[0] == "0.7998046875"
    assert rr_lines(np.zeros(0, dtype=np.int32)) == b""


def test_recording_file_name_starts_at_first_rr() -> None:
    name = recording_file_name("ST-ABCD2345", 3, 1_772_431_200_800, 800.0)
    assert name == "kubios/ST-ABCD2345/ST-ABCD2345_rec0003_20260302T060000Z.txt"


def test_zipstream_drains_a_valid_archive_piece_by_piece() -> None:
    stream = ZipStream()
    pieces = []
    with stream.open("a.txt") as entry:
        for i in range(1000):
            entry.write(f"line {i}\n".encode())
            pieces.append(stream.drain())
    stream.write_bytes("b.bin", b"\x00" * 10, compress=False)
    pieces.append(stream.drain())
    pieces.append(stream.close())
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert archive.testzip() is None
    assert archive.read("a.txt").decode().splitlines()[-1] == "line 999"
    assert archive.read("b.bin") == b"\x00" * 10
    assert sum(1 for p in pieces if p) > 1  # bytes left before the end
