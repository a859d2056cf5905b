"""Real clients: curl for protocol details, wrk for a short bounded load."""

import re
import shutil
import subprocess

import pytest

import harness
from conftest import STATIC_FILES

CURL = shutil.which("curl")
WRK = shutil.which("wrk")


def curl(*args):
    out = subprocess.run([CURL, "-s", "--max-time", "10", *harness.curl_tls_args(), *args], capture_output=True,
                         timeout=30)
    return out


def split_response(raw: bytes):
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


@pytest.mark.skipif(not CURL, reason="curl not installed")
def test_curl_ping(axle):
    out = curl("-i", harness.url(axle, "/ping"))
    assert out.returncode == 0, out
    head, body = split_response(out.stdout)
    assert head.startswith("HTTP/1.1 200"), head
    assert body == b"pong", out.stdout


@pytest.mark.skipif(not CURL, reason="curl not installed")
def test_curl_post_echo(axle):
    out = curl("--data-binary", "posted by curl", harness.url(axle, "/echo/x"))
    assert (out.returncode, out.stdout) == (0, b"posted by curl"), out


@pytest.mark.skipif(not CURL, reason="curl not installed")
def test_curl_chunked_upload_with_expect(axle):
    out = curl("-H", "Transfer-Encoding: chunked", "-H", "Expect: 100-continue",
               "--data-binary", "x" * 5000, harness.url(axle, "/echo/x"))
    assert (out.returncode, out.stdout) == (0, b"x" * 5000), out.stderr


@pytest.mark.skipif(not CURL, reason="curl not installed")
def test_curl_http10(axle):
    out = curl("-0", "-i", harness.url(axle, "/ping"))
    assert out.returncode == 0, out
    head, body = split_response(out.stdout)
    assert re.match(r"HTTP/1\.[01] 200", head), head
    assert body == b"pong", out.stdout


@pytest.mark.skipif(not CURL, reason="curl not installed")
def test_curl_head_static(axle):
    out = curl("-I", harness.url(axle, "/static/hello.txt"))
    assert out.returncode == 0, out
    head, body = split_response(out.stdout)
    assert head.startswith("HTTP/1.1 200"), head
    assert f"content-length: {len(STATIC_FILES['hello.txt'])}" in head.lower(), head


@pytest.mark.skipif(not CURL, reason="curl not installed")
def test_curl_reuses_the_connection(axle):
    url = harness.url(axle, "/ping")
    out = curl("-v", url, url, url)
    assert out.returncode == 0, out
    assert out.stdout == b"pongpongpong", out.stdout
    assert out.stderr.count(b"Connected to") == 1, out.stderr.decode(errors="replace")


@pytest.mark.skipif(not WRK, reason="wrk not installed")
def test_wrk_short_load_has_no_errors(axle):
    out = subprocess.run([WRK, "-t2", "-c20", "-d2s", harness.url(axle, "/ping")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out
    report = out.stdout
    assert "Socket errors" not in report, report
    assert "Non-2xx or 3xx" not in report, report
    requests = int(re.search(r"(\d+) requests in", report).group(1))
    assert requests > 0, report


@pytest.mark.skipif(not WRK, reason="wrk not installed")
def test_wrk_short_load_on_static(axle):
    out = subprocess.run([WRK, "-t2", "-c20", "-d2s", harness.url(axle, "/static/sub/data.bin")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out
    assert "Socket errors" not in out.stdout, out.stdout
    assert "Non-2xx or 3xx" not in out.stdout, out.stdout
