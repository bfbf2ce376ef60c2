"""The SIPRI fetcher against a small local HTTP server on 127.0.0.1 that answers like the API
(base64 CSV in JSON), with the invented fixture register, and its failure modes."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from takingstock import fetch
from takingstock.fetch import FetchError, fetch_register

FIXTURE = Path(__file__).parent / "fixtures" / "sipri" / "invented_register.csv"
GOOD = FIXTURE.read_bytes()
HEADER_ONLY = b"".join(GOOD.splitlines(keepends=True)[:12])


def _json(csv: bytes) -> bytes:
    return json.dumps({"bytes": base64.b64encode(csv).decode("ascii")}).encode()


# path -> (status, body, delay seconds)
ROUTES = {
    "/ok": (200, _json(GOOD), 0),
    "/500": (500, b"oops", 0),
    "/garbage": (200, b"<html>not json</html>", 0),
    "/nobytes": (200, json.dumps({"data": []}).encode(), 0),
    "/badb64": (200, json.dumps({"bytes": "***not base64***"}).encode(), 0),
    "/notsipri": (200, _json(b"a,b\n1,2\n"), 0),
    "/empty": (200, _json(HEADER_ONLY), 0),
    "/slow": (200, _json(GOOD), 3),
}


class _Handler(BaseHTTPRequestHandler):
    bodies: list = []

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        _Handler.bodies.append(json.loads(self.rfile.read(length)))
        status, body, delay = ROUTES.get(self.path, (404, b"no", 0))
        if delay:
            time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_writes_register_and_sidecar(server, tmp_path):
    out = fetch_register(tmp_path, url=server + "/ok", timeout=5, progress=False, min_deals=5)
    assert out.name == "sipri_trade_register_2024-02-02.csv"
    assert out.read_bytes() == GOOD
    meta = yaml.safe_load(out.with_name(out.name + ".meta.yml").read_text())
    assert meta["deals"] == 8
    assert meta["sipri_release_date"] == "2024-02-02"
    assert meta["url"] == server + "/ok"
    assert len(meta["sha256"]) == 64
    assert "SIPRI" in meta["terms"]
    body = _Handler.bodies[-1]
    assert body["logic"] == "AND"
    fields = [f["field"] for f in body["filters"]]
    assert fields == ["Delivery year", "opendeals"]
    assert body["filters"][0]["value1"] == 1950
    assert not any(f["field"] == "Recipient" for f in body["filters"])


@pytest.mark.parametrize(
    "route, message",
    [
        ("/500", "HTTP 500"),
        ("/garbage", "not JSON"),
        ("/nobytes", "no 'bytes' field"),
        ("/badb64", "not valid base64"),
        ("/notsipri", "not a usable SIPRI register.*Recipient,Supplier,Year of order"),
        ("/empty", "empty register"),
    ],
)
def test_failures_never_replace_a_good_file(server, tmp_path, route, message):
    good = tmp_path / "sipri_trade_register_2024-02-02.csv"
    good.write_bytes(b"previous good file")
    with pytest.raises(FetchError, match=message):
        fetch_register(tmp_path, url=server + route, timeout=5, progress=False, min_deals=5)
    assert good.read_bytes() == b"previous good file"
    assert sorted(p.name for p in tmp_path.iterdir()) == [good.name]


def test_too_few_deals_is_refused(server, tmp_path):
    with pytest.raises(FetchError, match="only 8 deals"):
        fetch_register(tmp_path, url=server + "/ok", timeout=5, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_timeout(server, tmp_path):
    t0 = time.perf_counter()
    with pytest.raises(FetchError, match="timeout"):
        fetch_register(tmp_path, url=server + "/slow", timeout=0.5, progress=False, min_deals=5)
    assert time.perf_counter() - t0 < 2.5
    assert list(tmp_path.iterdir()) == []


def test_connection_refused(tmp_path):
    with pytest.raises(FetchError, match="network failure"):
        fetch_register(tmp_path, url="http://127.0.0.1:9/", timeout=2, progress=False)


def test_main_cli(server, tmp_path, capsys):
    assert fetch.main(["--dest", str(tmp_path), "--url", server + "/ok", "--timeout", "5",
                       "--min-deals", "5"]) == 0
    assert (tmp_path / "sipri_trade_register_2024-02-02.csv").exists()
    assert "Wrote" in capsys.readouterr().err
    assert fetch.main(["--dest", str(tmp_path), "--url", server + "/500", "--quiet"]) == 1
    assert "HTTP 500" in capsys.readouterr().err
