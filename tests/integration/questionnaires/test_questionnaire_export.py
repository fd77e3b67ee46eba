"""Questionnaire responses in the research export: only consenting patients, by pseudonym, in CSV and
Parquet (same columns) and as FHIR R4 QuestionnaireResponse resources that validate, with the data
dictionary describing them."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from .conftest import World

START = (datetime.now(UTC) - timedelta(days=30)).replace(microsecond=0)
END = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)


async def consenting_world(world: World) -> dict[str, Any]:
    api = world.api
    r = await api.client.put(
        f"/v1/patients/{world.patient_id}/consent",
        json={"research": True},
        headers=world.patient.headers,
    )
    assert r.status_code == 200
    await world.medicine_session(datetime.now(UTC) - timedelta(days=5))
    ids = []
    for instrument, answers in (
        ("phq9", [2, 2, 1, 1, 1, 1, 1, 1, 1]),
        ("gad7", [1, 1, 1, 1, 0, 0, 0]),
        ("pcl5", [1] * 20),
    ):
        r = await world.answer(world.patient, instrument, answers)
        assert r.status_code == 201
        ids.append(r.json()["id"])
    # the other patient answers too but gave no consent
    other = world.other_patient.patient_id
    r = await api.client.post(
        f"/v1/patients/{other}/responses",
        json={"instrument": "phq9", "answers": [3] * 9},
        headers=world.other_patient.headers,
    )
    assert r.status_code == 201
    # exports name patients by their research pseudonym; the clinic's reference code must not appear
    pseudonyms = {
        row["patient_id"]: row["pseudonym"]
        for row in api.sql("SELECT patient_id, pseudonym FROM research_pseudonyms")
    }
    clinic_codes = {
        row["id"]: row["pseudonym"] for row in api.sql("SELECT id, pseudonym FROM patients")
    }
    return {
        "ids": ids,
        "mine": pseudonyms[world.patient_id],
        "other": pseudonyms[other],
        "codes": [clinic_codes[world.patient_id], clinic_codes[other]],
    }


async def export(world: World, fmt: str, **params: Any) -> zipfile.ZipFile:
    r = await world.api.client.get(
        "/v1/exports",
        params={"format": fmt, "start": START.isoformat(), "end": END.isoformat(), **params},
        headers=world.researcher.headers,
    )
    assert r.status_code == 200, r.text
    return zipfile.ZipFile(io.BytesIO(r.content))


def no_leaks(world: World, zf: zipfile.ZipFile, facts: dict[str, Any]) -> None:
    for name in zf.namelist():
        data = zf.read(name)
        for secret in (
            facts["other"],
            "Robin",
            "Other Person",
            str(world.patient_id),
            *facts["ids"],
            *facts["codes"],
        ):
            assert secret.encode() not in data, (name, secret)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
async def test_tabular_responses_of_consenting_patients_only(world: World, fmt: str) -> None:
    facts = await consenting_world(world)
    zf = await export(world, fmt)
    no_leaks(world, zf, facts)

    def read(table: str) -> pd.DataFrame:
        raw = zf.read(f"{table}.{fmt}")
        return (
            pq.read_table(io.BytesIO(raw)).to_pandas()
            if fmt == "parquet"
            else pd.read_csv(io.BytesIO(raw))
        )

    responses = read("responses").sort_values("instrument").reset_index(drop=True)
    assert set(responses["pseudonym"]) == {facts["mine"]}
    assert responses["instrument"].tolist() == ["gad7", "pcl5", "phq9"]
    assert responses["total"].tolist() == [4, 20, 11]
    assert responses["severity"].tolist() == [
        "minimal",
        "below the provisional cut-off",
        "moderate",
    ]
    assert responses["safety_alert"].tolist() == [False, False, True]  # PHQ-9 item 9 = 1
    assert responses.loc[2, "answers"] == "2;2;1;1;1;1;1;1;1"
    assert json.loads(responses.loc[1, "subscales"]) == {"B": 5, "C": 2, "D": 7, "E": 6}
    assert (responses["days_from_first_session"].round(0) == 5).all()
    items = read("response_items")
    assert len(items) == 9 + 7 + 20 and set(items["pseudonym"]) == {facts["mine"]}
    assert set(items["response_key"]) == set(responses["response_key"])
    dictionary = json.loads(zf.read("data_dictionary.json"))
    for table in ("responses", "response_items"):
        assert set(read(table).columns) == set(dictionary["tables"][table]), table
    assert dictionary["instruments"]["phq9"]["bands"][0] == {"min": 0, "max": 4, "label": "minimal"}
    assert "No permission required" in dictionary["instruments"]["gad7"]["licence"]
    assert "Questionnaire instruments" in zf.read("data_dictionary.md").decode()


async def test_fhir_questionnaire_responses_validate(world: World) -> None:
    facts = await consenting_world(world)
    zf = await export(world, "fhir")
    no_leaks(world, zf, facts)
    name = f"fhir/{facts['mine']}/questionnaire-responses.json"
    assert name in zf.namelist()
    assert not [n for n in zf.namelist() if facts["other"] in n]
    raw = json.loads(zf.read(name))
    bundle = Bundle.model_validate(raw)
    assert bundle.type == "collection"
    resources = [e["resource"] for e in raw["entry"]]
    responses = [
        QuestionnaireResponse.model_validate(r)
        for r in resources
        if r["resourceType"] == "QuestionnaireResponse"
    ]
    observations = [
        Observation.model_validate(r) for r in resources if r["resourceType"] == "Observation"
    ]
    assert len(responses) == 3 and len(observations) == 3
    phq9 = next(r for r in responses if "phq9" in r.questionnaire)
    assert phq9.questionnaire == "https://somatrace.org/fhir/Questionnaire/phq9|1.0.0"
    assert phq9.subject.identifier.value == facts["mine"]
    assert phq9.item[8].text.startswith("Thoughts that you would be better off dead")
    assert phq9.item[0].answer[0].valueCoding.display == "More than half the days"
    assert phq9.item[-2].answer[0].valueInteger == 11
    codes = {o.code.coding[0].code for o in observations}
    assert {"44261-6", "70274-6"} <= codes  # PHQ-9 and GAD-7 total scores (LOINC)
    total = next(o for o in observations if o.code.coding[0].code == "44261-6")
    assert (
        total.valueInteger == 11
        and total.derivedFrom[0].reference == f"QuestionnaireResponse/{phq9.id}"
    )


async def test_date_shift_moves_response_times(world: World) -> None:
    facts = await consenting_world(world)
    shift = world.api.sql(
        "SELECT date_shift_days FROM patients WHERE id = %(p)s", {"p": world.patient_id}
    )[0]["date_shift_days"]
    plain = pd.read_csv(io.BytesIO((await export(world, "csv")).read("responses.csv")))
    shifted_zip = await export(
        world,
        "csv",
        date_shift="true",
        start=(START - timedelta(days=400)).isoformat(),
        end=(END + timedelta(days=400)).isoformat(),
    )
    shifted = pd.read_csv(io.BytesIO(shifted_zip.read("responses.csv")))
    a = pd.to_datetime(plain.sort_values("response_key")["at"], utc=True).reset_index(drop=True)
    b = pd.to_datetime(shifted.sort_values("response_key")["at"], utc=True).reset_index(drop=True)
    assert ((b - a) == pd.Timedelta(days=shift)).all()
    assert facts["mine"] in set(shifted["pseudonym"])


async def test_the_export_audit_counts_responses(world: World) -> None:
    await consenting_world(world)
    await export(world, "parquet")
    summary = [a for a in world.api.audit_rows(action="export") if a["patient_id"] is None]
    assert summary[-1]["detail"]["responses"] == 3
