"""``somatrace --help`` and every sub-command's help: flags shown as flags, every option visible, and
every option a message tells users to pass (``pass --strap``, ``somatrace record --transport ...``)
present in the help of the command it names."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from somatrace.cli import app

REPO = Path(__file__).resolve().parents[3]
#: Modules whose strings are shown to users of the command line.
MESSAGE_SOURCES = [
    REPO / "collector" / "cli.py",
    REPO / "collector" / "emulation" / "README.md",
    REPO / "analysis" / "cli.py",
    *sorted((REPO / "api" / "commands").glob("*.py")),
    *sorted((REPO / "somatrace").rglob("*.py")),
]
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")
COMMAND_LINE = re.compile(r"somatrace ((?:[a-z][a-z-]+)(?: [a-z][a-z-]+)?)((?: [^\n`'\"]*)?)")


def command_paths() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = [()]

    def walk(group: Any, prefix: tuple[str, ...]) -> None:
        if hasattr(group, "commands"):  # a group (typer's own click-like classes)
            for name, sub in group.commands.items():
                paths.append((*prefix, name))
                walk(sub, (*prefix, name))

    walk(root, ())
    return paths


def help_of(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


HELP = {path: help_of(path) for path in command_paths()}


@pytest.mark.parametrize("path", list(HELP), ids=lambda p: " ".join(p) or "somatrace")
def test_flags_are_shown_as_flags_and_no_option_is_hidden(path: tuple[str, ...]) -> None:
    text = HELP[path]
    assert "<bool>" not in text
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    for param in command.params:
        if param.param_type_name == "option":
            assert not param.hidden, f"{' '.join(path)}: {param.opts} is hidden"
            assert any(opt in text for opt in param.opts), f"{param.opts} missing from help"


def test_root_help_shows_version_and_verbose_as_flags() -> None:
    lines = {line.split()[0].rstrip(","): line for line in HELP[()].splitlines() if "--" in line}
    assert lines["--version"].split()[:2] == ["--version", "Print"]
    assert lines["-v"].split()[:3] == ["-v,", "--verbose", "Log"]


def test_record_help_shows_the_transport_strap_emulator_asks_for() -> None:
    assert "--transport TRANSPORT" in HELP[("record",)]
    assert "--transport" in HELP[("scan",)] and "--transport" in HELP[("pair",)]


def strings_of(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return [text]
    return [
        node.value
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_every_option_a_message_names_is_in_that_commands_help() -> None:
    all_help = "\n".join(HELP.values())
    checked = 0
    for source in MESSAGE_SOURCES:
        for text in strings_of(source):
            for match in COMMAND_LINE.finditer(text):
                words = match.group(1).split()
                path = tuple(words) if tuple(words) in HELP else tuple(words[:1])
                if path not in HELP:
                    continue
                for option in OPTION.findall(match.group(2)):
                    checked += 1
                    assert option in HELP[path], (
                        f"{source.name}: `somatrace {' '.join(path)} {option}`"
                    )
            for option in OPTION.findall(text):
                if option in {"--help"}:
                    continue
                checked += 1
                assert option in all_help, f"{source.name} names {option}, which no help shows"
    assert checked > 20
