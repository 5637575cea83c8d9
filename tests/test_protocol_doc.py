"""docs/PROTOCOL.md against its machine-readable twins.

Conventions checked here: every fenced ```json block is preceded (blank lines allowed) by
``<!-- schema: <name> -->`` (must validate), ``<!-- invalid: <name> -->`` (must not validate)
or ``<!-- schema: none -->``; the requirements table of section 8 lists exactly the
requirements of ``schemas/protocol/requirements.json``, in the same order, with the same
level, capability, title and text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import schemas
from schemas import catalog

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "PROTOCOL.md"
DOC = DOC_PATH.read_text(encoding="utf-8")
REQUIREMENTS = schemas.requirements()
GROUPS = ["AUTH", "ERR", "IN", "RESP", "TOK", "STATE", "FLOW", "IDEM", "SEC", "WH", "PROP"]
CAPABILITIES = {None, "form-body", "get-query", "chat"}
ID_RE = re.compile(r"\b(" + "|".join(GROUPS) + r")-(\d+)\b")
BLOCK_RE = re.compile(
    r"(?:<!--\s*(?P<kind>schema|invalid):\s*(?P<name>[\w./-]+)\s*-->\s*\n)?"
    r"```json\n(?P<body>.*?)\n```",
    re.S,
)


def _section(title_prefix: str) -> str:
    """Text of the ``##`` section whose heading starts with ``title_prefix``."""
    match = re.search(rf"^## {re.escape(title_prefix)}.*?$(.*?)(?=^## |\Z)", DOC, re.S | re.M)
    assert match, f"no section {title_prefix!r}"
    return match.group(1)


def _endpoint_section(name: str) -> str:
    match = re.search(rf"^### [\d.]+ `{re.escape(name)}`$(.*?)(?=^##|\Z)", DOC, re.S | re.M)
    assert match, f"no section for {name}"
    return match.group(1)


def _json_blocks() -> list[tuple[int, str | None, str | None, str]]:
    blocks = []
    for m in BLOCK_RE.finditer(DOC):
        line = DOC.count("\n", 0, m.start("body"))
        blocks.append((line, m.group("kind"), m.group("name"), m.group("body")))
    return blocks


BLOCKS = _json_blocks()


def _table_rows() -> list[list[str]]:
    rows = []
    for line in _section("8. Requirements").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and ID_RE.fullmatch(cells[0]):
            rows.append(cells)
    return rows


# -- requirements.json ---------------------------------------------------------------------


def test_requirements_json_is_well_formed() -> None:
    assert 40 <= len(REQUIREMENTS) <= 90
    keys = {"id", "group", "level", "capability", "title", "text", "rationale", "impact"}
    for item in REQUIREMENTS:
        assert set(item) == keys, item["id"]
        group, number = item["id"].rsplit("-", 1)
        assert group == item["group"] and group in GROUPS
        assert number.isdigit() and not number.startswith("0")
        assert item["level"] in {"MUST", "SHOULD", "MAY"}
        assert item["capability"] in CAPABILITIES
        for key in ("title", "text", "rationale", "impact"):
            assert isinstance(item[key], str) and item[key].strip(), (item["id"], key)
        assert "\n" not in item["title"] and len(item["title"]) <= 80


def test_requirement_ids_are_unique_grouped_and_contiguous() -> None:
    ids = [r["id"] for r in REQUIREMENTS]
    assert len(ids) == len(set(ids))
    groups_in_order = list(dict.fromkeys(r["group"] for r in REQUIREMENTS))
    assert groups_in_order == GROUPS
    for group in GROUPS:
        numbers = [int(r["id"].split("-")[1]) for r in REQUIREMENTS if r["group"] == group]
        assert numbers == list(range(1, len(numbers) + 1)), group


def test_every_capability_gates_at_least_one_requirement() -> None:
    used = {r["capability"] for r in REQUIREMENTS}
    assert used == CAPABILITIES


# -- table <-> json ------------------------------------------------------------------------


def test_table_and_requirements_json_agree() -> None:
    rows = _table_rows()
    assert [r[0] for r in rows] == [r["id"] for r in REQUIREMENTS]
    for cells, item in zip(rows, REQUIREMENTS, strict=True):
        assert len(cells) == 6, cells[0]
        rid, level, capability, title, text, impact = cells
        assert level == item["level"], rid
        assert capability == (item["capability"] or "—"), rid
        assert title == item["title"], rid
        assert text == item["text"], rid
        assert impact == item["impact"], rid


def test_every_requirement_reference_in_the_doc_exists() -> None:
    known = {r["id"] for r in REQUIREMENTS}
    referenced = {m.group(0) for m in ID_RE.finditer(DOC)}
    assert referenced - known == set()
    referenced_in_json = {
        m.group(0)
        for r in REQUIREMENTS
        for m in ID_RE.finditer(r["text"] + r["rationale"] + r["impact"])
    }
    assert referenced_in_json - known == set()


# -- JSON examples ---------------------------------------------------------------------------


def test_doc_has_many_tied_examples() -> None:
    assert len(BLOCKS) >= 40
    assert DOC.count("```json") == len(BLOCKS)


@pytest.mark.parametrize(("line", "kind", "name", "body"), BLOCKS, ids=lambda v: str(v))
def test_json_block_is_tied_to_a_schema_and_matches(
    line: int, kind: str | None, name: str | None, body: str
) -> None:
    assert kind is not None, f"line {line}: json block without a schema comment"
    instance: Any = json.loads(body)
    if name == "none":
        return
    assert name in schemas.names(), f"line {line}: unknown schema {name}"
    if kind == "schema":
        schemas.validate(name, instance)
    else:
        assert not schemas.is_valid(name, instance), f"line {line}: should be invalid"


def test_walkthrough_covers_every_step() -> None:
    walkthrough = _section("10. Walkthrough")
    for endpoint in catalog.CLIENT_ENDPOINTS:
        assert f"`POST /{endpoint.name}`" in walkthrough, endpoint.name
    names = [m.group("name") for m in BLOCK_RE.finditer(walkthrough)]
    assert names.count("protocol/sync.state") >= 7
    for event in ("participant-connected", "participant-disconnected", "room-ended"):
        assert event in walkthrough


# -- endpoints and errors --------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", catalog.ENDPOINTS, ids=lambda e: e.name)
def test_endpoint_section_lists_every_error(endpoint: catalog.Endpoint) -> None:
    section = _endpoint_section(endpoint.name)
    for case in endpoint.errors:
        assert f"`{case.message}`" in section, (endpoint.name, case.message)
        if case.exact:
            assert f"`{case.explanation}` (exact)" in section, (endpoint.name, case.message)
    if endpoint.kind == "client":
        assert f"protocol/{endpoint.name}.response" in section
        for param in endpoint.params:
            assert f"`{param}`" in section


def test_common_errors_are_documented_exactly() -> None:
    conventions = _section("2. Conventions")
    for case in (*catalog.AUTH_ERRORS, catalog.invalid_body_error(), catalog.INTERNAL_ERROR):
        assert f"`{case.message}`" in conventions
        if case.exact:
            assert f"`{case.explanation}` (exact)" in conventions
    assert "`The <param> parameter is missing.` (exact)" in conventions
    for param, explanation in catalog.INVALID_EXPLANATIONS.items():
        assert f"`invalid {param}` | `{explanation}`" in conventions


def test_every_schema_mentioned_exists() -> None:
    mentioned = set(re.findall(r"protocol/[a-z][\w.-]*[a-z]", DOC))
    mentioned -= {"protocol/requirements.json"}
    assert {m.removesuffix(".json") for m in mentioned} <= set(schemas.names("protocol"))


def test_differences_section_lists_the_fixed_bugs() -> None:
    differences = _section("9. Differences")
    items = re.split(r"^\d+\. \*\*", differences, flags=re.M)[1:]
    assert len(items) >= 10
    for needle in (
        "`remove-speaker` requires the passcode",
        "`error updating user  document`",
        "every invitation writes a new revision",
        "host is the host again",
    ):
        assert needle in differences
    # every difference says whether a user of the real apps notices it
    for item in items:
        assert "Client notices:" in item, item[:80]


def test_required_sections_exist() -> None:
    for title in (
        "1. Overview and roles",
        "2. Conventions",
        "3. Client endpoints",
        "4. Webhooks",
        "5. Twilio-side state",
        "6. Tokens",
        "7. Security",
        "8. Requirements",
        "9. Differences from the original backend",
        "10. Walkthrough of one stream",
        "11. Known limitations",
    ):
        assert re.search(rf"^## {re.escape(title)}$", DOC, re.M), title
    for capability in CAPABILITIES - {None}:
        assert "`--capability NAME`" in DOC and f"`{capability}`" in DOC
