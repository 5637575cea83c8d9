"""The OpenAPI 3.1 export built by ``schemas.openapi.build_openapi``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

import schemas
from schemas import catalog
from schemas.openapi import build_openapi, component_name

DOC = build_openapi()
COMPONENT_TO_SCHEMA = {component_name(n): n for n in schemas.names()}


def _media_examples(doc: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(where, component name, example value) for every example of every media type."""
    for path, item in doc["paths"].items():
        operation = item["post"]
        bodies = [("request", operation["requestBody"])]
        bodies += [(status, r) for status, r in operation["responses"].items()]
        for where, body in bodies:
            for media in body.get("content", {}).values():
                component = media["schema"]["$ref"].removeprefix("#/components/schemas/")
                for key, example in media.get("examples", {}).items():
                    yield f"{path} {where} {key}", component, example["value"]


def test_document_passes_the_openapi_31_validator() -> None:
    validate(DOC)
    validate(DOC, cls=OpenAPIV31SpecValidator)
    assert DOC["openapi"].startswith("3.1.")


def test_document_is_json_and_self_contained() -> None:
    text = json.dumps(DOC)
    assert "live-conformance.example" not in text  # every $ref and $id was rewritten
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(DOC)
    assert refs and all(r.startswith("#/components/schemas/") for r in refs)


def test_every_protocol_schema_is_a_component() -> None:
    components = DOC["components"]["schemas"]
    for name in schemas.names("protocol"):
        assert component_name(name) in components


def test_every_endpoint_has_an_operation() -> None:
    assert set(DOC["paths"]) == {f"/{e.name}" for e in catalog.ENDPOINTS}
    ids = [item["post"]["operationId"] for item in DOC["paths"].values()]
    assert len(ids) == len(set(ids))


def test_passcode_is_an_api_key_on_the_authorization_header() -> None:
    scheme = DOC["components"]["securitySchemes"]["passcode"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "Authorization"}
    for endpoint in catalog.CLIENT_ENDPOINTS:
        assert DOC["paths"][f"/{endpoint.name}"]["post"]["security"] == [{"passcode": []}]
    for endpoint in catalog.WEBHOOK_ENDPOINTS:
        assert DOC["paths"][f"/{endpoint.name}"]["post"]["security"] == [{"twilioSignature": []}]


@pytest.mark.parametrize("endpoint", catalog.ENDPOINTS, ids=lambda e: e.name)
def test_operation_has_examples_and_every_error_response(endpoint: catalog.Endpoint) -> None:
    operation = DOC["paths"][f"/{endpoint.name}"]["post"]
    for media in operation["requestBody"]["content"].values():
        assert media["examples"]
    responses = operation["responses"]
    expected = {case.status for case in endpoint.all_errors()}
    if endpoint.kind == "client":
        assert responses["200"]["content"]["application/json"]["examples"]
        assert {"400", "401", "429"} <= expected
    else:
        assert "2XX" in responses
        assert "403" in expected
    assert expected <= set(responses)
    for status in expected:
        media = responses[status]["content"]["application/json"]
        assert media["schema"] == {"$ref": "#/components/schemas/error"}
        messages = {ex["value"]["error"]["message"] for ex in media["examples"].values()}
        assert messages == {c.message for c in endpoint.all_errors() if c.status == status}


def test_every_client_endpoint_documents_the_413() -> None:
    for endpoint in catalog.ENDPOINTS:
        responses = DOC["paths"][f"/{endpoint.name}"]["post"]["responses"]
        if endpoint.kind != "client":
            assert "413" not in responses
            continue
        media = responses["413"]["content"]["application/json"]
        assert media["schema"] == {"$ref": "#/components/schemas/error"}
        (example,) = media["examples"].values()
        assert example["value"]["error"]["message"] == "request body too large"


def test_status_codes_of_domain_errors() -> None:
    paths = DOC["paths"]
    assert "409" in paths["/create-stream"]["post"]["responses"]
    for name in ("join-stream-as-viewer", "send-speaker-invite", "remove-speaker", "delete-stream"):
        assert "404" in paths[f"/{name}"]["post"]["responses"]
    for item in paths.values():
        assert "5XX" in item["post"]["responses"]


@pytest.mark.parametrize(("where", "component", "value"), list(_media_examples(DOC)))
def test_example_validates_against_the_shipped_schema(
    where: str, component: str, value: Any
) -> None:
    schemas.validate(COMPONENT_TO_SCHEMA[component], value)


@pytest.mark.parametrize(("where", "component", "value"), list(_media_examples(DOC)))
def test_example_validates_against_the_embedded_component(
    where: str, component: str, value: Any
) -> None:
    # Resolves the rewritten refs inside the OpenAPI document itself, proving the copy is sound.
    root = {"$ref": f"#/components/schemas/{component}", "components": DOC["components"]}
    errors = list(Draft202012Validator(root).iter_errors(value))
    assert not errors, [e.message for e in errors]


def test_embedded_component_rejects_known_bad_documents() -> None:
    def check(component: str, value: Any) -> bool:
        root = {"$ref": f"#/components/schemas/{component}", "components": DOC["components"]}
        return Draft202012Validator(root).is_valid(value)

    assert not check("error", {"error": {"message": "m"}})
    assert not check("error", {"error": {"message": "", "explanation": "e"}})
    assert check("error", {"error": {"message": "m", "explanation": "e", "x": 1}})  # ignored
    assert not check("create-stream.request", {"user_identity": "a" * 122, "stream_name": "s"})
    assert check("create-stream.request", {"user_identity": "a", "stream_name": "s"})


def test_server_url_argument() -> None:
    doc = build_openapi("https://backend.example/api")
    assert doc["servers"] == [{"url": "https://backend.example/api"}]
    validate(doc)
    assert build_openapi() == DOC  # deterministic, and a fresh object every time
    assert build_openapi() is not DOC


# -- request variants of the optional capabilities ---------------------------------------------
@pytest.mark.parametrize("endpoint", catalog.CLIENT_ENDPOINTS, ids=lambda e: e.name)
def test_form_body_variant_is_declared_as_an_optional_capability(
    endpoint: catalog.Endpoint,
) -> None:
    content = DOC["paths"][f"/{endpoint.name}"]["post"]["requestBody"]["content"]
    form = content["application/x-www-form-urlencoded"]
    assert form["schema"] == content["application/json"]["schema"]
    assert form["x-capability"] == "form-body" and form["x-optional"] is True


@pytest.mark.parametrize("endpoint", catalog.CLIENT_ENDPOINTS, ids=lambda e: e.name)
def test_get_query_variant_is_declared_as_an_optional_capability(
    endpoint: catalog.Endpoint,
) -> None:
    item = DOC["paths"][f"/{endpoint.name}"]
    get, post = item["get"], item["post"]
    assert get["x-capability"] == "get-query" and get["x-optional"] is True
    assert "get-query" in get["description"]
    assert "requestBody" not in get and get["security"] == post["security"]
    request_schema = schemas.load(endpoint.request_schema)
    component = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert [p["name"] for p in get["parameters"]] == list(endpoint.params)
    for parameter in get["parameters"]:
        assert parameter["in"] == "query"
        assert parameter["required"] is (parameter["name"] in request_schema["required"])
        assert parameter["schema"] == {"$ref": f"{component}/properties/{parameter['name']}"}
    # the same answers as the POST, except the 413 (no body)
    assert set(get["responses"]) == set(post["responses"]) - {"413"}
    assert "links" not in get["responses"]["200"]
    if endpoint.capability:
        assert get["x-capabilities"] == ["get-query", endpoint.capability]


def test_operation_ids_are_unique_across_methods() -> None:
    ids = [op["operationId"] for item in DOC["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_the_413_is_declared_on_every_body_taking_client_operation() -> None:
    for endpoint in catalog.CLIENT_ENDPOINTS:
        item = DOC["paths"][f"/{endpoint.name}"]
        assert "413" in item["post"]["responses"] and "413" not in item["get"]["responses"]


# -- links (stateful fuzzing) ------------------------------------------------------------------
def _links() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, name, link)
        for path, item in DOC["paths"].items()
        for name, link in item["post"]["responses"].get("200", {}).get("links", {}).items()
    ]


def test_links_reach_every_stateful_client_operation_from_create_stream() -> None:
    by_id = {item["post"]["operationId"]: path for path, item in DOC["paths"].items()}
    edges: dict[str, set[str]] = {}
    for path, _, link in _links():
        edges.setdefault(path, set()).add(by_id[link["operationId"]])
    reached, todo = {"/create-stream"}, ["/create-stream"]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in reached:
                reached.add(target)
                todo.append(target)
    stateful = {f"/{e.name}" for e in catalog.CLIENT_ENDPOINTS if e.params}
    assert reached == stateful


@pytest.mark.parametrize(("path", "name", "link"), _links(), ids=lambda v: str(v)[:40])
def test_link_expressions_name_real_members(path: str, name: str, link: dict[str, Any]) -> None:
    post = DOC["paths"][path]["post"]
    source_request = schemas.load(COMPONENT_TO_SCHEMA[_component(post["requestBody"])])
    response_component = post["responses"]["200"]["content"]["application/json"]["schema"]
    example = schemas.load(COMPONENT_TO_SCHEMA[response_component["$ref"].split("/")[-1]])
    target = next(
        item["post"]
        for item in DOC["paths"].values()
        if item["post"]["operationId"] == link["operationId"]
    )
    target_properties = schemas.load(COMPONENT_TO_SCHEMA[_component(target["requestBody"])])[
        "properties"
    ]
    assert link["description"]
    for member, expression in link["requestBody"].items():
        assert member in target_properties
        where, _, pointer = expression.partition("#/")
        if where == "$request.body":
            assert pointer in source_request["properties"]
        else:
            assert where == "$response.body" and pointer in example["examples"][0]


def _component(request_body: dict[str, Any]) -> str:
    ref: str = request_body["content"]["application/json"]["schema"]["$ref"]
    return ref.removeprefix("#/components/schemas/")


# -- patterns common regex engines compile -------------------------------------------------------
def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def test_no_pattern_names_a_surrogate_code_point() -> None:
    # Engines working on Unicode scalar values (Rust's regex, as in jsonschema-rs, which
    # Schemathesis uses) refuse \uD800-\uDFFF; the surrogates are excluded by spanning them.
    import re

    patterns = set(_patterns(DOC))
    assert patterns
    for pattern in patterns:
        assert not re.search(r"\\u[dD][89a-fA-F]", pattern), pattern
        re.compile(pattern)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("Jürgen 🎥", True),
        ("\ud7ff\ue000\uffff\U0010ffff", True),  # the neighbours of the surrogates stay valid
        ("a\u00a0b", True),
        ("\ud800", False),
        ("a\udfffb", False),
        ("\udcff", False),  # what an undecodable %FF of a form or query value becomes
        ("\x00", False),
        ("\x1f", False),
        ("\x7f", False),
        ("\x9f", False),
    ],
)
def test_plain_text_pattern_keeps_its_meaning(text: str, valid: bool) -> None:
    import re

    body = {"user_identity": text, "stream_name": "s"}
    assert schemas.is_valid("protocol/create-stream.request", body) is valid
    names = DOC["components"]["schemas"]["common"]["$defs"]["user-sync-object-names"]
    pattern = names["properties"]["user_document"]["pattern"]
    assert (re.search(pattern, f"user-{text}") is not None) is valid


def test_patterns_compile_in_jsonschema_rs() -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    for pattern in set(_patterns(DOC)):
        jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
