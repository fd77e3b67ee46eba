"""The patient's browser as a collector (issue 13): a device token through the patient's session,
readings registered with it, and the reading's verdict equal to ``analysis.reading`` on its beats."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from analysis.reading import judge_reading
from wire import ticks_to_ms

from ..conftest import Api

pytestmark = pytest.mark.integration

START_MS = 1_780_000_000_000


def _beats(n: int = 360, seed: int = 5) -> list[dict[str, int]]:
    rng = np.random.default_rng(seed)
    ticks = np.round(860 + 45 * rng.standard_normal(n)).astype(int)
    t = START_MS + np.cumsum(ticks * 1000 // 1024)
    return [{"t_ms": int(a), "rr_ticks": int(b)} for a, b in zip(t, ticks, strict=True)]


async def test_browser_token_reading_and_verdict(api: Api) -> None:
    therapist = await api.account("therapist")
    patient_id = await api.patient(therapist)
    patient = await api.account("patient", patient_id=patient_id)

    # only the patient themself, through their session, gets a browser token
    r = await api.client.post(
        f"/v1/patients/{patient_id}/browser-devices", json={}, headers=therapist.headers
    )
    assert r.status_code == 403, r.text
    r = await api.client.post(
        f"/v1/patients/{patient_id}/browser-devices",
        json={"label": "Chrome on Android"},
        headers=patient.headers,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    dev = {"Authorization": f"Bearer {created['token']}"}
    # ingest only: the token is no user credential
    assert (await api.client.get("/v1/users/me", headers=dev)).status_code == 401
    listed = (
        await api.client.get(f"/v1/patients/{patient_id}/devices", headers=therapist.headers)
    ).json()
    assert [(d["id"], d["source"], d["label"]) for d in listed] == [
        (created["device_id"], "browser", "Chrome on Android")
    ]

    beats = _beats()
    for i in range(0, len(beats), 100):
        batch = {"batch_id": str(uuid.uuid4()), "beats": beats[i : i + 100]}
        r = await api.client.post("/v1/ingest/beats", json=batch, headers=dev)
        assert r.status_code == 200, r.text
    reading_id = uuid.uuid4()
    interval = {
        "started_at": "2026-05-28T20:26:40+00:00",
        "ended_at": "2026-05-28T20:31:40+00:00",
        "planned_s": 300,
    }
    assert START_MS == 1_780_000_000_000  # 2026-05-28T20:26:40Z
    r = await api.client.put(f"/v1/ingest/readings/{reading_id}", json=interval, headers=dev)
    assert r.status_code == 200 and r.json()["created"] is True, r.text
    r = await api.client.put(f"/v1/ingest/readings/{reading_id}", json=interval, headers=dev)
    assert r.status_code == 200 and r.json()["created"] is False, r.text
    other = {**interval, "ended_at": "2026-05-28T20:32:40+00:00"}
    r = await api.client.put(f"/v1/ingest/readings/{reading_id}", json=other, headers=dev)
    assert r.status_code == 409, r.text
    backwards = {**interval, "ended_at": interval["started_at"]}
    r = await api.client.put(f"/v1/ingest/readings/{uuid.uuid4()}", json=backwards, headers=dev)
    assert r.status_code == 422, r.text
    assert api.sql("SELECT count(*) AS n FROM ingest_batches WHERE source = 'browser'")[0]["n"] == 4

    r = await api.client.get(
        f"/v1/patients/{patient_id}/readings/{reading_id}", headers=patient.headers
    )
    assert r.status_code == 200, r.text
    got = r.json()
    inside = [b for b in beats if b["t_ms"] < START_MS + 300_000]
    expected = judge_reading(
        [b["t_ms"] / 1000 for b in inside],
        [ticks_to_ms(b["rr_ticks"]) for b in inside],
        start_s=START_MS / 1000,
        end_s=START_MS / 1000 + 300,
        usual=None,
        resolution_ms=1000 / 1024,
    ).to_dict()
    assert got["beats"] == len(inside)
    for key in ("state", "position", "grade", "n_beats"):
        assert got["verdict"][key] == expected[key], key
    for key in ("rmssd_ms", "mean_hr_bpm", "artifact_share"):
        assert got["verdict"][key] == pytest.approx(expected[key]), key
    assert got["verdict"]["state"] == "cannot_tell"
    assert any("usual range" in reason for reason in got["verdict"]["reasons"])
    listed_readings = (
        await api.client.get(f"/v1/patients/{patient_id}/readings", headers=therapist.headers)
    ).json()
    assert [(x["id"], x["beats"]) for x in listed_readings] == [(str(reading_id), len(inside))]

    # revocable from the therapist's strap list like any device
    r = await api.client.delete(f"/v1/devices/{created['device_id']}", headers=therapist.headers)
    assert r.status_code == 204
    r = await api.client.put(f"/v1/ingest/readings/{uuid.uuid4()}", json=interval, headers=dev)
    assert r.status_code == 401
