"""The redactor masks a secret in every form output can give it, not only the raw one."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

import pytest

from graylog_installer.redact import MASK, Redactor

# What an operator may choose as the admin password: a quote, a backslash, non-ASCII
# letters and characters that URL encoding changes.
SECRET = 'Zü"rich\\Pass&wörd=+/%'


def basic_header(user: str, password: str) -> str:
    return "Authorization: Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


RENDERINGS = {
    "raw": lambda s: f"password={s}",
    "json ascii": lambda s: json.dumps({"password": s}),
    "json utf-8": lambda s: json.dumps({"password": s}, ensure_ascii=False),
    "json inside json": lambda s: json.dumps(json.dumps({"password": s})),
    "url path": lambda s: f"/api/users?password={quote(s, safe='')}",
    "url form": lambda s: f"password={quote_plus(s)}&user=admin",
    "python repr": lambda s: f"args={[s]!r}",
    "python 2 repr": lambda s: "u'" + s.encode("unicode_escape").decode() + "'",
    "basic admin": lambda s: basic_header("admin", s),
    "basic graylog": lambda s: basic_header("graylog", s),
    "basic long user": lambda s: basic_header("operator7", s),
}


@pytest.mark.parametrize("form", sorted(RENDERINGS))
def test_every_rendering_of_the_secret_is_masked(form: str) -> None:
    rendered = RENDERINGS[form](SECRET)
    masked = Redactor([SECRET]).text(rendered)
    assert MASK in masked
    # Nothing that identifies the secret survives: not its distinctive middle either.
    for fragment in ("rich", "Pass", "Zü", "w\\u00f6rd", "w%C3%B6rd"):
        assert fragment not in masked.replace(MASK, "")


@pytest.mark.parametrize("form", sorted(RENDERINGS))
def test_other_text_is_left_as_it_was(form: str) -> None:
    rendered = RENDERINGS[form]("nothing secret here at all")
    assert Redactor([SECRET]).text(rendered) == rendered


def test_basic_header_masked_whatever_precedes_the_secret() -> None:
    redactor = Redactor([SECRET])
    for user in ("a", "ab", "abc", "admin", "administrator"):
        header = basic_header(user, SECRET)
        assert header.split()[-1] not in redactor.text(header)


def test_longest_first_masks_a_secret_containing_another() -> None:
    redactor = Redactor(["abcdefgh", "abcdefghijkl"])
    assert redactor.text("x abcdefghijkl y abcdefgh") == f"x {MASK} y {MASK}"


def test_json_line_masks_an_escaped_secret() -> None:
    line = Redactor([SECRET]).json_line({"msg": f"password is {SECRET}"})
    assert json.loads(line) == {"msg": f"password is {MASK}"}
