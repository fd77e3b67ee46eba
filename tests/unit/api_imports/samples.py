"""Realistic sample files of every import format, built from real RR recordings (tests/data, see
PROVENANCE.md): each builder returns the file's bytes, its name and the beats it holds."""

from __future__ import annotations

import csv
import io
import itertools
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "data"
TZ = ZoneInfo("Europe/Berlin")


def real_rr_ms() -> list[int]:
    """The Polar H10 recording's 798 RR intervals (ms) followed by pyhrv's 5-minute NN series."""
    with (DATA / "polar_h10_rr.csv").open(newline="") as fh:
        polar = [int(r["rr_ms"]) for r in csv.DictReader(fh)]
    short = [round(float(v)) for v in np.load(DATA / "pyhrv_SampleNNISeriesShort.npy")]
    return polar + short


@dataclass
class Sample:
    name: str
    data: bytes
    beats: int
    first_ms: int
    last_ms: int
    rr_ms: list[float] = field(default_factory=list)
    summaries: int = 0
    start: str | None = None


def _ms(t: datetime) -> int:
    return round(t.timestamp() * 1000)


# --- Apple Health ------------------------------------------------------------------------------

APPLE_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT HeartRateVariabilityMetadataList (InstantaneousBeatsPerMinute*)>
<!ELEMENT InstantaneousBeatsPerMinute EMPTY>
<!ATTLIST InstantaneousBeatsPerMinute
  bpm  CDATA #REQUIRED
  time CDATA #REQUIRED
>
]>
<HealthData locale="en_US">
 <ExportDate value="2026-03-05 09:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-01-01" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>
"""
APPLE_DEVICE = (
    "&lt;&lt;HKDevice: 0x283a1c0f0&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, "
    "hardware:Watch6,2, software:9.1&gt;"
)


def _apple_date(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S %z")


def _apple_time(t: datetime, twelve_hour: bool) -> str:
    cs = t.microsecond // 10_000
    if twelve_hour:
        h = t.hour % 12 or 12
        return f"{h}:{t.minute:02d}:{t.second:02d}.{cs:02d} {'AM' if t.hour < 12 else 'PM'}"
    return f"{t.hour:02d}:{t.minute:02d}:{t.second:02d},{cs:02d}"


def heart_rate_record(t: datetime, bpm: int) -> str:
    return (
        f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Jane’s Apple Watch" '
        f'sourceVersion="9.1" device="{APPLE_DEVICE}" unit="count/min" creationDate="{_apple_date(t)}" '
        f'startDate="{_apple_date(t)}" endDate="{_apple_date(t)}" value="{bpm}">\n'
        f'  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n </Record>\n'
    )


def hrv_record(
    start: datetime, rr_ms: list[int], twelve_hour: bool = True
) -> tuple[str, list[int], list[float]]:
    """One HRV record whose series holds a beat after each RR (times at 1/100 s, like Apple)."""
    times: list[datetime] = []
    t = start
    for rr in rr_ms:
        t = t + timedelta(milliseconds=rr)
        times.append(t.replace(microsecond=(t.microsecond // 10_000) * 10_000))
    sdnn = float(np.std(rr_ms))
    end = times[-1].replace(microsecond=0) + timedelta(seconds=1)
    lines = [
        f' <Record type="HKQuantityTypeIdentifierHeartRateVariabilitySDNN" sourceName="Jane’s Apple Watch" '
        f'sourceVersion="9.1" device="{APPLE_DEVICE}" unit="ms" creationDate="{_apple_date(end)}" '
        f'startDate="{_apple_date(start)}" endDate="{_apple_date(end)}" value="{sdnn:.5f}">',
        "  <HeartRateVariabilityMetadataList>",
    ]
    for i, bt in enumerate(times):
        bpm = round(60000 / rr_ms[i])
        lines.append(
            f'   <InstantaneousBeatsPerMinute bpm="{bpm}" time="{_apple_time(bt, twelve_hour)}"/>'
        )
    lines += ["  </HeartRateVariabilityMetadataList>", " </Record>", ""]
    t_ms = [_ms(x) for x in times]
    rr_out: list[float] = [60000 / round(60000 / rr_ms[0])] + [
        float(b - a) for a, b in itertools.pairwise(t_ms)
    ]
    return "\n".join(lines), t_ms, rr_out


def apple_health_xml(series: int = 4) -> Sample:
    rr = real_rr_ms()
    tz = timezone(timedelta(hours=1))
    parts = [APPLE_HEAD]
    all_t: list[int] = []
    all_rr: list[float] = []
    day = datetime(2026, 3, 1, 7, 4, 10, tzinfo=tz)
    for k in range(series):
        for j in range(3):
            parts.append(heart_rate_record(day + timedelta(hours=k, minutes=j), 60 + j))
        # the last series starts just before midnight and crosses it
        start = (
            day + timedelta(days=k)
            if k < series - 1
            else datetime(2026, 3, 4, 23, 59, 30, tzinfo=tz)
        )
        chunk = rr[k * 70 : k * 70 + 70]
        text, t_ms, rr_out = hrv_record(start, chunk, twelve_hour=k % 2 == 0)
        parts.append(text)
        all_t += t_ms
        all_rr += rr_out
    parts.append("</HealthData>\n")
    data = "".join(parts).encode()
    return Sample("export.xml", data, len(all_t), min(all_t), max(all_t), all_rr, summaries=series)


def apple_health_zip(series: int = 4) -> Sample:
    xml = apple_health_xml(series)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("apple_health_export/export.xml", xml.data)
        zf.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
    return Sample(
        "export.zip", buf.getvalue(), xml.beats, xml.first_ms, xml.last_ms, xml.rr_ms, xml.summaries
    )


# --- FIT ---------------------------------------------------------------------------------------


def fit_activity() -> Sample:
    """A Garmin activity with HRV logging: records each second, hrv messages of up to 5 RR."""
    from fit_tool.fit_file_builder import FitFileBuilder
    from fit_tool.profile.messages.event_message import EventMessage
    from fit_tool.profile.messages.file_id_message import FileIdMessage
    from fit_tool.profile.messages.hrv_message import HrvMessage
    from fit_tool.profile.messages.record_message import RecordMessage
    from fit_tool.profile.profile_type import Event, EventType, FileType, Manufacturer

    rr = real_rr_ms()[:600]
    start = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
    start_ms = _ms(start)
    builder = FitFileBuilder(auto_define=True)
    m = FileIdMessage()
    m.type = FileType.ACTIVITY
    m.manufacturer = Manufacturer.GARMIN.value
    m.product = 3122
    m.time_created = start_ms
    m.serial_number = 3_456_789_012
    builder.add(m)
    e = EventMessage()
    e.event = Event.TIMER
    e.event_type = EventType.START
    e.timestamp = start_ms
    builder.add(e)
    beat_ms = start_ms
    next_record = start_ms
    t_out: list[int] = []
    for i in range(0, len(rr), 5):
        group = rr[i : i + 5]
        for v in group:
            beat_ms += v
            t_out.append(beat_ms)
        while next_record <= beat_ms:
            r = RecordMessage()
            r.timestamp = next_record
            r.heart_rate = 62
            builder.add(r)
            next_record += 1000
        h = HrvMessage()
        h.time = [v / 1000 for v in group]
        builder.add(h)
    e = EventMessage()
    e.event = Event.TIMER
    e.event_type = EventType.STOP_ALL
    e.timestamp = next_record
    builder.add(e)
    data = builder.build().to_bytes()
    return Sample(
        "2026-03-02-06-30-00.fit", data, len(t_out), t_out[0], t_out[-1], [float(v) for v in rr]
    )


# --- Polar -------------------------------------------------------------------------------------


def polar_sensor_logger() -> Sample:
    rr = real_rr_ms()[:798]
    t = datetime(2026, 3, 3, 6, 45, 0, 120_000)
    lines = ["Phone timestamp;RR-interval [ms]"]
    t_ms: list[int] = []
    for v in rr:
        t = t + timedelta(milliseconds=v)
        lines.append(f"{t.isoformat(timespec='milliseconds')};{v}")
        t_ms.append(_ms(t.replace(tzinfo=TZ)))
    data = ("\n".join(lines) + "\n").encode()
    # The first row's time is its beat's time; the rest follow their RR sum (no drift here).
    return Sample(
        "Polar_H10_1A2B3C4D_20260303_064500_RR.txt",
        data,
        len(rr),
        t_ms[0],
        t_ms[-1],
        [float(v) for v in rr],
    )


def polar_ppi_json() -> Sample:
    rr = real_rr_ms()[:500]
    t = datetime(2026, 3, 3, 2, 10, 0)
    samples = []
    t_ms: list[int] = []
    for v in rr:
        t = t + timedelta(milliseconds=v)
        samples.append(
            {
                "sampleDateTime": t.isoformat(timespec="milliseconds"),
                "pulseLength": v,
                "errorEstimate": 10,
            }
        )
        t_ms.append(_ms(t.replace(tzinfo=TZ)))
    doc = [
        {
            "date": "2026-03-03",
            "devicePpiSamplesList": [{"deviceId": "A1B2C3D4", "ppiSamples": samples}],
        }
    ]
    data = json.dumps(doc, indent=1).encode()
    return Sample(
        "ppi_samples_2026-03.json", data, len(rr), t_ms[0], t_ms[-1], [float(v) for v in rr]
    )


# --- Elite HRV, HRV4Training, Kubios -----------------------------------------------------------


def elite_hrv() -> Sample:
    rr = real_rr_ms()[100:480]
    start = datetime(2026, 3, 4, 7, 1, 53, tzinfo=TZ)
    t = _ms(start)
    t_ms = []
    for v in rr:
        t += v
        t_ms.append(t)
    data = ("\n".join(str(v) for v in rr) + "\n").encode()
    return Sample(
        "2026-03-04 07-01-53.txt", data, len(rr), t_ms[0], t_ms[-1], [float(v) for v in rr]
    )


def hrv4training_csv() -> Sample:
    rr = real_rr_ms()
    header = "date,timestamp_measurement,HR,AVNN,SDNN,rMSSD,pNN50,LF,HF,HRV4T_Recovery_Points,rr"
    rows = [header]
    t_ms: list[int] = []
    rr_out: list[float] = []
    for k in range(3):  # newest reading first, like the app's list
        start = datetime(2026, 3, 7 - k, 6, 55, 0)
        part = rr[k * 100 : k * 100 + 90]
        t = _ms(start.replace(tzinfo=TZ))
        for v in part:
            t += v
            t_ms.append(t)
        rr_out += [float(v) for v in part]
        rmssd = float(np.sqrt(np.mean(np.diff(part) ** 2)))
        rows.append(
            f"{start.date()},{start.isoformat(sep=' ')},62,{np.mean(part):.1f},{np.std(part):.1f},{rmssd:.1f},"
            f'20,500,400,8.1,"{" ".join(str(v) for v in part)}"'
        )
    data = ("\n".join(rows) + "\n").encode()
    return Sample(
        "MyMeasurements_Android.csv", data, len(t_ms), min(t_ms), max(t_ms), rr_out, summaries=9
    )


def kubios_text() -> Sample:
    rr = real_rr_ms()[200:700]
    start = "2026-03-05T07:10:00+01:00"
    t = _ms(datetime.fromisoformat(start))
    t_ms = []
    for v in rr:
        t += v
        t_ms.append(t)
    lines = ["RR intervals exported for Kubios HRV", "RR (s)"] + [f"{v / 1000:.3f}" for v in rr]
    data = ("\r\n".join(lines) + "\r\n").encode()
    return Sample(
        "morning_rr.txt", data, len(rr), t_ms[0], t_ms[-1], [float(v) for v in rr], start=start
    )


ALL = {
    "apple_health": apple_health_xml,
    "apple_health_zip": apple_health_zip,
    "fit": fit_activity,
    "polar_sensor_logger": polar_sensor_logger,
    "polar_ppi": polar_ppi_json,
    "elite_hrv": elite_hrv,
    "hrv4training": hrv4training_csv,
    "kubios": kubios_text,
}
SOURCE_OF = {
    "apple_health": "apple_health",
    "apple_health_zip": "apple_health",
    "fit": "fit",
    "polar_sensor_logger": "polar",
    "polar_ppi": "polar",
    "elite_hrv": "elite_hrv",
    "hrv4training": "hrv4training",
    "kubios": "kubios",
}
