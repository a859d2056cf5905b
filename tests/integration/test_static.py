"""The static handler through the real server: files, index, ranges,
conditional requests, and no way out of the document root."""

import subprocess

import pytest

import harness

from conftest import STATIC_FILES
from harness import Conn, get

TRAVERSALS = [
    "/static/../../etc/passwd",
    "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/static/..%2f..%2f..%2f..%2fetc/passwd",
    "/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/static/%252e%252e/%252e%252e/%252e%252e/etc/passwd",
    "/static/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/static/.%2e/.%2e/.%2e/.%2e/etc/passwd",
    "/static/sub/../../../../etc/passwd",
    "/static/" + "../" * 20 + "etc/passwd",
    "/static/....//....//....//etc/passwd",
    "/static/..%5c..%5c..%5c..%5cetc%5cpasswd",
    "/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/static/%00/../../etc/passwd",
    "/static//etc/passwd",
    "/static/passwd-link",
    "/static/outside-link/secret.txt",
    "/static/secret-link.txt",
    "/static/sub/../passwd-link",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_no_escape_from_the_document_root(axle, target):
    with Conn(*axle) as c:
        req = get(target)
        c.send(req)
        resp = c.read_response()
        assert resp.status in (400, 403, 404), (req, resp)
        assert b"root:" not in resp.body, (req, resp)


def test_absolute_form_traversal(conn):
    req = b"GET http://a/static/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n"
    resp = conn.request(req)
    assert resp.status != 200 and b"root:" not in resp.body, (req, resp)


def test_curl_path_as_is_traversal(axle):
    out = subprocess.run(["curl", "-s", "--max-time", "5", "--path-as-is", "-w", "%{http_code}",
                          *harness.curl_tls_args(), harness.url(axle, "/static/../../../../etc/passwd")],
                         capture_output=True, timeout=15)
    assert b"root:" not in out.stdout, out.stdout[:300]
    assert out.stdout.endswith((b"400", b"403", b"404")), out  # answered (not a failed connection)


def test_plain_file(conn):
    resp = conn.request(get("/static/hello.txt"))
    assert resp.status == 200, resp
    assert resp.body == STATIC_FILES["hello.txt"], resp
    assert (resp.header("content-type") or "").startswith("text/plain"), resp


def test_binary_file_and_keep_alive_after_it(conn):
    resp = conn.request(get("/static/sub/data.bin"))
    assert resp.status == 200, resp
    assert resp.body == STATIC_FILES["sub/data.bin"], len(resp.body)
    assert conn.request(get("/ping")).body == b"pong"


def test_percent_encoded_name(conn):
    resp = conn.request(get("/static/space%20name.txt"))
    assert (resp.status, resp.body) == (200, STATIC_FILES["space name.txt"]), resp


def test_index_of_root(conn):
    resp = conn.request(get("/static/"))
    assert (resp.status, resp.body) == (200, STATIC_FILES["index.html"]), resp
    assert (resp.header("content-type") or "").startswith("text/html"), resp


def test_index_of_subdirectory(conn):
    resp = conn.request(get("/static/sub/"))
    assert (resp.status, resp.body) == (200, STATIC_FILES["sub/index.html"]), resp


def test_directory_without_slash_redirects_or_serves_index(conn):
    resp = conn.request(get("/static/sub"))
    if resp.status in (301, 302, 307, 308):
        assert (resp.header("location") or "").endswith("/static/sub/"), resp
    else:
        assert (resp.status, resp.body) == (200, STATIC_FILES["sub/index.html"]), resp


def test_missing_file_is_404(conn):
    resp = conn.request(get("/static/nope.txt"))
    assert resp.status == 404, resp
    assert conn.request(get("/ping")).body == b"pong"


def test_head_on_a_file(conn):
    resp = conn.request(get("/static/hello.txt", method=b"HEAD"), method="HEAD")
    assert resp.status == 200, resp
    assert resp.header("content-length") == str(len(STATIC_FILES["hello.txt"])), resp
    assert conn.request(get("/ping")).body == b"pong"


def test_range_request_is_206(conn):
    data = STATIC_FILES["hello.txt"]
    resp = conn.request(get("/static/hello.txt", extra=b"Range: bytes=0-4\r\n"))
    assert resp.status == 206, resp
    assert resp.body == data[:5], resp
    assert resp.header("content-range") == f"bytes 0-4/{len(data)}", resp


def test_suffix_range(conn):
    data = STATIC_FILES["sub/data.bin"]
    resp = conn.request(get("/static/sub/data.bin", extra=b"Range: bytes=-100\r\n"))
    assert resp.status == 206, resp
    assert resp.body == data[-100:], len(resp.body)
    assert resp.header("content-range") == f"bytes {len(data) - 100}-{len(data) - 1}/{len(data)}", resp


def test_unsatisfiable_range_is_416(conn):
    size = len(STATIC_FILES["hello.txt"])
    resp = conn.request(get("/static/hello.txt", extra=b"Range: bytes=1000-2000\r\n"))
    assert resp.status == 416, resp
    assert resp.header("content-range") == f"bytes */{size}", resp


def test_conditional_get_is_304(conn):
    first = conn.request(get("/static/hello.txt"))
    assert first.status == 200, first
    etag, modified = first.header("etag"), first.header("last-modified")
    assert etag or modified, f"no validator to make a conditional request with: {first!r}"
    if etag:
        resp = conn.request(get("/static/hello.txt", extra=b"If-None-Match: " + etag.encode() + b"\r\n"))
        assert resp.status == 304 and resp.body == b"", resp
    if modified:
        resp = conn.request(get("/static/hello.txt", extra=b"If-Modified-Since: " + modified.encode() + b"\r\n"))
        assert resp.status == 304 and resp.body == b"", resp
    # Nothing leaked from the 304s into the stream.
    assert conn.request(get("/ping")).body == b"pong"


def test_pipelined_static_requests(conn):
    conn.send(get("/static/hello.txt") + get("/static/sub/data.bin") + get("/static/index.html"))
    bodies = [conn.read_response().body for _ in range(3)]
    assert bodies == [STATIC_FILES["hello.txt"], STATIC_FILES["sub/data.bin"], STATIC_FILES["index.html"]]
