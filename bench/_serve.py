"""The server side of benchmark 3, run in its own process (``python -m bench._serve``).

Serves, on 127.0.0.1 and the same stack (werkzeug's threaded server, quiet handler):
a fake (:class:`fake_twilio.server.FakeServer`) seeded with one room and one Sync map, and a
bare Flask app whose one route does nothing. Prints one JSON line (ports, SIDs, the
Authorization header) once both accept connections, then serves until its standard input is
closed. A separate process keeps the load generator's threads off the servers' GIL.
"""

from __future__ import annotations

import base64
import json
import sys
import threading

from flask import Flask
from werkzeug.serving import make_server

from fake_twilio.server import FakeServer, _QuietHandler

CLIENT_KEYS = 64


def bare_app() -> Flask:
    app = Flask("bare")

    @app.route("/bare", methods=["GET", "POST"])
    def bare() -> str:
        return "{}"

    return app


def main() -> int:
    fake = FakeServer().start()
    state = fake.state
    creds = state.default_credentials
    with state.locked():
        video = state.backend(creds.account_sid, "video")
        room = video.create_room(type="group", unused_room_timeout=60)
        sync = state.backend(creds.account_sid, "sync")
        service = sync.create_service(friendly_name="bench")
        sync.create_object("map", service.sid, unique_name="bench")
        for k in range(CLIENT_KEYS):
            sync.create_item("map", service.sid, "bench", key=f"k{k}", data={"n": 0})
    bare = make_server("127.0.0.1", 0, bare_app(), threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=bare.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    basic = base64.b64encode(f"{creds.account_sid}:{creds.auth_token}".encode()).decode()
    info = {
        "fake_port": fake.port,
        "bare_port": bare.port,
        "room_sid": room.sid,
        "service_sid": service.sid,
        "map": "bench",
        "keys": CLIENT_KEYS,
        "authorization": f"Basic {basic}",
    }
    print(json.dumps(info), flush=True)
    try:
        sys.stdin.read()
    finally:
        bare.shutdown()
        bare.server_close()
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
