"""Research exports read back exactly (Parquet, CSV, Kubios text, FHIR R4, Open mHealth), consent and roles
hold, and ``somatrace export`` downloads them from a real server."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from fhir.resources.R4B.bundle import Bundle

from api.app import create_app
from api.settings import Settings

from ..conftest import serve_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

TIME_DOMAIN = [
    "n_beats",
    "mean_nn_ms",
    "mean_hr_bpm",
    "sdnn_ms",
    "rmssd_ms",
    "ln_rmssd",
    "pnn50_pct",
    "sd1_ms",
    "sd2_ms",
    "sd1_sd2",
    "dfa_alpha1",
    "sampen",
    "stress_index",
    "baevsky_si",
    "artifact_share",
]
FREQUENCY = ["lf_ms2", "hf_ms2", "lf_hf"]


def _no_secret(world: Any, zf: Any) -> None:
    """The non-consenting patient appears nowhere: not in names, file names, or any byte of any file."""
    gamma = world.patients["GAMMA"]
    needles = [
        gamma.pseudonym.encode(),
        world.secret_name.encode(),
        str(gamma.id).encode(),
        b"@example.org",
    ]
    needles += [p.encode() for label, d in world.patients.items() for p in (str(d.id),)]
    for name in zf.namelist():
        assert gamma.pseudonym not in name
        data = zf.read(name)
        for needle in needles:
            assert needle not in data, (name, needle)
        for label in ("ALPHA", "BETA", "GAMMA"):
            assert f"{label.lower()} private".encode() not in data or label == "ALPHA", (
                name,
                label,
            )


def _expected_beats(world: Any, labels: tuple[str, ...]) -> pd.DataFrame:
    frames = []
    for label in labels:
        d = world.patients[label]
        frames.append(
            pd.DataFrame({"pseudonym": d.pseudonym, "t_ms": d.t_ms, "rr_ticks": d.rr_ticks})
        )
    return pd.concat(frames).sort_values(["pseudonym", "t_ms"]).reset_index(drop=True)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
async def test_tabular_round_trip(world: Any, fmt: str) -> None:
    zf = await world.export_zip(fmt)
    ext = fmt
    assert {
        f"{t}.{ext}"
        for t in ("patients", "beats", "windows", "daily", "sessions", "verdicts", "journal")
    } <= set(zf.namelist())
    assert {"data_dictionary.md", "data_dictionary.json"} <= set(zf.namelist())
    _no_secret(world, zf)

    def read(table: str) -> pd.DataFrame:
        raw = zf.read(f"{table}.{ext}")
        if fmt == "parquet":
            return pq.read_table(io.BytesIO(raw)).to_pandas()
        return pd.read_csv(io.BytesIO(raw))

    beats = read("beats")
    want = _expected_beats(world, ("ALPHA", "BETA"))
    assert len(beats) == len(want)
    got_t = pd.to_datetime(beats["time"], utc=True).dt.as_unit("ms").astype("int64")
    order = np.lexsort((got_t.to_numpy(), beats["pseudonym"].to_numpy()))
    assert beats["pseudonym"].to_numpy()[order].tolist() == want["pseudonym"].tolist()
    assert got_t.to_numpy()[order].tolist() == want["t_ms"].tolist()
    assert beats["rr_ticks"].to_numpy()[order].tolist() == want["rr_ticks"].tolist()
    assert np.array_equal(
        beats["rr_ms"].to_numpy()[order], want["rr_ticks"].to_numpy() * 1000 / 1024
    )
    assert beats["artifact"].dtype == bool

    windows = read("windows")
    stored = world.sql(
        "SELECT r.pseudonym, w.* FROM hrv_windows w JOIN patients p ON p.id = w.patient_id "
        "JOIN research_pseudonyms r ON r.patient_id = p.id "
        "WHERE p.research_consent ORDER BY r.pseudonym, w.window_start"
    )
    assert len(windows) == len(stored) > 0
    windows = windows.sort_values(["pseudonym", "window_start"]).reset_index(drop=True)
    for column in TIME_DOMAIN + FREQUENCY:
        a = windows[column].to_numpy(dtype=float)
        b = np.array([np.nan if r[column] is None else r[column] for r in stored], dtype=float)
        assert np.allclose(a, b, rtol=1e-12, atol=0, equal_nan=True), column

    daily = read("daily")
    stored_days = world.sql(
        "SELECT p.pseudonym, d.day, d.ln_rmssd, d.quality FROM daily_values d"
        " JOIN patients p ON p.id = d.patient_id WHERE p.research_consent"
        " ORDER BY p.pseudonym, d.day"
    )
    assert len(daily) == len(stored_days) > 0
    daily = daily.sort_values(["pseudonym", "day"]).reset_index(drop=True)
    a = daily["ln_rmssd"].to_numpy(dtype=float)
    b = np.array([np.nan if r["ln_rmssd"] is None else r["ln_rmssd"] for r in stored_days])
    assert np.allclose(a, b, rtol=1e-12, atol=0, equal_nan=True)
    # judged as on the dashboard: what counts and why not, 7-day means and the band
    assert daily["grade"].tolist() == [str(r["quality"]).split(":")[0] for r in stored_days]
    counted = daily["counted"].astype(str) == "True"
    assert daily.loc[~counted, "exclusion"].notna().all()  # a day that does not count says why
    assert {"exclusion", "rolling_mean_7d", "band_low", "band_high", "band_position"} <= set(
        daily.columns
    )

    patients = read("patients")
    assert sorted(patients["pseudonym"]) == sorted(
        [world.patients["ALPHA"].pseudonym, world.patients["BETA"].pseudonym]
    )
    sessions = read("sessions")
    assert len(sessions) == 4
    first = sessions[sessions["kind"] == "medicine"]["days_from_first_session"]
    assert (first == 0).all()
    assert sorted(sessions[sessions["kind"] == "integration"]["days_from_first_session"]) == [
        2.0,
        2.0,
    ]
    # the session verdicts as the dashboard shows them: three periods per medicine session, each
    # with its state, and words instead of a number when it is not a verdict
    verdicts = read("verdicts")
    assert len(verdicts) == 3 * int((sessions["kind"] == "medicine").sum())
    assert set(verdicts["period"]) == {"days 1-3", "days 4-14", "days 15-28"}
    assert set(verdicts["state"]) <= {"verdict", "in_progress", "not_reached", "insufficient"}
    judged = verdicts["state"] == "verdict"
    assert verdicts.loc[~judged, "reason"].notna().all()
    assert verdicts.loc[~judged, "diff_ln_rmssd"].isna().all()
    assert (verdicts["n_days"] <= verdicts["n_possible"]).all()
    journal = read("journal").set_index("pseudonym")
    assert (
        journal.loc[world.patients["ALPHA"].pseudonym, "text"]
        == world.patients["ALPHA"].journal_text
    )
    beta_text = journal.loc[world.patients["BETA"].pseudonym, "text"]
    assert beta_text is None or (isinstance(beta_text, float) and math.isnan(beta_text))
    assert journal.loc[world.patients["BETA"].pseudonym, "mood"] == 7
    assert "calm" in journal.loc[world.patients["BETA"].pseudonym, "tags"]


async def test_kubios_text_reanalysed_gives_the_exported_windows(
    world: Any, tmp_path: Path
) -> None:
    kub = await world.export_zip("kubios")
    _no_secret(world, kub)
    alpha = world.patients["ALPHA"]
    files = sorted(n for n in kub.namelist() if n.startswith(f"kubios/{alpha.pseudonym}/"))
    assert len(files) == 1, files  # one continuous recording
    lines = kub.read(files[0]).decode().split()
    assert [float(x) for x in lines] == (alpha.rr_ticks / 1024).tolist()
    rr_file = tmp_path / "alpha.txt"
    rr_file.write_bytes(kub.read(files[0]))
    out = tmp_path / "alpha.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from somatrace.cli import main; main()",
            "analyze",
            str(rr_file),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    mine = pd.read_csv(out)

    tab = await world.export_zip("csv")
    windows = pd.read_csv(io.BytesIO(tab.read("windows.csv")))
    windows = windows[windows["pseudonym"] == alpha.pseudonym].reset_index(drop=True)
    assert len(mine) == len(windows)
    start_s = (
        pd.to_datetime(windows["window_start"], utc=True) - pd.Timestamp(world.recording_start)
    ).dt.total_seconds()
    assert np.array_equal(mine["window_start_s"].to_numpy(dtype=float), start_s.to_numpy())
    for column in TIME_DOMAIN:
        assert np.allclose(mine[column], windows[column], rtol=1e-9, atol=0, equal_nan=True), column
    # The server places beats at whole-ms times; the RR file only has intervals (cumulative sum), so the
    # 4 Hz resampling grid sees sub-ms shifts: frequency markers agree closely, not bit for bit.
    for column in FREQUENCY:
        assert np.allclose(mine[column], windows[column], rtol=2e-3, atol=0, equal_nan=True), column


async def test_fhir_bundles_validate(world: Any) -> None:
    zf = await world.export_zip("fhir")
    _no_secret(world, zf)
    bundles = [n for n in zf.namelist() if n.startswith("fhir/")]
    assert bundles
    codes: set[tuple[str, str]] = set()
    n_hr = 0
    for name in bundles:
        raw = json.loads(zf.read(name))
        bundle = Bundle.model_validate(raw)
        assert bundle.type == "collection"
        for entry in raw["entry"]:
            obs = entry["resource"]
            coding = obs["code"]["coding"][0]
            codes.add((coding["system"], coding["code"]))
            n_hr += coding["code"] == "8867-4"
            assert obs["subject"]["identifier"]["value"] in {
                world.patients["ALPHA"].pseudonym,
                world.patients["BETA"].pseudonym,
            }
    assert ("http://loinc.org", "8867-4") in codes
    assert ("http://loinc.org", "80404-7") in codes
    n_windows = world.sql(
        "SELECT count(*) AS n FROM hrv_windows w JOIN patients p ON p.id = w.patient_id "
        "WHERE p.research_consent AND w.mean_hr_bpm IS NOT NULL AND w.mean_hr_bpm <> 'NaN'"
    )[0]["n"]
    assert n_hr == n_windows


async def test_open_mhealth_points(world: Any) -> None:
    zf = await world.export_zip("omh")
    _no_secret(world, zf)
    for label in ("ALPHA", "BETA"):
        d = world.patients[label]
        rr = json.loads(zf.read(f"omh/{d.pseudonym}/rr-interval.json"))
        assert len(rr) == d.t_ms.size
        assert rr[0]["header"]["schema_id"] == {
            "namespace": "omh",
            "name": "rr-interval",
            "version": "1.0",
        }
        assert [p["body"]["rr_interval"]["value"] for p in rr] == (
            d.rr_ticks * 1000 / 1024
        ).tolist()
        hr = json.loads(zf.read(f"omh/{d.pseudonym}/heart-rate.json"))
        assert hr and all(p["body"]["heart_rate"]["unit"] == "beats/min" for p in hr)
        assert hr[0]["header"]["schema_id"]["name"] == "heart-rate"


async def test_date_shift_keeps_weekdays_and_intervals(world: Any) -> None:
    plain = await world.export_zip("parquet")
    shifted = await world.export_zip("parquet", date_shift="true")
    a = pq.read_table(io.BytesIO(plain.read("beats.parquet"))).to_pandas()
    b = pq.read_table(io.BytesIO(shifted.read("beats.parquet"))).to_pandas()
    for pseudonym in a["pseudonym"].unique():
        ta = a[a["pseudonym"] == pseudonym]["time"].reset_index(drop=True)
        tb = b[b["pseudonym"] == pseudonym]["time"].reset_index(drop=True)
        delta = (tb - ta).unique()
        assert len(delta) == 1
        shift = pd.Timedelta(delta[0])
        assert shift != pd.Timedelta(0) and shift % pd.Timedelta(days=7) == pd.Timedelta(0)
        assert (ta.dt.dayofweek == tb.dt.dayofweek).all()
    dictionary = json.loads(shifted.read("data_dictionary.json"))
    assert "secret whole number of weeks" in dictionary["date_shift_policy"]
    # the shift itself is never exported or served
    shift_days = world.sql(
        "SELECT date_shift_days FROM patients p JOIN research_pseudonyms r ON r.patient_id = p.id "
        "WHERE r.pseudonym = %(p)s",
        {"p": a["pseudonym"][0]},
    )[0]["date_shift_days"]
    for name in shifted.namelist():
        assert f'"date_shift_days": {shift_days}'.encode() not in shifted.read(name)
    r = await world.client.get(
        f"/v1/patients/{world.patients['ALPHA'].id}", headers=world.therapist
    )
    assert "date_shift" not in r.text


async def test_only_the_researcher_may_export(world: Any) -> None:
    assert (await world.export("csv", headers={})).status_code == 401
    assert (await world.export("csv", headers=world.therapist)).status_code == 403
    assert (await world.export("csv", headers=world.patient_headers)).status_code == 403


async def test_bad_requests_are_422(world: Any) -> None:
    assert (await world.export("xlsx")).status_code == 422
    r = await world.export("csv", patients="not a pseudonym")
    assert r.status_code == 422 and "not a pseudonym" in r.text
    r = await world.client.get(
        "/v1/exports",
        params={"format": "csv", "start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"},
        headers=world.researcher,
    )
    assert r.status_code == 422 and "end must be after start" in r.text


async def test_requesting_a_non_consenting_pseudonym_reveals_nothing(world: Any) -> None:
    gamma = world.patients["GAMMA"]
    unknown = await world.export("csv", patients="ST-ZZZZ9999")
    asked = await world.export("csv", patients=gamma.pseudonym)
    assert asked.status_code == unknown.status_code == 200
    assert (
        asked.headers["X-Somatrace-Export-Patients"]
        == unknown.headers["X-Somatrace-Export-Patients"]
        == "0"
    )
    assert gamma.pseudonym.encode() not in asked.content


async def test_exports_are_audited_with_their_contents(world: Any) -> None:
    response = await world.export("csv")
    assert response.status_code == 200
    export_id = response.headers["X-Somatrace-Export-Id"]
    names = set(zipfile.ZipFile(io.BytesIO(response.content)).namelist())
    rows = [
        r
        for r in world.sql("SELECT * FROM audit_log WHERE action = 'export' ORDER BY id")
        if r["detail"].get("export_id") == export_id
    ]
    per_patient = [r for r in rows if r["patient_id"] is not None]
    assert {r["patient_id"] for r in per_patient} == {
        world.patients["ALPHA"].id,
        world.patients["BETA"].id,
    }
    assert all(r["detail"]["format"] == "csv" for r in per_patient)
    summary = [r for r in rows if r["patient_id"] is None]
    assert len(summary) == 1
    detail = summary[0]["detail"]
    assert detail["complete"] is True
    assert detail["patients"] == 2
    assert detail["beats"] == world.patients["ALPHA"].t_ms.size + world.patients["BETA"].t_ms.size
    assert detail["n_files"] == len(names)
    assert all(r["actor_role"] == "researcher" for r in rows)
    # admins read the audit log beside patient ids: no research pseudonym may appear in it
    audit_text = str([r["detail"] for r in rows])
    assert not any(d.pseudonym in audit_text for d in world.patients.values())


async def test_data_dictionary_describes_every_column(world: Any) -> None:
    zf = await world.export_zip("parquet")
    dictionary = json.loads(zf.read("data_dictionary.json"))
    for table in ("patients", "beats", "windows", "daily", "sessions", "verdicts", "journal"):
        columns = pq.read_table(io.BytesIO(zf.read(f"{table}.parquet"))).column_names
        assert set(columns) <= set(dictionary["tables"][table]), table
    assert dictionary["software"]["neurokit2"] != "unknown"
    assert dictionary["window_s"] == 300
    md = zf.read("data_dictionary.md").decode()
    assert "Lipponen & Tarvainen" in md and "rr_ticks" in md


@pytest.fixture(scope="module")
def server_url(export_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        secret_key="export-cli-signing-key-" + "y" * 32,
        database_url=export_db_url,
        data_dir=tmp_path_factory.mktemp("cli-server"),
        worker_in_process=False,
        _env_file=None,
    )
    with serve_in_thread(create_app(settings, export_db_url)) as url:
        yield url


def _export(
    server_url: str, out: Path, email: str, password: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from somatrace.cli import main; main()",
            "export",
            "--server",
            server_url,
            "--email",
            email,
            "--out",
            str(out),
            "--start",
            "2026-01-01T00:00:00Z",
            "--end",
            "2026-06-01T00:00:00Z",
            *extra,
        ],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def test_cli_downloads_a_parquet_export(world: Any, server_url: str, tmp_path: Path) -> None:
    out = tmp_path / "export.zip"
    proc = _export(
        server_url, out, "researcher@example.org", "export test password", "--format", "parquet"
    )
    assert proc.returncode == 0, proc.stderr
    assert "exporting 2 patient(s) as parquet" in proc.stderr
    zf = zipfile.ZipFile(io.BytesIO(out.read_bytes()))
    assert "beats.parquet" in zf.namelist() and "data_dictionary.json" in zf.namelist()
    assert not out.with_name("export.zip.part").exists()


async def test_cli_refuses_a_therapist_in_one_line(
    world: Any, server_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "nope.zip"
    proc = _export(server_url, out, "therapist@example.org", "export test password")
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "export refused (403)" in lines[0], proc.stderr
    assert not out.exists() and not out.with_name("nope.zip.part").exists()


async def test_cli_says_why_an_export_would_be_empty(
    world: Any, server_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "empty.zip"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from somatrace.cli import main; main()",
            "export",
            "--server",
            server_url,
            "--email",
            "researcher@example.org",
            "--out",
            str(out),
            "--start",
            "2020-01-01T00:00:00",
            "--end",
            "2020-02-01T00:00:00",
        ],
        input="export test password\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "nothing to export" in lines[0], proc.stderr
    assert "no recordings in these days" in lines[0], proc.stderr
    assert not out.exists() and not out.with_name("empty.zip.part").exists()


async def test_cli_wrong_password_is_one_line(world: Any, server_url: str, tmp_path: Path) -> None:
    proc = _export(server_url, tmp_path / "x.zip", "researcher@example.org", "wrong")
    assert proc.returncode == 1
    assert "login failed (401)" in proc.stderr and "Traceback" not in proc.stderr
