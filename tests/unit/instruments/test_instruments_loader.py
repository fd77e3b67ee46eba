"""Definition and protocol files: what a clinic adds loads, and every kind of mistake stops start-up
with an error naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.instruments.errors import InstrumentDefinitionError
from api.instruments.loader import SHIPPED_DEFINITIONS, load_catalog

#: A small valid instrument a clinic might add (not a real published instrument).
CLINIC_FILE = """
format = 1
id = "sleep2"
version = "1.0.0"
title = "Two sleep questions (clinic's own)"
short_title = "Sleep-2"
measures = "sleep trouble"
recall = "the last week"
instructions = "In the last week:"

[licence]
name = "Written by the clinic"
allows_use = true
text = "Written by this clinic's staff for its own use."

[source]
citation = "Clinic handbook, 2026."

[[options]]
value = 0
label = "No"

[[options]]
value = 1
label = "Sometimes"

[[options]]
value = 2
label = "Often"

[[items]]
text = "Did you have trouble falling asleep?"

[[items]]
text = "Did you wake up too early?"

[scoring]
max_total = 4

[[bands]]
min = 0
max = 1
label = "little"

[[bands]]
min = 2
max = 4
label = "some"

[[risk_rules]]
id = "sleep2-total"
label = "Both questions answered 'Often'"
total_at_least = 4
"""


def clinic(tmp_path: Path, text: str, name: str = "sleep2.toml") -> Path:
    folder = tmp_path / "instruments"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def fails(folder: Path) -> InstrumentDefinitionError:
    with pytest.raises(InstrumentDefinitionError) as info:
        load_catalog(folder)
    return info.value


def test_a_clinic_adds_an_instrument_by_adding_a_file(tmp_path: Path) -> None:
    catalog = load_catalog(clinic(tmp_path, CLINIC_FILE))
    assert list(catalog.instruments) == ["phq9", "gad7", "pcl5", "sleep2"]
    sleep2 = catalog.instruments["sleep2"]
    assert sleep2.min_total == 0 and sleep2.scoring.max_total == 4
    assert sleep2.risk_rules[0].total_at_least == 4


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (('max = 4\nlabel = "some"', 'max = 3\nlabel = "some"'), "bands.2.max", "highest total"),
        (("min = 2\nmax = 4", "min = 3\nmax = 4"), "bands.2.min", "without gaps"),
        (("max_total = 4", "max_total = 5"), "scoring.max_total", "add up to 4"),
        (("allows_use = true", "allows_use = false"), "licence.allows_use", "does not allow"),
        (('id = "sleep2"\nversion', 'id = "sleep3"\nversion'), "id", "file name"),
        (("total_at_least = 4", "total_at_least = 9"), "risk_rules.1.total_at_least", "no total"),
        (("total_at_least = 4", "item = 3\nat_least = 1"), "risk_rules.1.item", "no item 3"),
        (
            ('text = "Did you wake up too early?"', 'txt = "Did you wake up too early?"'),
            "items.2.txt",
            "Extra inputs",
        ),
        (
            ('text = "Did you wake up too early?"', 'text = ""'),
            "items.2.text",
            "at least 1 character",
        ),
        (('value = 2\nlabel = "Often"', 'value = 1\nlabel = "Often"'), "options", "distinct"),
        (("format = 1", "format = 2"), "format", "must be 1"),
        (('version = "1.0.0"', 'version = "one"'), "version", "pattern"),
        (("[scoring]\nmax_total = 4", ""), "scoring", "Field required"),
        (('title = "Two', "title = Two"), "(syntax)", "not valid TOML"),
    ],
)
def test_mistakes_name_file_and_field(
    tmp_path: Path, change: tuple[str, str], field: str, words: str
) -> None:
    old, new = change
    assert old in CLINIC_FILE
    folder = clinic(tmp_path, CLINIC_FILE.replace(old, new, 1))
    error = fails(folder)
    assert error.field == field, error.message
    assert error.file.endswith("sleep2.toml")
    assert words in error.message
    assert error.message.startswith(str(folder / "sleep2.toml"))


def test_replacing_a_shipped_instrument_needs_a_new_version(tmp_path: Path) -> None:
    text = (SHIPPED_DEFINITIONS / "phq9.toml").read_text(encoding="utf-8")
    rule = '\n[[risk_rules]]\nid = "phq9-severe"\nlabel = "Total 20 or more"\ntotal_at_least = 20\n'
    error = fails(clinic(tmp_path, text + rule, "phq9.toml"))
    assert error.field == "version"
    folder = clinic(
        tmp_path, text.replace('version = "1.0.0"', 'version = "1.1.0"') + rule, "phq9.toml"
    )
    phq9 = load_catalog(folder).instruments["phq9"]
    assert phq9.version == "1.1.0"
    assert [r.id for r in phq9.risk_rules] == ["phq9-item9", "phq9-severe"]


def test_protocol_templates_are_checked_against_the_instruments(tmp_path: Path) -> None:
    folder = tmp_path / "clinic"
    (folder / "protocols").mkdir(parents=True)
    bad = folder / "protocols" / "short.toml"
    bad.write_text(
        'format = 1\nid = "short"\ntitle = "Short"\ninstruments = ["phq9", "bdi2"]\n'
        '[[after_session]]\nlabel = "day 7"\nfrom_day = 7\nto_day = 7\n',
        encoding="utf-8",
    )
    error = fails(folder)
    assert error.file == str(bad) and error.field == "instruments" and "bdi2" in error.message
    bad.write_text(
        'format = 1\nid = "short"\ntitle = "Short"\ninstruments = ["phq9"]\n'
        '[[after_session]]\nlabel = "day 7"\nfrom_day = 7\nto_day = 8\n'
        '[[after_session]]\nlabel = "day 8"\nfrom_day = 8\nto_day = 8\n',
        encoding="utf-8",
    )
    assert fails(folder).field == "after_session.2.from_day"
    bad.write_text(
        'format = 1\nid = "short"\ntitle = "Short"\ninstruments = ["phq9"]\n'
        '[[after_session]]\nlabel = "day 7"\nfrom_day = 7\nto_day = 7\n',
        encoding="utf-8",
    )
    catalog = load_catalog(folder, "short")
    assert catalog.default_protocol.id == "short" and set(catalog.templates) == {
        "standard",
        "short",
    }


def test_unknown_default_template_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InstrumentDefinitionError) as info:
        load_catalog(None, "nonesuch")
    assert info.value.file == "SOMATRACE_QUESTIONNAIRE_TEMPLATE"
    with pytest.raises(InstrumentDefinitionError) as info:
        load_catalog(tmp_path / "absent")
    assert "not a folder" in info.value.message
