"""Malformed input against the fake (hypothesis; derandomized in CI, bounded examples).

Random requests under each product -- paths built from the product's resource names, real
SIDs, malformed SIDs and junk; every method; form fields with odd values; huge, binary and
JSON bodies; wrong content types; bad ``Authorization`` headers; query strings; ``If-Match``;
path-prefix and ``Host``-header routing -- are sent to the app in-process (Flask test
client). Properties:

- never a 5xx, never a traceback or source path in a body;
- every error is Twilio-shaped (``schemas.validate("twilio/error", body)``) and a 4xx;
- a rejected request (4xx) changes nothing (``state.dump()`` before == after), and neither
  does any GET, HEAD or OPTIONS.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemas
from fake_twilio import create_app, state_of
from fake_twilio.control.facade import FakeControl

from .support import SOAK, Figures, knob

pytestmark = pytest.mark.soak

EXAMPLES = knob("fuzz_examples", 200, 5000)
#: Characters for generated names and values: letters, digits, URL and form metacharacters,
#: controls, non-ASCII (2-, 3- and 4-byte UTF-8), a right-to-left override and a BOM.
TRICKY = st.sampled_from(
    [
        *"aZ09-_.~ /?#&=%+;:@!$'()*,[]{}\"|<>^`",
        *("\x00", "\x1f", "\x7f", "\x85", "\t", "\n", "\r"),
        *("é", "ü", "€", "\u202e", "\ufeff", "𝄞"),
    ]
)

PRODUCTS = {
    "video": ["Rooms", "Participants", "PublishedTracks", "SubscribedTracks", "Recordings"],
    "media": ["PlayerStreamers", "MediaProcessors", "PlaybackGrant", "TimedMetadata"],
    "sync": [
        "Services",
        "Documents",
        "Maps",
        "Lists",
        "Items",
        "Permissions",
        "Streams",
        "Messages",
    ],
    "conversations": [
        "Services",
        "Conversations",
        "Participants",
        "Messages",
        "Users",
        "Configuration",
        "Webhooks",
    ],
}
#: Route shapes of each product (``{}`` = an identifier slot: a real SID or name, a malformed
#: SID, or junk), so most requests get past routing to authentication and validation.
TEMPLATES = {
    "video": ["Rooms", "Rooms/{}", "Rooms/{}/Participants", "Rooms/{}/Participants/{}"],
    "media": [
        "PlayerStreamers",
        "PlayerStreamers/{}",
        "PlayerStreamers/{}/PlaybackGrant",
        "MediaProcessors",
        "MediaProcessors/{}",
    ],
    "sync": ["Services", "Services/{}"]
    + [f"Services/{{}}/{kind}" for kind in ("Documents", "Maps", "Lists", "Streams")]
    + [f"Services/{{}}/{kind}/{{}}" for kind in ("Documents", "Maps", "Lists", "Streams")]
    + [f"Services/{{}}/{kind}/{{}}/Items" for kind in ("Maps", "Lists")]
    + [f"Services/{{}}/{kind}/{{}}/Items/{{}}" for kind in ("Maps", "Lists")]
    + [f"Services/{{}}/{kind}/{{}}/Permissions" for kind in ("Documents", "Maps", "Lists")]
    + [f"Services/{{}}/{kind}/{{}}/Permissions/{{}}" for kind in ("Documents", "Maps", "Lists")]
    + ["Services/{}/Streams/{}/Messages"],
    "conversations": [
        "Services",
        "Services/{}",
        "Conversations",
        "Conversations/{}",
        "Conversations/{}/Participants",
        "Conversations/{}/Participants/{}",
        "Services/{}/Conversations",
        "Services/{}/Conversations/{}",
        "Services/{}/Conversations/{}/Participants",
        "Services/{}/Conversations/{}/Participants/{}",
    ],
}
FIELDS = [
    "UniqueName",
    "FriendlyName",
    "Type",
    "Status",
    "StatusCallback",
    "StatusCallbackMethod",
    "MaxParticipants",
    "Video",
    "MaxDuration",
    "Extension",
    "ExtensionContext",
    "Ttl",
    "Data",
    "Key",
    "Read",
    "Write",
    "Manage",
    "AclEnabled",
    "WebhookUrl",
    "ItemTtl",
    "CollectionTtl",
    "Identity",
    "Attributes",
    "Timers.Closed",
    "AccessControlAllowOrigin",
    "EmptyRoomTimeout",
    "PageSize",
    "Page",
    "PageToken",
    "Order",
    "From",
    "Bounds",
]
ODD_VALUES = [
    "",
    " ",
    "null",
    "true",
    "false",
    "-1",
    "0",
    "1e309",
    "NaN",
    "99999999999999999999",
    "{}",
    "[]",
    '{"a":',
    '{"a": 1}',
    "[1,2,3]",
    '"str"',
    "\x00",
    "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
    "ü" * 400,
    "x" * 20_000,
    "RM" + "0" * 32,
    "IS" + "f" * 32,
    "https://example.invalid/cb",
    "javascript:alert(1)",
    "../../etc/passwd",
    "%00",
    "completed",
    "ended",
    "in-progress",
    "group",
    "go",
]
BAD_SIDS = [
    "RM",
    "RM" + "0" * 31,
    "RM" + "0" * 33,
    "RM" + "G" * 32,
    "rm" + "0" * 32,
    "XX" + "0" * 32,
    "IS" + "0" * 32,
    "VJ" + "A" * 32,
    "ZX" + "0" * 32,
    "CH" + "0" * 32,
    "MB" + "0" * 32,
    "%2e%2e",
    "..",
    ".",
    "%00",
    "%ff",
    "%E2%80%AE",
    "a" * 2000,
    "null",
    "-1",
    "0",
    "*",
]
CONTENT_TYPES = [
    None,
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=bogus",
    "application/json",
    "text/plain",
    "multipart/form-data",
    "multipart/form-data; boundary=xyz",
    "application/octet-stream",
    "*/*",
    "garbage",
]
HUGE = [b"A" * (2 * 1024 * 1024), b"Data=" + b"%41" * (400 * 1024), bytes(range(256)) * 5000]
HOSTS = ["{p}.twilio.com", "{p}.dublin.ie1.twilio.com", "{p}.TWILIO.com", "api.twilio.com"]
METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()


@pytest.fixture(scope="module")
def fuzz_target() -> dict[str, Any]:
    """A fake with one of everything (so paths can hit real resources) and a frozen clock."""
    app = create_app()
    state = state_of(app)
    state.clock.freeze()
    control = FakeControl(state)
    other = control.create_account("other tenant")
    creds = state.default_credentials
    client = app.test_client()
    auth = {"Authorization": "Basic " + b64(f"{creds.account_sid}:{creds.auth_token}")}

    def ok(path: str, data: dict[str, str]) -> dict[str, Any]:
        response = client.post(path, data=data, headers=auth)
        assert response.status_code in (200, 201), (path, response.get_json())
        return response.get_json()

    room = ok("/video/v1/Rooms", {"UniqueName": "fuzz-room"})
    streamer = ok("/media/v1/PlayerStreamers", {"Video": "true"})
    processor = ok(
        "/media/v1/MediaProcessors",
        {
            "Extension": "video-composer-v2",
            "ExtensionContext": json.dumps(
                {"room": {"name": room["sid"]}, "outputs": [streamer["sid"]]}
            ),
        },
    )
    service = ok("/sync/v1/Services", {"FriendlyName": "fuzz"})
    base = f"/sync/v1/Services/{service['sid']}"
    sync_map = ok(f"{base}/Maps", {"UniqueName": "m"})
    ok(f"{base}/Maps/m/Items", {"Key": "k", "Data": "{}"})
    document = ok(f"{base}/Documents", {"UniqueName": "d", "Data": "{}"})
    sync_list = ok(f"{base}/Lists", {"UniqueName": "l"})
    ok(f"{base}/Lists/l/Items", {"Data": "{}"})
    # Each account's product backends (and Twilio's default Conversation Service, which always
    # exists) are made by the fake on first use: materialize them now, so that a rejected
    # request that happens to come first does not count as a state change.
    other_auth = {"Authorization": "Basic " + b64(f"{other['account_sid']}:{other['auth_token']}")}
    for headers in (auth, other_auth):
        for path in (
            "/video/v1/Rooms",
            "/media/v1/PlayerStreamers",
            "/sync/v1/Services",
            "/conversations/v1/Conversations",
        ):
            assert client.get(path, headers=headers).status_code == 200
    chat = ok("/conversations/v1/Services", {"FriendlyName": "fuzz"})
    conversation = ok(
        f"/conversations/v1/Services/{chat['sid']}/Conversations", {"UniqueName": "c"}
    )
    participant = ok(
        f"/conversations/v1/Services/{chat['sid']}/Conversations/{conversation['sid']}/Participants",
        {"Identity": "alice"},
    )
    sids = [
        room["sid"],
        streamer["sid"],
        processor["sid"],
        service["sid"],
        sync_map["sid"],
        document["sid"],
        sync_list["sid"],
        chat["sid"],
        conversation["sid"],
        participant["sid"],
        "m",
        "d",
        "l",
        "k",
        "0",
        "fuzz-room",
        "c",
        "alice",
    ]
    auths = [
        auth["Authorization"],
        "Basic " + b64(f"{creds.api_key_sid}:{creds.api_key_secret}"),
        "Basic " + b64(f"{other['account_sid']}:{other['auth_token']}"),
        "Basic " + b64(f"{creds.account_sid}:wrong"),
        "Basic " + b64(f"{creds.account_sid}"),
        "Basic " + b64(":"),
        "Basic !!!notbase64",
        "Basic " + b64("\ud800:\udfff"),
        "Bearer " + creds.auth_token,
        "Basic",
        "",
        None,
    ]
    return {"app": app, "state": state, "sids": sids, "auths": auths}


def request_strategy(sids: list[str], auths: list[str | None]) -> st.SearchStrategy[dict]:
    segment_text = st.text(alphabet=TRICKY, min_size=1, max_size=12)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        product = draw(st.sampled_from(sorted(PRODUCTS)))
        slot = st.one_of(
            st.sampled_from(sids), st.sampled_from(sids), st.sampled_from(BAD_SIDS), segment_text
        )
        if draw(st.integers(0, 4)):  # mostly real route shapes
            template = draw(st.sampled_from(TEMPLATES[product]))
            segments = [draw(slot) if part == "{}" else part for part in template.split("/")]
        else:  # sometimes anything
            segments = draw(
                st.lists(
                    st.one_of(st.sampled_from(PRODUCTS[product]), slot), min_size=0, max_size=6
                )
            )
        path = "/v1/" + "/".join(quote(segment, safe="%:@!$&'()*+,;=") for segment in segments)
        host = None
        if draw(st.booleans()):
            path = f"/{product}{path}"
        else:
            host = draw(st.sampled_from(HOSTS)).format(p=product)
        method = draw(st.sampled_from([*METHODS, "GET", "POST", "POST", "DELETE"]))
        content_type = draw(st.sampled_from(CONTENT_TYPES))
        body_kind = draw(st.sampled_from(["none", "form", "form", "binary", "json", "huge"]))
        body: Any = None
        if body_kind == "form":
            body = draw(
                st.lists(
                    st.tuples(
                        st.one_of(st.sampled_from(FIELDS), st.text(TRICKY, max_size=8)),
                        st.one_of(st.sampled_from(ODD_VALUES), st.text(TRICKY, max_size=40)),
                    ),
                    max_size=8,
                )
            )
            content_type = content_type or "application/x-www-form-urlencoded"
        elif body_kind == "binary":
            body = draw(st.binary(max_size=512))
        elif body_kind == "json":
            body = json.dumps(
                draw(st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(ODD_VALUES)))
            ).encode()
        elif body_kind == "huge":
            body = draw(st.sampled_from(HUGE))
        query = draw(
            st.lists(
                st.tuples(st.sampled_from(FIELDS), st.sampled_from(ODD_VALUES[:22])), max_size=3
            )
        )
        headers: dict[str, str] = {}
        authorization = draw(st.sampled_from(auths[:1] * 6 + auths))
        if authorization is not None:
            headers["Authorization"] = authorization
        if draw(st.integers(0, 4)) == 0:
            headers["If-Match"] = draw(st.sampled_from(["*", "0", "1", "-1", "abc", ""]))
        if host is not None:
            headers["Host"] = host
        if content_type is not None:
            headers["Content-Type"] = content_type
        return {"method": method, "path": path, "query": query, "body": body, "headers": headers}

    return build()


def send(app: Any, req: dict[str, Any]) -> Any:
    body = req["body"]
    if isinstance(body, list):
        from urllib.parse import urlencode

        body = urlencode(body).encode("utf-8", "surrogatepass")
    headers = dict(req["headers"])
    base_url = f"https://{headers.pop('Host')}" if "Host" in headers else "http://localhost"
    return app.test_client().open(
        req["path"],
        method=req["method"],
        base_url=base_url,
        query_string=req["query"],
        data=body,
        headers=headers,
    )


def test_malformed_requests_get_twilio_shaped_4xx_and_change_nothing(
    fuzz_target: dict[str, Any], figures: Figures
) -> None:
    app, state = fuzz_target["app"], fuzz_target["state"]
    tally = {"sent": 0, "4xx": 0, "2xx": 0, "unchanged_checked": 0}
    statuses: dict[int, int] = {}

    @settings(
        max_examples=EXAMPLES,
        derandomize=not SOAK,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(req=request_strategy(fuzz_target["sids"], fuzz_target["auths"]))
    def check(req: dict[str, Any]) -> None:
        before = json.dumps(state.dump())
        response = send(app, req)
        status = response.status_code
        text = response.get_data(as_text=True)
        tally["sent"] += 1
        statuses[status] = statuses.get(status, 0) + 1
        assert status < 500, (status, req["method"], req["path"], text[:300])
        assert "Traceback" not in text and '.py"' not in text and ".py:" not in text
        read_only = req["method"] in ("GET", "HEAD", "OPTIONS")
        if status >= 400:
            tally["4xx"] += 1
            if req["method"] != "HEAD":
                schemas.validate("twilio/error", json.loads(text))
        elif status >= 300:
            pytest.fail(f"unexpected redirect {status} for {req['method']} {req['path']}")
        else:
            tally["2xx"] += 1
            if text and req["method"] != "HEAD":
                json.loads(text)
        if status >= 400 or read_only:
            tally["unchanged_checked"] += 1
            assert json.dumps(state.dump()) == before, (
                status,
                req["method"],
                req["path"],
            )

    check()
    figures.add(
        requests=tally["sent"],
        rejected_4xx=tally["4xx"],
        accepted_2xx=tally["2xx"],
        state_unchanged_checks=tally["unchanged_checked"],
        statuses={str(k): v for k, v in sorted(statuses.items())},
        failures_found=0,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/conversations/v1/Services//0",
        "/sync/v1//Services",
        "/sync/v1/Services/IS00000000000000000000000000000000//Maps",
        "/video/v1/Rooms//Participants",
        "/media/v1//PlayerStreamers",
    ],
)
def test_paths_with_empty_segments_are_twilio_404s_not_redirects(path: str) -> None:
    """Found by the fuzz run: werkzeug's slash merging answered these with an HTML 308
    redirect (Twilio answers a 404 in its error shape)."""
    app = create_app()
    creds = state_of(app).default_credentials
    auth = {"Authorization": "Basic " + b64(f"{creds.account_sid}:{creds.auth_token}")}
    for method in ("GET", "POST", "DELETE"):
        response = app.test_client().open(path, method=method, headers=auth)
        assert response.status_code == 404, (method, path, response.status_code)
        body = response.get_json()
        schemas.validate("twilio/error", body)
        assert body["code"] == 20404
