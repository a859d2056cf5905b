"""The SDK's coroutine examples (sdk/examples/) served by the real binary:
sse_clock (/events), sleep (/sleep/{ms}) and sha256 (POST /sha256, streamed
body). Times are checked as lower bounds only; memory and descriptors are
counted."""

import hashlib
import os
import re
import socket
import threading
import time

import pytest

import harness
from flow_probes import under_asan

INTERVAL_MS = 100
EVENTS = 5
MAX_SLEEP_MS = 5000
MIB = 1 << 20


def example_routes():
    return [
        {"path": "/ping", "handler": "ping"},
        {"path": "/events", "handler": "sse_clock", "interval_ms": INTERVAL_MS},
        {"path": "/events/few", "handler": "sse_clock", "interval_ms": INTERVAL_MS, "count": EVENTS},
        {"path": "/sleep/{ms}", "handler": "sleep", "max_ms": MAX_SLEEP_MS},
        {"path": "/sha256", "handler": "sha256", "methods": ["POST"], "stream_body": True},
        {"path": "/sha256/buffered", "handler": "sha256", "methods": ["POST"]},
    ]


@pytest.fixture
def server(start_axle):
    # One worker: every request below shares one loop, so a handler that
    # blocked it (instead of waiting on a timer or the body) would show.
    return start_axle.start(workers=1, routes=example_routes())


def ping(addr):
    with harness.Conn(*addr) as c:
        r = c.request(b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
        assert r.status == 200


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_fds(pid, want, timeout=harness.IO_TIMEOUT):
    """Waits until the server holds at most `want` descriptors; returns the count."""
    deadline = time.monotonic() + timeout
    while True:
        n = fd_count(pid)
        if n <= want or time.monotonic() > deadline:
            return n
        time.sleep(0.05)


def read_head(c):
    head = c._read_until(b"\r\n\r\n").decode("latin-1")
    status = int(head.split(" ", 2)[1])
    headers = {}
    for line in head.split("\r\n")[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return status, headers


def read_chunk(c):
    """One chunk of a chunked body: its bytes (b"" for the last one, whose trailers are read too)."""
    size_line = c._read_until(b"\r\n")
    size = int(size_line.split(b";")[0], 16)
    if size == 0:
        while c._read_until(b"\r\n") != b"\r\n":
            pass
        return b""
    data = c._read_exact(size)
    assert c._read_exact(2) == b"\r\n", "chunk not followed by CRLF"
    return data


EVENT_RE = re.compile(rb"data: (\d+)\n\n")


def read_events(c, n):
    """n events from a chunked event stream: their server timestamps (Unix ms)."""
    stamps = []
    pending = b""
    while len(stamps) < n:
        chunk = read_chunk(c)
        assert chunk, f"the stream ended after {len(stamps)} events"
        pending += chunk
        while (m := EVENT_RE.match(pending)):
            stamps.append(int(m.group(1)))
            pending = pending[m.end():]
        assert len(pending) < 64, f"not an event: {pending!r}"
    assert pending == b""
    return stamps


# ---------------------------------------------------------------- the build

def test_list_modules_shows_the_examples():
    out = harness.run_axle(["--list-modules"], timeout=30)
    assert out.returncode == 0, out.stderr
    for name in ("sse_clock", "sleep", "sha256"):
        assert re.search(rf"^handler\s+{name}\s", out.stdout, re.M), out.stdout


def test_examples_config_checks():
    out = harness.run_axle(["--check", harness.REPO_ROOT / "configs" / "examples.toml"], timeout=30)
    assert out.returncode == 0, out.stderr + out.stdout


# ---------------------------------------------------------------- sse_clock

def test_sse_events_come_chunked_and_spaced_by_the_interval(server):
    addr = server.listeners[0]
    with harness.Conn(*addr) as c:
        start = time.monotonic()
        c.send(b"GET /events/few HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers = read_head(c)
        assert status == 200
        assert headers["content-type"] == "text/event-stream"
        assert headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in headers
        stamps = read_events(c, EVENTS)
        elapsed = time.monotonic() - start
        assert read_chunk(c) == b"", "the stream goes on after count events"
        # Lower bounds only: the server's own clock between events, and ours overall.
        gaps = [b - a for a, b in zip(stamps, stamps[1:])]
        assert all(g >= INTERVAL_MS - 1 for g in gaps), gaps
        assert elapsed >= (EVENTS - 1) * INTERVAL_MS / 1000
        # The connection stays usable after the stream ended.
        r = c.request(b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
        assert r.status == 200


def test_sse_http10_is_close_delimited(server):
    with harness.Conn(*server.listeners[0]) as c:
        c.send(b"GET /events/few HTTP/1.0\r\n\r\n")
        status, headers = read_head(c)
        assert status == 200 and "transfer-encoding" not in headers
        body = c._read_to_close()
        assert len(EVENT_RE.findall(body)) == EVENTS, body


def test_sse_clients_leaving_mid_stream_leave_nothing_behind(server):
    addr = server.listeners[0]
    pid = server.proc.pid
    ping(addr)
    fds_before = fd_count(pid)
    for _ in range(20):
        with harness.Conn(*addr) as c:
            c.send(b"GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
            read_head(c)
            read_events(c, 2)
    assert server.alive(), server.log_tail()
    ping(addr)
    assert wait_fds(pid, fds_before) <= fds_before


# ---------------------------------------------------------------- sleep

def test_sleep_answers_not_before_ms(server):
    with harness.Conn(*server.listeners[0]) as c:
        start = time.monotonic()
        r = c.request(b"GET /sleep/300 HTTP/1.1\r\nHost: t\r\n\r\n")
        elapsed = time.monotonic() - start
        assert r.status == 200 and r.body == b"slept 300 ms\n"
        assert elapsed >= 0.3
        # Keep-alive goes on after a kept response.
        assert c.request(b"GET /sleep/0 HTTP/1.1\r\nHost: t\r\n\r\n").body == b"slept 0 ms\n"


@pytest.mark.parametrize("ms", ["abc", "-5", "1e3", str(MAX_SLEEP_MS + 1), "99999999999999999999999"])
def test_sleep_refuses_bad_or_too_long_ms(server, ms):
    with harness.Conn(*server.listeners[0]) as c:
        r = c.request(f"GET /sleep/{ms} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        assert r.status == 400, r


def test_sleepers_do_not_block_the_worker(server):
    """Ten requests asleep for 3 s on the only worker: /ping still answers while
    none of them has (they are waiting on timers, not on the thread)."""
    addr = server.listeners[0]
    sleepers = [harness.Conn(*addr) for _ in range(10)]
    try:
        for c in sleepers:
            c.send(b"GET /sleep/3000 HTTP/1.1\r\nHost: t\r\n\r\n")
        ping(addr)
        for c in sleepers:
            c.sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                c.sock.recv(1)
            c.sock.settimeout(harness.IO_TIMEOUT)
        for c in sleepers:
            assert c.read_response().body == b"slept 3000 ms\n"
    finally:
        for c in sleepers:
            c.close()


def test_clients_leaving_mid_sleep_leave_nothing_behind(server):
    addr = server.listeners[0]
    pid = server.proc.pid
    ping(addr)
    fds_before = fd_count(pid)
    for _ in range(50):
        with harness.Conn(*addr) as c:
            c.send(b"GET /sleep/2000 HTTP/1.1\r\nHost: t\r\n\r\n")
    assert server.alive(), server.log_tail()
    ping(addr)
    assert wait_fds(pid, fds_before) <= fds_before


# ---------------------------------------------------------------- sha256

def post_sha256(addr, body, chunked=False, path="/sha256", piece=256 * 1024):
    with harness.Conn(*addr, timeout=harness.IO_TIMEOUT * 6) as c:
        if chunked:
            c.send(f"POST {path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
            for i in range(0, len(body), piece):
                part = body[i:i + piece]
                c.send(b"%x\r\n" % len(part) + part + b"\r\n")
            c.send(b"0\r\n\r\n")
        else:
            c.send(f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n\r\n".encode())
            c.send(body)
        return c.read_response()


def test_sha256_of_a_32_mib_body_with_content_length_in_bounded_memory(server):
    addr = server.listeners[0]
    post_sha256(addr, b"warm up")
    body = os.urandom(32 * MIB)
    rss_before = rss_bytes(server.proc.pid)
    r = post_sha256(addr, body)
    growth = rss_bytes(server.proc.pid) - rss_before
    assert r.status == 200
    assert r.body == hashlib.sha256(body).hexdigest().encode() + b"\n"
    if not under_asan(server.proc.pid):  # ASan's quarantine holds freed memory
        assert growth < 16 * MIB, f"RSS grew by {growth} bytes for a 32 MiB upload"


def test_sha256_of_a_32_mib_chunked_body(server):
    body = os.urandom(32 * MIB)
    r = post_sha256(server.listeners[0], body, chunked=True)
    assert r.status == 200
    assert r.body == hashlib.sha256(body).hexdigest().encode() + b"\n"


@pytest.mark.parametrize("body", [b"", b"abc"])
def test_sha256_small_bodies_streamed_and_buffered(server, body):
    want = hashlib.sha256(body).hexdigest().encode() + b"\n"
    assert post_sha256(server.listeners[0], body).body == want
    assert post_sha256(server.listeners[0], body, path="/sha256/buffered").body == want


def test_clients_leaving_mid_upload_leave_nothing_behind(server):
    addr = server.listeners[0]
    pid = server.proc.pid
    ping(addr)
    fds_before = fd_count(pid)
    for i in range(20):
        with harness.Conn(*addr) as c:
            c.send(b"POST /sha256 HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n")
            c.send(os.urandom(256 * 1024))
            if i % 2:
                c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
    assert server.alive(), server.log_tail()
    ping(addr)
    assert wait_fds(pid, fds_before) <= fds_before


# ---------------------------------------------------------------- Outgoing (tests/sdk/relay_probe.cpp)

class Peer:
    """A one-connection TCP peer on 127.0.0.1: records what it got and when its
    connection ended; answers `reply` once it read the client's half-close."""

    def __init__(self, reply=b"pong\n", answer=True):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(harness.IO_TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.reply, self.answer = reply, answer
        self.got = b""
        self.closed_by_server = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(harness.IO_TIMEOUT * 2)
            try:
                while (data := conn.recv(4096)):
                    self.got += data
                if self.answer:
                    conn.sendall(self.reply)
                    return
                # Not answering: wait for the server to close its side.
                conn.sendall(b"partial")
                while conn.recv(4096):
                    pass
                self.closed_by_server.set()
            except OSError:
                self.closed_by_server.set()

    def close(self):
        self.listener.close()
        self.thread.join(timeout=harness.IO_TIMEOUT)


@pytest.fixture
def relay_server(start_axle):
    routes = [{"path": "/ping", "handler": "ping"}, {"path": "/relay/{port}", "handler": "relayprobe"}]
    return start_axle.start(workers=1, routes=routes, module_dirs=[harness.build_dir() / "tests" / "sdk"])


def test_outgoing_connect_send_read_to_the_end(relay_server):
    peer = Peer()
    try:
        with harness.Conn(*relay_server.listeners[0]) as c:
            r = c.request(f"GET /relay/{peer.port} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        assert r.status == 200 and r.body == b"pong\n"
        assert peer.got == b"ping\n"
    finally:
        peer.close()


def test_outgoing_refused_connect_is_a_500(relay_server):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nobody listens there now
    with harness.Conn(*relay_server.listeners[0]) as c:
        r = c.request(f"GET /relay/{port} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    assert r.status == 500
    ping(relay_server.listeners[0])


def test_client_leaving_closes_the_outgoing_connection(relay_server):
    peer = Peer(answer=False)
    try:
        c = harness.Conn(*relay_server.listeners[0])
        c.send(f"GET /relay/{peer.port} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        deadline = time.monotonic() + harness.IO_TIMEOUT
        while peer.got != b"ping\n" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert peer.got == b"ping\n"
        c.close()  # the request is aborted: its coroutine frame goes, and the Outgoing with it
        assert peer.closed_by_server.wait(harness.IO_TIMEOUT * 2), "the outgoing connection stayed open"
        assert relay_server.alive(), relay_server.log_tail()
        ping(relay_server.listeners[0])
    finally:
        peer.close()
