"""Turning Ansible's multi-line error texts into the one line an operator reads."""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_POSITION = re.compile(r"line (\d+), column (\d+)")
# Ansible's preamble and pointers that say nothing about the actual problem.
_NOISE = ("We were unable to read", "JSON:", "The error appears", "be elsewhere in the file")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def summarise_ansible_error(text: str) -> str:
    """'YAML syntax error: <what> (line L, column C)' or the first meaningful line."""
    text = strip_ansi(text).replace("ERROR!", "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(_NOISE)] or lines or [""]
    summary = useful[0].rstrip(".:")
    if summary.startswith("Syntax Error while loading YAML") and len(useful) > 1:
        summary = f"YAML syntax error: {useful[1]}"
    position = _POSITION.search(text)
    if position:
        summary += f" (line {position[1]}, column {position[2]})"
        culprit = re.search(r"The error appears to be in '(.+?)'", text)
        if culprit:
            summary += f" in {culprit[1]}"
    return summary
