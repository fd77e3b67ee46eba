"""The shipped instruments against their published tables: wording, options, every band edge, risk
rules, and change (response, remission) at its edges."""

from __future__ import annotations

import pytest

from api.instruments.definition import Instrument
from api.instruments.errors import InvalidAnswers
from api.instruments.loader import load_catalog
from api.instruments.scoring import answer_problems, band_for, change, score

#: Published severity tables, written out independently of the definition files:
#: PHQ-9 (Kroenke et al. 2001), GAD-7 (Spitzer et al. 2006), PCL-5 provisional cut-off 33 (NCPTSD).
PUBLISHED_BANDS = {
    "phq9": [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately severe"),
        (20, 27, "severe"),
    ],
    "gad7": [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")],
    "pcl5": [
        (0, 32, "below the provisional cut-off"),
        (33, 80, "at or above the provisional cut-off"),
    ],
}
ITEMS = {"phq9": 9, "gad7": 7, "pcl5": 20}
OPTIONS = {
    "phq9": ["Not at all", "Several days", "More than half the days", "Nearly every day"],
    "gad7": ["Not at all", "Several days", "More than half the days", "Nearly every day"],
    "pcl5": ["Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely"],
}


def instrument(name: str) -> Instrument:
    inst = load_catalog().instrument(name)
    assert inst is not None
    return inst


def answers_for(inst: Instrument, total: int, keep_zero: tuple[int, ...] = ()) -> list[int]:
    """Answers adding up to ``total``, filling items in order (items in ``keep_zero`` stay 0)."""
    top = max(inst.allowed_values[0])
    out = []
    left = total
    for i in range(len(inst.items)):
        value = 0 if i in keep_zero else min(top, left)
        out.append(value)
        left -= value
    assert left == 0, "total not reachable with these items"
    return out


def test_shipped_instruments_have_published_shape() -> None:
    catalog = load_catalog()
    assert list(catalog.instruments)[:3] == ["phq9", "gad7", "pcl5"]
    for name, n in ITEMS.items():
        inst = instrument(name)
        assert len(inst.items) == n
        for i in range(n):
            assert [o.label for o in inst.item_options(i)] == OPTIONS[name]
            assert [o.value for o in inst.item_options(i)] == list(range(len(OPTIONS[name])))
        assert inst.licence.allows_use
        assert inst.source.citation
    assert instrument("phq9").scoring.max_total == 27
    assert instrument("gad7").scoring.max_total == 21
    assert instrument("pcl5").scoring.max_total == 80


def test_exact_published_wording_of_key_items() -> None:
    phq9 = instrument("phq9")
    assert (
        phq9.instructions
        == "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    )
    assert phq9.items[0].text == "Little interest or pleasure in doing things"
    assert (
        phq9.items[8].text
        == "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    gad7 = instrument("gad7")
    assert gad7.items[1].text == "Not being able to stop or control worrying"
    pcl5 = instrument("pcl5")
    assert pcl5.stem == "In the past month, how much were you bothered by:"
    assert (
        pcl5.items[0].text
        == "Repeated, disturbing, and unwanted memories of the stressful experience?"
    )
    assert pcl5.items[19].text == "Trouble falling or staying asleep?"


@pytest.mark.parametrize(
    ("name", "total", "label"),
    [
        (name, edge, label)
        for name, bands in PUBLISHED_BANDS.items()
        for low, high, label in bands
        for edge in (low, high)
    ],
)
def test_every_band_edge(name: str, total: int, label: str) -> None:
    inst = instrument(name)
    assert band_for(inst, total).label == label
    # the same edge reached by scoring real answers (item 9 of PHQ-9 kept at 0, so no alert)
    result = score(
        inst, answers_for(inst, total, keep_zero=(8,) if name == "phq9" and total <= 24 else ())
    )
    assert result.total == total and result.severity == label


@pytest.mark.parametrize("name", list(PUBLISHED_BANDS))
def test_bands_cover_the_range_without_gaps(name: str) -> None:
    inst = instrument(name)
    covered = [t for b in inst.bands for t in range(b.min, b.max + 1)]
    assert covered == list(range(inst.min_total, inst.scoring.max_total + 1))
    with pytest.raises(ValueError):
        band_for(inst, inst.scoring.max_total + 1)


def test_pcl5_cut_off_and_clusters() -> None:
    pcl5 = instrument("pcl5")
    assert [c.total for c in pcl5.cutoffs] == [33]
    result = score(pcl5, [4] * 5 + [3] * 2 + [2] * 7 + [1] * 6)
    assert result.subscales == {"B": 20, "C": 6, "D": 14, "E": 6}
    assert result.total == 46 and not result.safety_alert


@pytest.mark.parametrize("item9", [0, 1, 2, 3])
def test_phq9_item9_above_zero_raises_an_alert(item9: int) -> None:
    result = score(instrument("phq9"), [3, 3, 3, 3, 3, 3, 3, 3, item9])
    assert result.safety_alert is (item9 > 0)
    assert [r.id for r in result.risk_rules] == (["phq9-item9"] if item9 else [])


def test_no_alert_from_other_instruments_at_their_maximum() -> None:
    assert not score(instrument("gad7"), [3] * 7).safety_alert
    assert not score(instrument("pcl5"), [4] * 20).safety_alert


def test_answer_problems_name_each_bad_item() -> None:
    phq9 = instrument("phq9")
    wrong_count = answer_problems(phq9, [0] * 8)
    assert wrong_count[0]["loc"] == ["body", "answers"] and "9 items" in str(wrong_count[0]["msg"])
    bad = answer_problems(phq9, [0, 4, 0, -1, 0, 0, 0, 0, True])
    assert [p["item"] for p in bad] == [2, 4, 9]
    assert [p["loc"] for p in bad] == [
        ["body", "answers", 1],
        ["body", "answers", 3],
        ["body", "answers", 8],
    ]
    with pytest.raises(InvalidAnswers) as info:
        score(phq9, [0, 0, 0, 0, 0, 0, 0, 0, 7])
    assert info.value.status == 422 and info.value.fields["errors"][0]["item"] == 9


@pytest.mark.parametrize(
    ("baseline", "total", "response", "remission"),
    [
        (20, 10, True, False),  # exactly 50 % lower: a response
        (20, 11, False, False),  # 45 %: not yet
        (9, 4, True, True),  # 55.6 % and below 5
        (8, 4, True, True),  # exactly 50 % and remission
        (8, 5, False, False),  # 37.5 %, and 5 is not below 5
        (4, 4, False, True),  # no drop, but already below 5
        (0, 0, None, True),  # no drop is possible from 0: response undefined
        (10, 15, False, False),  # worse
    ],
)
def test_change_response_and_remission_edges(
    baseline: int, total: int, response: bool | None, remission: bool
) -> None:
    for name in ("phq9", "gad7"):
        result = change(instrument(name), baseline, total)
        assert result.response is response, (name, baseline, total)
        assert result.remission is remission, (name, baseline, total)
        assert result.change == total - baseline
        assert result.meaningful is None


def test_pcl5_has_no_remission_but_a_meaningful_change() -> None:
    pcl5 = instrument("pcl5")
    assert change(pcl5, 50, 40).meaningful is True
    assert change(pcl5, 50, 41).meaningful is False
    assert change(pcl5, 50, 25).response is True
    assert change(pcl5, 50, 2).remission is None
