"""Scoring with a definition: answer checks, total, severity band, subscales, risk rules, and change
against a baseline (response, remission, clinically meaningful change).

Pure functions; the definitions come from ``loader``, the answers from the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from api.instruments.definition import Band, Instrument, RiskRule
from api.instruments.errors import InvalidAnswers


@dataclass(frozen=True)
class Score:
    """The scored answers of one response."""

    total: int
    severity: str
    subscales: dict[str, int]
    risk_rules: tuple[RiskRule, ...]

    @property
    def safety_alert(self) -> bool:
        return bool(self.risk_rules)


@dataclass(frozen=True)
class Change:
    """A score against its baseline: points, percent, and the instrument's change rules.

    ``response``/``remission``/``meaningful`` are None when the instrument does not define the rule,
    or (``response``) when the baseline is 0 and no drop is possible.
    """

    baseline_total: int
    total: int
    change: int
    change_pct: float | None
    response: bool | None
    remission: bool | None
    meaningful: bool | None


def answer_problems(inst: Instrument, answers: Sequence[object]) -> list[dict[str, object]]:
    """Each problem with ``answers`` as ``{"loc", "item", "msg"}`` (``loc`` indexes from 0, ``item``
    counts from 1); empty when they fit the instrument."""
    if len(answers) != len(inst.items):
        return [
            {
                "loc": ["body", "answers"],
                "msg": f"{inst.short_title} has {len(inst.items)} items; got {len(answers)} answers",
                "type": "wrong_count",
            }
        ]
    problems: list[dict[str, object]] = []
    for i, answer in enumerate(answers):
        allowed = inst.allowed_values[i]
        if isinstance(answer, bool) or not isinstance(answer, int):
            problems.append(
                {
                    "loc": ["body", "answers", i],
                    "item": i + 1,
                    "msg": "must be a whole number",
                    "type": "int_type",
                }
            )
        elif answer not in allowed:
            problems.append(
                {
                    "loc": ["body", "answers", i],
                    "item": i + 1,
                    "msg": f"item {i + 1} takes one of {sorted(allowed)}; got {answer}",
                    "type": "out_of_range",
                }
            )
    return problems


def band_for(inst: Instrument, total: int) -> Band:
    """The severity band holding ``total``; raises ``ValueError`` outside the instrument's range."""
    for band in inst.bands:
        if band.min <= total <= band.max:
            return band
    raise ValueError(f"{inst.id}: total {total} outside {inst.min_total}..{inst.scoring.max_total}")


def score(inst: Instrument, answers: Sequence[int]) -> Score:
    """Total, severity, subscales and the risk rules ``answers`` meet.

    Raises
    ------
    InvalidAnswers
        With ``errors`` naming each bad item, when the answers do not fit ``inst``.
    """
    problems = answer_problems(inst, answers)
    if problems:
        raise InvalidAnswers(f"the answers do not fit {inst.short_title}", errors=problems)
    total = sum(answers)
    rules = tuple(
        rule
        for rule in inst.risk_rules
        if (
            rule.item is not None
            and rule.at_least is not None
            and answers[rule.item - 1] >= rule.at_least
        )
        or (rule.total_at_least is not None and total >= rule.total_at_least)
    )
    return Score(
        total=total,
        severity=band_for(inst, total).label,
        subscales={s.id: sum(answers[n - 1] for n in s.items) for s in inst.subscales},
        risk_rules=rules,
    )


def change(inst: Instrument, baseline_total: int, total: int) -> Change:
    """``total`` against ``baseline_total`` with ``inst``'s change rules.

    A response is a drop of at least ``change.response_drop_pct`` % of the baseline (50 % for the
    shipped instruments); remission is a total below ``change.remission_below`` (5 for PHQ-9 and
    GAD-7); a meaningful change moves at least ``change.meaningful_change`` points either way.
    """
    rules = inst.change
    delta = total - baseline_total
    pct = None if baseline_total == 0 else 100.0 * delta / baseline_total
    # compared without division, so a drop of exactly 50 % is a response whatever the baseline
    response = (
        None if baseline_total == 0 else -delta * 100 >= rules.response_drop_pct * baseline_total
    )
    remission = None if rules.remission_below is None else total < rules.remission_below
    meaningful = None if rules.meaningful_change is None else abs(delta) >= rules.meaningful_change
    return Change(
        baseline_total=baseline_total,
        total=total,
        change=delta,
        change_pct=pct,
        response=response,
        remission=remission,
        meaningful=meaningful,
    )
