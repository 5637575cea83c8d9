"""The official ``twilio`` Node SDK (v5, v4, v3) against a served fake, through fake_twilio/node.

Each major version is installed once with npm into a cache directory (the pytest cache, or
``$FAKE_TWILIO_NODE_CACHE``) and reused by later runs. Tests skip, saying why, when ``node`` or
``npm`` is missing or the install fails (offline). v5 runs in every run; v4 and v3 are marked
``slow`` (``-m "not slow"`` leaves them out). Everything runs on 127.0.0.1 only: the scripts
address the real host names (``video.twilio.com``...) and the module sends them to the fake.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_twilio.node import DIRECTORY as NODE_MODULE
from fake_twilio.node import PRELOAD_JS
from fake_twilio.server import FakeServer

from .helpers import start_served_fake

pytestmark = pytest.mark.server

SCRIPTS = Path(__file__).parent / "node_scripts"
NODE = shutil.which("node")
NPM = shutil.which("npm")
INSTALL_TIMEOUT = 300
RUN_TIMEOUT = 90
CACHE_ENV = "FAKE_TWILIO_NODE_CACHE"


def _node_major() -> int | None:
    if NODE is None:
        return None
    try:
        out = subprocess.run([NODE, "--version"], capture_output=True, text=True, timeout=30)
        return int(out.stdout.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


NODE_MAJOR = _node_major()
needs_node = pytest.mark.skipif(
    NODE_MAJOR is None or NODE_MAJOR < 14,
    reason=f"node >= 14 is needed (found: {NODE or 'no node'}, major {NODE_MAJOR})",
)

VERSIONS = [
    pytest.param(5, id="twilio5"),
    pytest.param(4, id="twilio4", marks=pytest.mark.slow),
    pytest.param(3, id="twilio3", marks=pytest.mark.slow),
]


# -- installing the SDK --------------------------------------------------------------------
def _installed_version(prefix: Path) -> str | None:
    try:
        manifest = json.loads((prefix / "node_modules" / "twilio" / "package.json").read_text())
    except (OSError, ValueError):
        return None
    return manifest.get("version")


def install_twilio(root: Path, major: int) -> tuple[Path | None, str]:
    """``npm install twilio@<major>`` into ``root/twilio-<major>`` (kept); (node_modules, why).

    The install runs in a temporary directory renamed into place when complete, so concurrent
    workers and interrupted runs never leave a half-installed SDK behind.
    """
    target = root / f"twilio-{major}"
    version = _installed_version(target)
    if version and version.startswith(f"{major}."):
        return target / "node_modules", version
    if NPM is None:
        return None, "npm is not installed"
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=f".twilio-{major}-", dir=root))
    try:
        (work / "package.json").write_text(
            json.dumps({"name": f"fake-twilio-sdk-test-{major}", "private": True}) + "\n"
        )
        env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
        try:
            result = subprocess.run(
                [NPM, "install", "--no-audit", "--no-fund", "--loglevel=error", f"twilio@{major}"],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"npm install twilio@{major} failed: {exc}"
        version = _installed_version(work)
        if result.returncode != 0 or not version:
            tail = " ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
            return None, f"npm install twilio@{major} failed (offline?): {tail[:400]}"
        try:
            os.rename(work, target)
        except OSError:  # another worker installed it first
            if not _installed_version(target):
                raise
        return target / "node_modules", version
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def node_cache(request: pytest.FixtureRequest) -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        path = Path(configured)
    elif getattr(request.config, "cache", None) is not None:
        path = Path(request.config.cache.mkdir("twilio-node"))
    else:  # the cache provider is disabled (-p no:cacheprovider)
        path = Path(tempfile.gettempdir()) / "fake-twilio-node-cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def twilio_node(node_cache: Path) -> Callable[[int], Path]:
    """``twilio_node(5)`` -> the node_modules holding twilio@5 (skips when it cannot be had)."""
    results: dict[int, tuple[Path | None, str]] = {}

    def get(major: int) -> Path:
        if NODE_MAJOR is None:
            pytest.skip("node is not installed")
        if major not in results:
            results[major] = install_twilio(node_cache, major)
        modules, detail = results[major]
        if modules is None:
            pytest.skip(detail)
        return modules

    return get


# -- running scripts -----------------------------------------------------------------------
def run_node(
    script: str,
    *args: str,
    env: dict[str, str],
    node_modules: Path | None = None,
    preload: bool = False,
) -> dict[str, Any]:
    """Run ``node [-r preload.js] node_scripts/<script> args``; its last stdout line as JSON."""
    assert NODE is not None
    full_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FAKE_TWILIO_", "TWILIO_", "NODE_OPTIONS"))
    }
    full_env.update({"FAKE_TWILIO_NODE": str(NODE_MODULE), **env})
    if node_modules is not None:
        full_env["NODE_PATH"] = str(node_modules)
    command = [NODE]
    if preload:
        command += ["-r", str(PRELOAD_JS)]
    command += [str(SCRIPTS / script), *args]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=full_env
    )
    assert result.returncode == 0, f"{script} failed ({result.returncode}):\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as served:
        yield served


def _check_full_scenario(out: dict[str, Any], server: FakeServer, major: int) -> None:
    """What sdk_scenario.js printed agrees with what the fake holds (read with the Python SDK)."""
    assert out["version"].startswith(f"{major}.")
    py = server.client()

    room = out["room"]
    assert room["sid"].startswith("RM") and room["status"] == "in-progress"
    assert room["type"] == "group"
    assert out["fetched"] == {"sid": room["sid"], "status": "in-progress"}
    # Two in-progress rooms listed one per page: the SDK followed next_page_url to the fake.
    assert sorted(out["listed"]) == sorted([room["sid"], out["secondRoom"]])
    assert out["participants"] == ["alice"]
    assert out["wrongRoomToken"] == {"status": 401, "code": 20106}
    assert out["ended"]["status"] == "completed"
    assert out["missingRoom"] == {"status": 404, "code": 20404}
    assert py.video.v1.rooms(room["sid"]).fetch().status == "completed"
    assert py.video.v1.rooms(out["secondRoom"]).fetch().status == "completed"

    # The participant connected with the Node-made token, then left when the room ended.
    participant = py.video.v1.rooms(room["sid"]).participants(out["connect"]["sid"]).fetch()
    assert (participant.identity, participant.status) == ("alice", "disconnected")

    sync = out["sync"]
    assert sync["created"] == {"status": "created", "viewers": 0}
    assert sync["updated"] == {"status": "started", "viewers": 2}
    item = py.sync.v1.services(sync["service"]).sync_maps(sync["map"]).sync_map_items("stream-1")
    assert item.fetch().data == {"status": "started", "viewers": 2}

    conversation = out["conversation"]
    members = py.conversations.v1.conversations(conversation["sid"]).participants.list()
    assert [m.identity for m in members] == ["alice"]
    assert members[0].sid == conversation["participant"]

    streamer = out["playerStreamer"]
    assert streamer["statusCode"] == 201 and streamer["sid"].startswith("VJ")


# -- the tests -----------------------------------------------------------------------------
@needs_node
def test_module_checks_without_the_sdk(server: FakeServer) -> None:
    """index.js alone (no npm needed): rewriting, encoding, the httpClient, the https patch."""
    out = run_node("module_checks.js", env={"FAKE_TWILIO_URL": server.url})
    assert out["rewrites"] == [
        "http://127.0.0.1:9/prefix/video/v1/Rooms?Status=completed",
        "http://127.0.0.1:9/prefix/media/v1/PlayerStreamers",
        "http://127.0.0.1:9/prefix/sync/v1/Services",
        "https://example.com/v1/Rooms",
        "https://video.twilio.com.example.com/v1/Rooms",
        # encoded path segments go through untouched (the fake decodes them once)
        "http://127.0.0.1:9/prefix/sync/v1/Services/IS1/Maps/m/Items/a%2Fb%3Fc%23d%25%C3%BC",
    ]
    assert out["form"] == "A=1&A=2&B=x%20y%26z&D=true&E%5BF%5D=g"
    assert out["products"] == ["video", "media", None]
    assert out["list"]["statusCode"] == 200
    assert out["list"]["bodyType"] == "object"  # parsed like axios does
    assert out["list"]["key"] == "rooms"
    assert out["list"]["lastRequest"].startswith(f"{server.url}/video/v1/Rooms?")
    assert out["denied"] == {"statusCode": 401, "code": 20003}
    assert out["retried"] == {
        "statusCode": 201,
        "attempts": 2,
        "uniqueName": "module-checks",
        "type": "go",
    }
    assert out["patchStatus"] == {"fakeUrl": server.url, "fetch": True}
    assert out["twilioHost"] == 401  # reached the fake (no credentials sent)
    assert out["otherHost"] == "ECONNREFUSED"  # not redirected
    assert out["afterUninstall"] == {"status": None, "restored": True}
    assert "must be http(s)" in out["badUrl"]
    assert "needs the twilio module" in out["badCreateClient"]


@needs_node
@pytest.mark.parametrize("major", VERSIONS)
def test_sdk_with_the_fake_http_client(
    major: int, twilio_node: Callable[[int], Path], server: FakeServer
) -> None:
    modules = twilio_node(major)
    out = run_node(
        "sdk_scenario.js",
        "httpClient",
        "full",
        env={"FAKE_TWILIO_URL": server.url, "RUN_ID": f"h{major}"},
        node_modules=modules,
    )
    _check_full_scenario(out, server, major)


@needs_node
@pytest.mark.parametrize("major", VERSIONS)
def test_sdk_with_the_preload_module(
    major: int, twilio_node: Callable[[int], Path], server: FakeServer
) -> None:
    """A plain ``twilio(...)`` client (its own axios RequestClient), redirected by preload.js."""
    modules = twilio_node(major)
    out = run_node(
        "sdk_scenario.js",
        "preload",
        "full",
        env={"FAKE_TWILIO_URL": server.url, "RUN_ID": f"p{major}"},
        node_modules=modules,
        preload=True,
    )
    _check_full_scenario(out, server, major)


@needs_node
def test_raw_https_player_streamer_through_the_preload(
    twilio_node: Callable[[int], Path], server: FakeServer
) -> None:
    """https.request / https.get / axios / fetch to media.twilio.com, as the backend does."""
    modules = twilio_node(5)  # for axios, a dependency of twilio
    out = run_node(
        "raw_media.js",
        env={"FAKE_TWILIO_URL": server.url, "FAKE_TWILIO_DEBUG": "1"},
        node_modules=modules,
        preload=True,
    )
    assert out["patch"] == {"fakeUrl": server.url, "fetch": True}
    sid = out["created"]["sid"]
    assert out["created"] == {"status": 201, "sid": sid, "streamerStatus": "created"}
    assert out["fetched"] == {"status": 200, "sid": sid}
    assert out["listed"]["status"] == 200 and sid in out["listed"]["sids"]
    assert out["axiosEnded"] == {"status": 200, "streamerStatus": "ended"}
    if "fetchAfter" in out:  # fetch exists from node 18
        assert out["fetchAfter"] == {"status": 200, "streamerStatus": "ended"}
    assert out["unauthorized"] == 401

    posted = server.control.requests(product="media", method="POST")
    assert [entry["path"] for entry in posted] == [
        "/media/v1/PlayerStreamers",
        f"/media/v1/PlayerStreamers/{sid}",
    ]


@needs_node
def test_preload_finds_the_fake_through_the_ready_file(
    tmp_path: Path, twilio_node: Callable[[int], Path]
) -> None:
    """``fake-twilio serve --ready-file F`` in a subprocess; the preload reads only F."""
    modules = twilio_node(5)
    served = start_served_fake(tmp_path)
    try:
        out = run_node(
            "sdk_scenario.js",
            "preload",
            "smoke",
            env={"FAKE_TWILIO_READY_FILE": str(served.ready_file), "RUN_ID": "ready-file"},
            node_modules=modules,
            preload=True,
        )
    finally:
        code, _, err = served.stop()
    assert code == 0, err
    assert out["room"]["uniqueName"] == "node-preload-smoke-ready-file"
    assert out["connect"]["status"] == 200 and out["connect"]["identity"] == "alice"
    assert out["ended"]["status"] == "completed"


@needs_node
def test_preload_refuses_to_run_without_a_fake() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_TWILIO_")}
    result = subprocess.run(
        [NODE or "node", "-r", str(PRELOAD_JS), "-e", "console.log('reached')"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env=env,
    )
    assert result.returncode != 0
    assert "reached" not in result.stdout
    assert "FAKE_TWILIO_URL" in result.stderr


def test_python_locates_the_node_module() -> None:
    for what, name in (("preload", "preload.js"), ("module", "node")):
        result = subprocess.run(
            [sys.executable, "-m", "fake_twilio.node", what],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        path = Path(result.stdout.strip())
        assert path.name == name and path.exists()
    assert (NODE_MODULE / "package.json").exists() and (NODE_MODULE / "README.md").exists()
    manifest = json.loads((NODE_MODULE / "package.json").read_text())
    assert manifest["main"] == "index.js" and not manifest.get("dependencies")
