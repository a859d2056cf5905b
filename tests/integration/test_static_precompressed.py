"""Precompressed variants (route key precompressed = true) through the real
server (issue 13): Accept-Encoding negotiation with q-values and
identity;q=0, Vary on every response of a file with variants, an ETag per
variant, 304 per variant, Range on the .gz, and curl decoding the gzip."""

import gzip
import subprocess

import pytest

from harness import Conn, get

ORIGINAL = b"console.log('precompressed');\n" * 200
GZ = gzip.compress(ORIGINAL, mtime=0)
BR = b"not-really-brotli-but-distinct-bytes"


@pytest.fixture
def server(start_axle, tmp_path):
    (tmp_path / "app.js").write_bytes(ORIGINAL)
    (tmp_path / "app.js.gz").write_bytes(GZ)
    (tmp_path / "app.js.br").write_bytes(BR)
    (tmp_path / "plain.css").write_bytes(b"body{}\n")
    route = {"path": "/s/*", "handler": "static", "root": str(tmp_path), "precompressed": True}
    return start_axle.start(workers=1, routes=[route])


def fetch(server, path, headers=b"", method=b"GET"):
    with Conn(*server.listeners[0]) as c:
        return c.request(get(path, extra=headers, method=method), method=method.decode())


def accept(value: str) -> bytes:
    return f"Accept-Encoding: {value}\r\n".encode()


def test_negotiation_picks_the_best_acceptable_variant(server):
    cases = [
        ("gzip, deflate, br", BR, "br"),
        ("gzip, deflate", GZ, "gzip"),
        ("br;q=0.2, gzip;q=0.9", GZ, "gzip"),
        ("br;q=0, gzip", GZ, "gzip"),
        ("*", BR, "br"),
        ("gzip;q=0.5, identity", ORIGINAL, None),
        ("deflate", ORIGINAL, None),
        ("zstd", ORIGINAL, None),  # no .zst beside the file
        ("", ORIGINAL, None),
    ]
    for value, body, coding in cases:
        resp = fetch(server, "/s/app.js", accept(value))
        assert resp.status == 200, (value, resp)
        assert resp.body == body, value
        assert resp.header("content-encoding") == coding, value
        assert resp.header("content-type") == "text/javascript; charset=utf-8", value
        assert resp.header("vary") == "Accept-Encoding", value
    resp = fetch(server, "/s/app.js")  # no Accept-Encoding at all
    assert resp.body == ORIGINAL and resp.header("vary") == "Accept-Encoding"


def test_identity_refused(server):
    resp = fetch(server, "/s/app.js", accept("gzip, identity;q=0"))
    assert resp.status == 200 and resp.body == GZ, resp
    refused = fetch(server, "/s/app.js", accept("zstd, identity;q=0"))
    assert refused.status == 406, refused
    assert refused.header("vary") == "Accept-Encoding"
    assert fetch(server, "/s/app.js", accept("*;q=0")).status == 406
    # A file without variants does not negotiate: served as is, no Vary.
    lone = fetch(server, "/s/plain.css", accept("identity;q=0"))
    assert lone.status == 200 and lone.body == b"body{}\n" and lone.header("vary") is None, lone


def test_each_variant_has_its_own_etag_and_304(server):
    tags = {}
    for value in ("br", "gzip", "identity"):
        tags[value] = fetch(server, "/s/app.js", accept(value)).header("etag")
    assert len(set(tags.values())) == 3, tags
    for value, tag in tags.items():
        nm = fetch(server, "/s/app.js", accept(value) + f"If-None-Match: {tag}\r\n".encode())
        assert nm.status == 304, (value, nm)
        assert nm.header("etag") == tag and nm.header("vary") == "Accept-Encoding"
        for other in tags:
            if other != value:
                assert fetch(server, "/s/app.js", accept(other) + f"If-None-Match: {tag}\r\n".encode()).status == 200


def test_range_on_the_gzip_variant(server):
    resp = fetch(server, "/s/app.js", accept("gzip") + b"Range: bytes=10-49\r\n")
    assert resp.status == 206, resp
    assert resp.body == GZ[10:50]
    assert resp.header("content-range") == f"bytes 10-49/{len(GZ)}"
    assert resp.header("content-encoding") == "gzip" and resp.header("vary") == "Accept-Encoding"
    gz_tag = fetch(server, "/s/app.js", accept("gzip")).header("etag")
    plain_tag = fetch(server, "/s/app.js").header("etag")
    # If-Range with the variant's own tag keeps the range; the identity tag does not.
    kept = fetch(server, "/s/app.js", accept("gzip") + f"Range: bytes=0-9\r\nIf-Range: {gz_tag}\r\n".encode())
    assert kept.status == 206 and kept.body == GZ[:10]
    whole = fetch(server, "/s/app.js", accept("gzip") + f"Range: bytes=0-9\r\nIf-Range: {plain_tag}\r\n".encode())
    assert whole.status == 200 and whole.body == GZ
    past = fetch(server, "/s/app.js", accept("gzip") + f"Range: bytes={len(GZ)}-\r\n".encode())
    assert past.status == 416 and past.header("content-range") == f"bytes */{len(GZ)}"


def test_head_matches_get(server):
    get_resp = fetch(server, "/s/app.js", accept("gzip"))
    head = fetch(server, "/s/app.js", accept("gzip"), method=b"HEAD")
    assert head.status == 200 and head.body == b""
    for name in ("content-length", "content-encoding", "etag", "vary", "content-type"):
        assert head.header(name) == get_resp.header(name), name


def test_curl_decodes_the_gzip_variant(server):
    host, port = server.listeners[0]
    out = subprocess.run(["curl", "-s", "--max-time", "5", "-H", "Accept-Encoding: gzip", "--compressed",
                          "-D", "-", f"http://{host}:{port}/s/app.js"], capture_output=True, timeout=15)
    assert out.returncode == 0, out.stderr
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    assert b"content-encoding: gzip" in head.lower(), head
    assert body == ORIGINAL
