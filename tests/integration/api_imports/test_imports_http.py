"""POST /v1/patients/{id}/imports on the real app and PostgreSQL: every format round-trips its
sample to the exact beat count with its provenance, a second import accepts 0, a truncated file
stores nothing, and only the patient or an assigned therapist may import."""

from __future__ import annotations

import uuid

import pytest

from ...unit.api_imports.samples import ALL, SOURCE_OF, Sample, kubios_text
from ..conftest import Api

pytestmark = pytest.mark.integration


async def _post(
    api: Api, headers: dict[str, str], pid: uuid.UUID, sample: Sample, **form: str
) -> tuple[int, dict]:  # type: ignore[type-arg]
    data = dict(form)
    if sample.start and "start" not in data:
        data["start"] = sample.start
    r = await api.client.post(
        f"/v1/patients/{pid}/imports",
        files={"file": (sample.name, sample.data, "application/octet-stream")},
        data=data,
        headers=headers,
    )
    return r.status_code, r.json()


@pytest.mark.parametrize("kind", list(ALL))
async def test_each_format_round_trips_and_reimport_accepts_nothing(api: Api, kind: str) -> None:
    therapist = await api.account("therapist")
    pid = await api.patient(therapist)
    sample = ALL[kind]()
    status, body = await _post(api, therapist.headers, pid, sample)
    assert status == 201, body
    assert body["source"] == SOURCE_OF[kind]
    assert (
        body["beats"] == sample.beats
        and body["accepted"] == sample.beats
        and body["duplicates"] == 0
    )
    assert body["summaries"] == sample.summaries
    stored = api.sql(
        "SELECT count(*) AS n, min(b.t) AS first, max(b.t) AS last, count(DISTINCT b.device_id) AS devices "
        "FROM beats b WHERE b.patient_id = %(p)s",
        {"p": pid},
    )[0]
    assert stored["n"] == sample.beats
    assert round(stored["first"].timestamp() * 1000) == sample.first_ms
    assert round(stored["last"].timestamp() * 1000) == sample.last_ms
    prov = api.sql(
        "SELECT DISTINCT d.source AS device_source, d.token_hash IS NULL AS tokenless, b.source, "
        "b.resolution_ms, b.import_id FROM ingest_batches b JOIN devices d ON d.id = b.device_id "
        "WHERE d.patient_id = %(p)s",
        {"p": pid},
    )
    assert {r["source"] for r in prov} == {SOURCE_OF[kind]}
    assert all(r["device_source"] == SOURCE_OF[kind] and r["tokenless"] for r in prov)
    assert {str(r["import_id"]) for r in prov} == {body["import_id"]}
    assert all(r["resolution_ms"] == body["resolution_ms"] for r in prov)
    stored_rr = [
        r["rr_ms"] for r in api.sql("SELECT rr_ms FROM beats WHERE patient_id = %(p)s", {"p": pid})
    ]
    assert sorted(stored_rr) == pytest.approx(
        sorted(sample.rr_ms), abs=1e-9
    )  # the file's values, not ticks

    status, again = await _post(api, therapist.headers, pid, sample)
    assert status == 201, again
    assert (
        again["accepted"] == 0
        and again["duplicates"] == sample.beats
        and again["beats"] == sample.beats
    )
    assert again["import_id"] != body["import_id"]
    n = api.sql("SELECT count(*) AS n FROM beats WHERE patient_id = %(p)s", {"p": pid})[0]["n"]
    assert n == sample.beats
    if sample.summaries:
        s = api.sql(
            "SELECT count(*) AS n FROM import_summaries WHERE patient_id = %(p)s", {"p": pid}
        )[0]["n"]
        assert s == sample.summaries


@pytest.mark.parametrize("kind", ["apple_health", "fit", "polar_ppi"])
async def test_truncated_file_stores_nothing_and_names_the_place(api: Api, kind: str) -> None:
    therapist = await api.account("therapist")
    pid = await api.patient(therapist)
    sample = ALL[kind]()
    cut = Sample(sample.name, sample.data[: int(len(sample.data) * 0.7)], 0, 0, 0)
    status, body = await _post(api, therapist.headers, pid, cut)
    assert status == 422, body
    assert sample.name in body["error"]["message"]
    assert body["error"]["fields"]["file"] == sample.name
    assert body["error"]["fields"]["line"] or body["error"]["fields"]["record"]
    for table in ("beats", "imports", "import_summaries"):
        assert (
            api.sql(f"SELECT count(*) AS n FROM {table} WHERE patient_id = %(p)s", {"p": pid})[0][
                "n"
            ]
            == 0
        )
    assert (
        api.sql("SELECT count(*) AS n FROM devices WHERE patient_id = %(p)s", {"p": pid})[0]["n"]
        == 0
    )


async def test_kubios_without_start_is_422_saying_so(api: Api) -> None:
    therapist = await api.account("therapist")
    pid = await api.patient(therapist)
    sample = kubios_text()
    status, body = await _post(
        api, therapist.headers, pid, Sample(sample.name, sample.data, 0, 0, 0)
    )
    assert status == 422
    assert body["error"]["code"] == "import_needs_start" and "start" in body["error"]["message"]
    status, body = await _post(api, therapist.headers, pid, sample, start="2026-03-05T07:10:00")
    assert status == 422 and "offset" in body["error"]["message"]


async def test_patient_imports_own_data_but_not_others_and_lists_them(api: Api) -> None:
    therapist = await api.account("therapist")
    pid = await api.patient(therapist)
    other = await api.patient(therapist, "Blake")
    patient = await api.account("patient", patient_id=pid)
    stranger = await api.account("therapist")
    sample = ALL["elite_hrv"]()
    status, body = await _post(api, patient.headers, pid, sample)
    assert status == 201, body
    assert (await _post(api, patient.headers, other, sample))[0] == 404
    assert (await _post(api, stranger.headers, pid, sample))[0] == 404
    researcher = await api.account("researcher")
    assert (await _post(api, researcher.headers, pid, sample))[0] == 403
    listed = (await api.client.get(f"/v1/patients/{pid}/imports", headers=therapist.headers)).json()
    assert [i["id"] for i in listed] == [body["import_id"]]
    assert listed[0]["source"] == "elite_hrv" and listed[0]["beats"] == sample.beats


async def test_unknown_format_is_422_listing_the_supported_ones(api: Api) -> None:
    therapist = await api.account("therapist")
    pid = await api.patient(therapist)
    status, body = await _post(
        api, therapist.headers, pid, Sample("notes.pdf", b"%PDF-1.7\n...", 0, 0, 0)
    )
    assert status == 422 and body["error"]["code"] == "import_unknown_format"
    assert "Apple Health" in body["error"]["message"]
