"""Limits that tell the truth (issue 12): connections over max_connections get
a 503 (the reserve still serves /metrics, the admin endpoint keeps working),
write_ms is a timeout on no progress, the access log records what was really
written, and SIGTERM refuses new clients at once."""

import os
import re
import socket
import time

import harness
from harness import Conn, get

PROMETHEUS = {"metrics": "prometheus"}
REFUSED_RE = re.compile(r"worker \d+: (\d+) connection\(s\) refused")
ADMIN = '[admin]\nlisten = "127.0.0.1:0"'


def limited(start_axle, static_root, max_connections, reserve, extra=""):
    return start_axle.start(routes=harness.default_routes(static_root), workers=1, modules=PROMETHEUS,
                            limits={"max_connections": max_connections, "reserve_connections": reserve},
                            extra=extra)


def hold_served(addr, n):
    """n connections, each accepted (it was answered) and kept open."""
    held = []
    for _ in range(n):
        c = Conn(*addr)
        assert c.request(get("/ping")).body == b"pong"
        held.append(c)
    return held


def read_refusal(addr):
    """The answer a connection over every band gets: the prebuilt 503, then a close."""
    with Conn(*addr) as c:
        c.send(get("/ping"))
        resp = c.read_response()
        assert resp.status == 503, resp
        assert resp.header("retry-after") == "1", resp
        assert resp.header("connection") == "close", resp
        assert resp.body == b"too many connections, retry\n", resp
        assert c.wait_closed(), "503 sent but the connection stayed open"


def metric(addr, name):
    """The metric's value, and how many of our own tries were refused first
    (the server may not have seen the freed slots' closes yet)."""
    deadline, refused = time.monotonic() + harness.IO_TIMEOUT, 0
    while True:
        with Conn(*addr) as c:
            resp = c.request(get("/metrics"))
        if resp.status != 503:
            break
        assert time.monotonic() < deadline, "no slot came free for /metrics"
        refused += 1
        time.sleep(0.05)
    body = resp.body.decode()
    m = re.search(r"^" + re.escape(name) + r" (\d+)$", body, re.M)
    assert m, f"{name} not in /metrics:\n{body}"
    return int(m.group(1)), refused


def test_connections_over_the_limit_get_a_prebuilt_503_and_are_counted(start_axle, static_root):
    server = limited(start_axle, static_root, max_connections=2, reserve=0)
    addr = server.listeners[0]
    held = hold_served(addr, 2)
    try:
        refused = 5
        started = time.monotonic()
        for _ in range(refused):
            read_refusal(addr)
        burst_s = time.monotonic() - started
        for c in held:  # the served ones are untouched
            assert c.request(get("/ping")).body == b"pong"
    finally:
        for c in held:
            c.close()
    # Counted on /metrics (the slots are free again)...
    value, ours = metric(addr, 'axle_connections_refused_total{module="kernel"}')
    refused += ours
    assert value == refused
    # ...and logged at most once a second per worker, the lines covering every refusal.
    logged, deadline = 0, time.monotonic() + harness.IO_TIMEOUT
    while logged < refused and time.monotonic() < deadline:
        with server._lock:
            lines = [l for l in server.stderr_lines if REFUSED_RE.search(l)]
        logged = sum(int(REFUSED_RE.search(l).group(1)) for l in lines)
        time.sleep(0.1)
    assert logged == refused, lines
    assert len(lines) <= 2 + burst_s, f"more than one refusal line a second: {lines}"


def test_the_reserve_serves_metrics_only_and_the_admin_endpoint_stays_up(start_axle, static_root):
    server = limited(start_axle, static_root, max_connections=2, reserve=1, extra=ADMIN)
    server.wait_for_log(r"admin listening on")
    addr = server.listeners[0]
    held = hold_served(addr, 2)
    try:
        # In the reserve: /metrics is answered (and the connection closes after it)...
        with Conn(*addr) as c:
            resp = c.request(get("/metrics"))
            assert resp.status == 200 and b"axle_" in resp.body, resp
            assert resp.header("connection") == "close", resp
            assert c.wait_closed()
        # ...any other route gets a 503 with Retry-After.
        with Conn(*addr) as c:
            resp = c.request(get("/ping"))
            assert resp.status == 503 and resp.header("retry-after") == "1", resp
            assert c.wait_closed()
        # The admin listener has its own thread and counts no connection.
        with Conn(*server.admin[0]) as c:
            assert c.request(get("/generations", host="127.0.0.1")).status == 200
    finally:
        for c in held:
            c.close()


def slow_client(addr, rcvbuf=32 * 1024):
    """A client whose receive window is small, so the server's writes wait on it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: it sets the window
    s.settimeout(harness.IO_TIMEOUT)
    s.connect(addr)
    return harness.client_socket(s, addr[0])  # through TLS under AXLE_TLS


def read_head(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        assert chunk, f"closed before the head ended; had {buf!r}"
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def access_lines(path, want, timeout=harness.IO_TIMEOUT):
    """The access log's lines once it has `want` of them (it is flushed every second)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= want or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def big_file_server(start_axle, tmp_path, size, write_ms):
    root = tmp_path / "root"
    root.mkdir()
    data = os.urandom(size)
    (root / "big.bin").write_bytes(data)
    log = tmp_path / "access.log"
    # A fixed, small send buffer (no autotuning): how much the kernel holds
    # for a client that does not read is known, not up to megabytes.
    server = start_axle.start(routes=[{"path": "/s/*", "handler": "static", "root": str(root)}],
                              timeouts={"write_ms": write_ms, "idle_ms": 60000},
                              extra=f'[sockets]\nsend_buffer = 65536\n\n[log]\naccess_log = "{log}"')
    return server, data, log


def test_a_slow_but_steady_reader_gets_the_whole_file(start_axle, tmp_path):
    # 32 KiB every 0.1 s: each 64 KiB write step completes in about 0.2 s,
    # well inside write_ms, while the whole file takes about 3 s, three
    # times write_ms (the old whole-response deadline cut it off).
    size = 1 << 20
    server, data, log = big_file_server(start_axle, tmp_path, size, write_ms=1000)
    with slow_client(server.listeners[0]) as s:
        s.sendall(get("/s/big.bin"))
        head, body = read_head(s)
        assert head.startswith(b"HTTP/1.1 200 "), head
        while len(body) < size:
            time.sleep(0.1)
            chunk = s.recv(32 * 1024)
            assert chunk, f"closed after {len(body)} of {size} body bytes"
            body += chunk
        assert body == data
    line = access_lines(log, 1)[-1]
    m = re.search(r'" 200 (\d+) ', line)
    assert m and int(m.group(1)) == len(head) + size, line


def test_a_reader_that_stops_is_cut_off_logged_and_the_access_log_has_the_real_count(start_axle, tmp_path):
    size = 8 << 20  # far more than the fixed buffers (64 KiB send buffer, 32 KiB window) hold
    server, _, log = big_file_server(start_axle, tmp_path, size, write_ms=500)
    mark = server.log_mark()
    with slow_client(server.listeners[0]) as s:
        s.sendall(get("/s/big.bin"))
        head, body = read_head(s)
        # Stop reading; wait for the server's own account of the cut-off.
        line = server.wait_for_log(r"write timeout: client 127\.0\.0\.1 ", timeout=harness.IO_TIMEOUT, start=mark)
        m = re.search(r"(\d+) of (\d+) bytes written", line)
        assert m, line
        written, total = int(m.group(1)), int(m.group(2))
        assert total == len(head) + size and 0 < written < total, line
        # Everything the server wrote arrives, then the close.
        received = len(head) + len(body)
        try:
            while True:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                received += len(chunk)
        except ConnectionResetError:
            pass
        assert written <= received < total, (written, received, total)
    entry = access_lines(log, 1)[-1]
    m = re.search(r'" 200 (\d+) ', entry)
    assert m and int(m.group(1)) == written, (entry, written)


def test_sigterm_refuses_new_clients_at_once_and_finishes_in_flight_ones(start_axle, static_root):
    server = start_axle.start(routes=harness.default_routes(static_root), timeouts={"drain_ms": 20000})
    addr = server.listeners[0]
    with Conn(*addr) as in_flight:
        assert in_flight.request(get("/ping")).body == b"pong"
        # A request whose body is still on its way when the signal comes.
        in_flight.send(b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello")
        mark = server.log_mark()
        server.send_signal()
        server.wait_for_log(r"shutting down", start=mark)
        # New clients are refused at once, not queued until the drain ends.
        deadline = time.monotonic() + harness.IO_TIMEOUT
        while True:
            try:
                socket.create_connection(addr, timeout=harness.IO_TIMEOUT).close()
            except ConnectionRefusedError:
                break
            assert time.monotonic() < deadline, "connections still accepted after SIGTERM"
            time.sleep(0.05)
        in_flight.send(b"world")
        resp = in_flight.read_response()
        assert resp.status == 200 and resp.body == b"helloworld", resp
        assert resp.header("connection") == "close", resp
    assert server.stop() == 0
