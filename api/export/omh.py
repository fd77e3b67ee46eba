"""Open mHealth data points: ``omh:heart-rate:2.0`` per 5-minute window and ``omh:rr-interval:1.0`` per beat.

Each file is one JSON array of data points (header + body); bodies follow the Open mHealth schemas.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

_ID_NAMESPACE = uuid.UUID("0e6f3a52-41d5-4e8a-8c57-2f4f7f1de5b3")
SOURCE_NAME = "Somatrace"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def heart_rate_point(
    pseudonym: str, window: Mapping[str, Any], shift: timedelta, created: datetime
) -> dict[str, Any] | None:
    """``omh:heart-rate:2.0``: the window's mean heart rate over its time interval (None when unavailable)."""
    hr = window.get("mean_hr_bpm")
    if hr is None or not math.isfinite(float(hr)):
        return None
    start: datetime = window["window_start"] + shift
    end = start + timedelta(seconds=int(window["window_s"]))
    return {
        "header": {
            "id": str(uuid.uuid5(_ID_NAMESPACE, f"{pseudonym}/hr/{_iso(start)}")),
            "creation_date_time": _iso(created),
            "schema_id": {"namespace": "omh", "name": "heart-rate", "version": "2.0"},
            "acquisition_provenance": {"source_name": SOURCE_NAME, "modality": "sensed"},
            "user_id": pseudonym,
        },
        "body": {
            "heart_rate": {"value": float(hr), "unit": "beats/min"},
            "effective_time_frame": {
                "time_interval": {"start_date_time": _iso(start), "end_date_time": _iso(end)}
            },
            "descriptive_statistic": "average",
        },
    }


def rr_interval_points(
    pseudonym: str, t_ms: NDArray[np.int64], rr_ticks: NDArray[np.int32], created: datetime
) -> str:
    """``omh:rr-interval:1.0`` data points of consecutive beats as comma-joined JSON objects."""
    if t_ms.size == 0:
        return ""
    times = np.datetime_as_string(t_ms.astype("datetime64[ms]"), unit="ms", timezone="UTC")
    rr_ms = (rr_ticks.astype(np.float64) * 1000.0 / 1024.0).tolist()
    created_s = _iso(created)
    user = json.dumps(pseudonym)
    prefix = (
        '{"header":{"id":"%s","creation_date_time":"' + created_s + '",'
        '"schema_id":{"namespace":"omh","name":"rr-interval","version":"1.0"},'
        '"acquisition_provenance":{"source_name":"' + SOURCE_NAME + '","modality":"sensed"},'
        '"user_id":' + user + "},"
        '"body":{"rr_interval":{"value":%r,"unit":"ms"},"effective_time_frame":{"date_time":"%s"}}}'
    )
    return ",".join(
        prefix % (uuid.uuid5(_ID_NAMESPACE, f"{pseudonym}/rr/{t}"), rr, t)
        for t, rr in zip(times.tolist(), rr_ms, strict=True)
    )
