"""Server features beyond the core protocol, each on its own server: the
write timeout, precompiled routes, the access log and its reopen, workers,
large files."""

import os
import re
import signal
import socket
import time

import harness
from harness import Conn, get, post


def test_client_that_stops_reading_is_cut_off_by_write_timeout(start_axle, tmp_path):
    # Deterministic on a loaded machine: how much the kernel holds for a
    # client that stops reading is fixed and small (a 64 KiB send buffer, a
    # 32 KiB receive window: no autotuning up to megabytes on loopback), the
    # test waits for the server's own "write timeout" line instead of
    # sleeping an arbitrary time, and only then reads to the close. The old
    # version slept 2 s and then gave recv 5 s: on a loaded machine it could
    # see the response head and then neither data nor a close in that time
    # ("server neither sent nor closed; 238 bytes read").
    root = tmp_path / "root"
    root.mkdir()
    size = 8 << 20  # far more than the buffers above hold
    (root / "big.bin").write_bytes(os.urandom(1 << 20) * 8)
    server = start_axle.start(routes=[{"path": "/s/*", "handler": "static", "root": str(root)}],
                              timeouts={"write_ms": 500, "idle_ms": 60000},
                              extra="[sockets]\nsend_buffer = 65536")
    mark = server.log_mark()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)  # before connect: it sets the window
        s.settimeout(harness.IO_TIMEOUT)
        s.connect(server.listeners[0])
        s.sendall(get("/s/big.bin"))
        server.wait_for_log(r"write timeout: client ", timeout=harness.IO_TIMEOUT, start=mark)
        received = 0
        try:
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                received += len(chunk)
        except ConnectionResetError:
            pass
        except socket.timeout:
            raise AssertionError(f"server logged the write timeout but did not close; {received} bytes read")
        assert received < size, "the whole file arrived: no write timeout happened"
    with Conn(*server.listeners[0]) as c:  # the server itself is fine
        assert c.request(get("/s/missing")).status == 404


def test_large_file_and_range_from_its_middle(start_axle, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    big = os.urandom(1 << 20) * 8
    (root / "big.bin").write_bytes(big)
    server = start_axle.start(routes=[{"path": "/s/*", "handler": "static", "root": str(root)}])
    with Conn(*server.listeners[0], timeout=30) as c:
        resp = c.request(get("/s/big.bin"))
        assert resp.status == 200 and resp.body == big, (resp.status, len(resp.body))
        lo, hi = 3_000_001, 5_500_000
        resp = c.request(get("/s/big.bin", extra=b"Range: bytes=%d-%d\r\n" % (lo, hi)))
        assert resp.status == 206 and resp.body == big[lo:hi + 1], (resp.status, len(resp.body))


def test_precompiled_routes(start_axle, tmp_path):
    (tmp_path / "landing.html").write_text("<h1>landing</h1>\n")
    routes = [
        {"path": "/hello", "handler": "precompiled", "content_type": "text/plain; charset=utf-8",
         "body": "Hello, world!"},
        {"path": "/landing", "handler": "precompiled", "content_type": "text/html", "file": "landing.html"},
        {"path": "/teapot", "handler": "precompiled", "status": 418, "body": "short and stout"},
        {"path": "/empty", "handler": "precompiled", "status": 204},
    ]
    config = harness.render_config(routes=routes)
    (tmp_path / "precompiled.toml").write_text(config)
    server = start_axle.start(args=["--config", tmp_path / "precompiled.toml"])
    with Conn(*server.listeners[0]) as c:
        resp = c.request(get("/hello"))
        assert (resp.status, resp.body) == (200, b"Hello, world!"), resp
        assert resp.header("content-type") == "text/plain; charset=utf-8", resp
        assert len(resp.all("date")) == 1, resp
        resp = c.request(get("/landing"))
        assert (resp.status, resp.body) == (200, b"<h1>landing</h1>\n"), resp
        resp = c.request(get("/teapot"))
        assert (resp.status, resp.body) == (418, b"short and stout"), resp
        resp = c.request(get("/empty"))
        assert resp.status == 204 and resp.header("content-length") is None, resp
        head = c.request(get("/hello", method=b"HEAD"), method="HEAD")
        assert head.status == 200 and head.header("content-length") == "13", head
        c.send(get("/hello") * 5)  # pipelined prebuilt images
        assert [c.read_response().body for _ in range(5)] == [b"Hello, world!"] * 5
        resp = c.request(get("/hello", extra=b"Connection: close\r\n"))
        assert resp.body == b"Hello, world!" and (resp.header("connection") or "").lower() == "close", resp
        assert c.wait_closed()


ACCESS_LINE = re.compile(r'^(\S+) - - \[[^\]]+\] "([^"]*)" (\d{3}) (\d+) "[^"]*" "([^"]*)" [0-9.]+$')


def read_lines_eventually(path, count, timeout=harness.IO_TIMEOUT):
    """The access log is written by a background thread: poll for it."""
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        if path.exists():
            lines = path.read_text(errors="replace").splitlines()
            if len(lines) >= count:
                return lines
        time.sleep(0.05)
    raise AssertionError(f"{path}: want {count} lines, have {lines}")


def test_access_log_and_reopen_on_sigusr1(start_axle, tmp_path, static_root):
    log = tmp_path / "access.log"
    server = start_axle.start(routes=harness.default_routes(static_root),
                              extra=f'[log]\naccess_log = "{log}"')
    with Conn(*server.listeners[0]) as c:
        c.request(get("/ping", extra=b"User-Agent: integration-test\r\n"))
        c.request(get("/nope"))
        c.request(post("/echo/x", b"12345"))
    lines = read_lines_eventually(log, 3)
    parsed = [ACCESS_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m.group(2), m.group(3)) for m in parsed] == [
        ("GET /ping HTTP/1.1", "200"), ("GET /nope HTTP/1.1", "404"), ("POST /echo/x HTTP/1.1", "200")], lines
    assert parsed[0].group(1) == "127.0.0.1" and parsed[0].group(5) == "integration-test", lines[0]

    rotated = tmp_path / "access.log.1"
    log.rename(rotated)
    mark = server.log_mark()
    server.proc.send_signal(signal.SIGUSR1)
    server.wait_for_log("reopening access logs", start=mark)
    with Conn(*server.listeners[0]) as c:
        c.request(get("/ping"))
    assert '"GET /ping HTTP/1.1" 200' in read_lines_eventually(log, 1)[0]
    assert len(rotated.read_text().splitlines()) == 3


def test_access_log_escapes_hostile_fields(start_axle, tmp_path, static_root):
    log = tmp_path / "access.log"
    server = start_axle.start(routes=harness.default_routes(static_root),
                              extra=f'[log]\naccess_log = "{log}"')
    with Conn(*server.listeners[0]) as c:
        c.request(get("/ping", extra=b'User-Agent: evil" 200 9 "x\xff\r\n'))
    line = read_lines_eventually(log, 1)[0]
    assert ACCESS_LINE.match(line), line
    assert '\\x22' in line and "\\xff" in line.lower(), line  # quotes never appear raw inside a field


def test_workers_auto_and_reuse_port(start_axle, static_root):
    server = start_axle.start(routes=harness.default_routes(static_root), workers="auto",
                              extra="[sockets]\nreuse_port = true")
    conns = [Conn(*server.listeners[0]) for _ in range(16)]
    try:
        for c in conns:
            assert c.request(get("/ping")).body == b"pong"
    finally:
        for c in conns:
            c.close()


def test_idle_connections_free_their_slot_on_idle_timeout(start_axle, static_root):
    server = start_axle.start(routes=harness.default_routes(static_root), workers=1,
                              limits={"max_connections": 2}, timeouts={"idle_ms": 300})
    addr = server.listeners[0]
    idle = [Conn(*addr) for _ in range(2)]
    try:
        for c in idle:
            assert c.request(get("/ping")).body == b"pong"
        for c in idle:
            assert c.wait_closed(), "idle connection not closed by idle_ms"
        assert harness.eventually_served(addr).body == b"pong"
    finally:
        for c in idle:
            c.close()


def test_head_just_under_the_limit_is_accepted(conn):
    filler = b"X-Fill: " + b"f" * (16384 - 200) + b"\r\n"  # default max_head_bytes = 16384
    resp = conn.request(get("/ping", extra=filler))
    assert (resp.status, resp.body) == (200, b"pong"), resp


def test_echo_reflects_content_type_and_decodes_the_parameter(conn):
    resp = conn.request(post("/echo/x", b"{}", extra=b"Content-Type: application/json\r\n"))
    assert resp.header("content-type") == "application/json", resp
    resp = conn.request(get("/echo/hello%20world"))
    assert resp.body == b"hello world", resp
