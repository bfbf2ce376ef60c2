"""The SIPRI fetcher against a small local HTTP server on 127.0.0.1 that answers like the API
(base64 CSV in JSON), with the invented fixture register, and its failure modes."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from takingstock.data import fetch, sipri, sipri_format, sipri_terms
from takingstock.data.fetch import FetchError, fetch_register

FIXTURE = Path(__file__).parent / "fixtures" / "sipri" / "invented_register.csv"
GOOD = FIXTURE.read_bytes()
HEADER_ONLY = b"".join(GOOD.splitlines(keepends=True)[:12])


def _json(csv: bytes) -> bytes:
    return json.dumps({"bytes": base64.b64encode(csv).decode("ascii")}).encode()


# path -> (status, body, delay seconds[, bytes promised by Content-Length beyond the body])
ROUTES = {
    "/ok": (200, _json(GOOD), 0),
    "/500": (500, b"oops", 0),
    "/garbage": (200, b"<html>not json</html>", 0),
    "/nobytes": (200, json.dumps({"data": []}).encode(), 0),
    "/badb64": (200, json.dumps({"bytes": "***not base64***"}).encode(), 0),
    "/notsipri": (200, _json(b"a,b\n1,2\n"), 0),
    "/empty": (200, _json(HEADER_ONLY), 0),
    "/slow": (200, _json(GOOD), 3),
    # promises 500 bytes more than it sends, then closes the connection
    "/cut": (200, _json(GOOD)[:-40], 0, 540),
    # issue 22: no Content-Length, cut; one byte every 0.2 s; 300 MB promised; UTF-16 export
    "/cut-nolength": (200, _json(GOOD)[:-40], 0, "no length"),
    "/trickle": (200, _json(GOOD), 0, "trickle"),
    "/huge": (200, b"{", 0, 300_000_000),
    "/endless": (200, b'{"bytes": "' + b"QUFB" * 60_000, 0, "no length"),
    "/utf16": (200, _json(GOOD.decode("latin-1").encode("utf-16")), 0),
}


class _Handler(BaseHTTPRequestHandler):
    bodies: list = []

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        _Handler.bodies.append(json.loads(self.rfile.read(length)))
        status, body, delay, *more = ROUTES.get(self.path, (404, b"no", 0))
        how = more[0] if more and isinstance(more[0], str) else ""
        promised = len(body) + (more[0] if more and not how else 0)
        if delay:
            time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if how != "no length":
                self.send_header("Content-Length", str(promised))
            self.end_headers()
            if how == "trickle":
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
            else:
                self.wfile.write(body)
            if promised > len(body) or how == "no length":
                self.close_connection = True
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
        ("/cut", r"answer cut short \(\d+ of \d+ bytes\)"),
    ],
)
def test_failures_never_replace_a_good_file(server, tmp_path, route, message):
    good = tmp_path / "sipri_trade_register_2024-02-02.csv"
    good.write_bytes(b"previous good file")
    with pytest.raises(FetchError, match=message):
        fetch_register(tmp_path, url=server + route, timeout=5, progress=False, min_deals=5)
    assert good.read_bytes() == b"previous good file"
    assert sorted(p.name for p in tmp_path.iterdir()) == [good.name]


def test_cut_short_answer_names_the_bytes_and_keeps_the_good_file(server, tmp_path):
    good = tmp_path / "sipri_trade_register_2024-02-02.csv"
    good.write_bytes(GOOD)
    sent = len(_json(GOOD)) - 40
    with pytest.raises(FetchError, match=rf"answer cut short \({sent} of {sent + 540} bytes\)"):
        fetch_register(tmp_path, url=server + "/cut", timeout=5, progress=False, min_deals=5)
    assert good.read_bytes() == GOOD
    assert sorted(p.name for p in tmp_path.iterdir()) == [good.name]


def test_a_refused_answer_leaves_no_temporary_file_and_a_good_one_is_written_once(
        server, tmp_path, monkeypatch):
    writes = []
    real = Path.write_bytes

    def counting(self, data):
        writes.append(self)
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", counting)
    out = fetch_register(tmp_path, url=server + "/ok", timeout=5, progress=False, min_deals=5)
    assert out.read_bytes() == GOOD
    assert len(writes) == 1 and writes[0].parent == tmp_path  # once, beside the target
    meta = yaml.safe_load(out.with_name(out.name + ".meta.yml").read_text())
    assert meta["sha256"] == hashlib.sha256(GOOD).hexdigest()
    writes.clear()
    with pytest.raises(FetchError, match="only 8 deals"):
        fetch_register(tmp_path, url=server + "/ok", timeout=5, progress=False, min_deals=9)
    assert len(writes) == 1 and writes[0].parent == tmp_path
    assert out.read_bytes() == GOOD
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name, out.name + ".meta.yml"]


def test_too_few_deals_is_refused(server, tmp_path):
    with pytest.raises(FetchError, match="only 8 deals"):
        fetch_register(tmp_path, url=server + "/ok", timeout=5, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_timeout(server, tmp_path):
    with pytest.raises(FetchError, match="timeout"):
        fetch_register(tmp_path, url=server + "/slow", timeout=0.5, progress=False, min_deals=5)
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
    err = capsys.readouterr().err
    assert "HTTP 500" in err
    assert f"by hand from {sipri_terms.SIPRI_URL} and place it in {tmp_path}" in err
    assert "armstrade" not in err


# ------------------------------------------------------------------ issue 22: bounds and encodings


def test_a_trickling_server_is_given_up_at_the_total_deadline(server, tmp_path):
    with pytest.raises(FetchError, match=r"not complete within 1 s \(--deadline\); cut short after \d+ bytes"):
        fetch_register(tmp_path, url=server + "/trickle", timeout=5, deadline=1, progress=False, min_deals=5)
    assert list(tmp_path.iterdir()) == []


def test_an_answer_over_the_size_limit_is_refused_before_or_while_reading(server, tmp_path):
    with pytest.raises(FetchError, match=r"the answer is 300.0 MB; at most 64 MB is accepted \(--max-mb\). Nothing was read"):
        fetch_register(tmp_path, url=server + "/huge", timeout=5, progress=False, min_deals=5)
    with pytest.raises(FetchError, match=r"the answer passed 0.1 MB \(--max-mb\) and was given up"):
        fetch_register(tmp_path, url=server + "/endless", timeout=5, progress=False, min_deals=5, max_bytes=100_000)
    assert list(tmp_path.iterdir()) == []


def test_a_cut_answer_without_content_length_is_called_cut_short(server, tmp_path):
    with pytest.raises(FetchError, match=r"answer cut short: its JSON ends after [\d,]+ bytes"):
        fetch_register(tmp_path, url=server + "/cut-nolength", timeout=5, progress=False, min_deals=5)
    with pytest.raises(FetchError, match="not JSON"):  # what does not even begin as JSON is still that
        fetch_register(tmp_path, url=server + "/garbage", timeout=5, progress=False, min_deals=5)


def test_a_utf16_export_is_refused_naming_the_encoding(server, tmp_path):
    with pytest.raises(FetchError, match=r"the file is UTF-16 \(little-endian\) text; SIPRI's exports are UTF-8 or Latin-1"):
        fetch_register(tmp_path, url=server + "/utf16", timeout=5, progress=False, min_deals=5)
    path = tmp_path / "export.csv"
    path.write_bytes(GOOD.decode("latin-1").encode("utf-16-be"))  # no byte order mark
    with pytest.raises(sipri_format.SipriFormatError, match=rf"{path}: the file is UTF-16 \(big-endian\) text"):
        sipri.read_register(path)


def test_a_recipient_with_an_accent_keeps_the_alphabetical_order_check(tmp_path):
    """SIPRI writes Cote d'Ivoire; an export naming it Côte d'Ivoire (between Congo and Croatia)
    is in order: the check ignores accents (before, 'ô' sorted after every ASCII letter)."""
    names = {12: "Congo", 13: "Congo", 14: "Côte d'Ivoire", 15: "Côte d'Ivoire", 16: "Côte d'Ivoire",
             17: "Croatia", 18: "Croatia"}  # the invented deals of Iran and Iraq, renamed
    lines = GOOD.decode("latin-1").splitlines(keepends=True)
    assert [line.split(",")[0] for line in lines[12:19]] == ["Iran"] * 2 + ["Iraq"] * 5
    out = [names[i] + line[line.index(","):] if i in names else line for i, line in enumerate(lines)]
    path = tmp_path / "export.csv"
    path.write_text("".join(out), encoding="utf-8")
    reg = sipri.read_register(path)
    assert list(dict.fromkeys(reg.deals["recipient"])) == ["Congo", "Côte d'Ivoire", "Croatia", "Syria rebels*"]
    # a real disorder is still caught
    path.write_text("".join(out[:12] + out[14:17] + out[12:14] + out[17:]), encoding="utf-8")
    with pytest.raises(sipri_format.SipriFormatError, match="'Congo' comes after \"Côte d'Ivoire\", out of alphabetical order"):
        sipri.read_register(path)
