"""Configured limits and timeouts, each on its own server."""

import socket
import time

import harness
from harness import Conn, get, post

SHORT_TIMEOUTS = {"header_ms": 500, "idle_ms": 500, "body_ms": 500, "write_ms": 2000, "drain_ms": 1000}


def closed_or_timed_out(c: Conn, timeout=harness.IO_TIMEOUT):
    """Waits for the server to give up on the connection: a plain close, or a
    408 followed by a close. Returns the 408 response if one came."""
    c.sock.settimeout(timeout)
    try:
        resp = c.read_response()
    except harness.PeerClosed:
        return None
    except socket.timeout:
        raise AssertionError(f"server neither answered nor closed within {timeout}s")
    assert resp.status == 408, f"want 408 or a plain close, got {resp!r}"
    assert c.wait_closed(timeout), "408 sent but the connection stayed open"
    return resp


def test_half_a_head_is_timed_out(start_axle, static_root):
    server = start_axle.start(routes=harness.default_routes(static_root), timeouts=SHORT_TIMEOUTS)
    with Conn(*server.listeners[0]) as c:
        c.send(b"GET /ping HTTP/1.1\r\nHost: a\r\nX-Incompl")
        closed_or_timed_out(c)


def test_slowloris_trickle_is_timed_out(start_axle, static_root):
    # header_ms bounds the whole head, not the gap between bytes.
    server = start_axle.start(routes=harness.default_routes(static_root), timeouts=SHORT_TIMEOUTS)
    with Conn(*server.listeners[0]) as c:
        c.send(b"GET /ping HTTP/1.1\r\nHost: a\r\n")
        deadline = time.monotonic() + harness.IO_TIMEOUT
        while True:
            assert time.monotonic() < deadline, "a client trickling one header byte per 100 ms was never cut off"
            try:
                c.send(b"X")
            except OSError:
                return  # closed (reset) by the server
            c.sock.settimeout(0.1)
            try:
                c._fill()
            except socket.timeout:
                continue
            except harness.PeerClosed:
                return
            closed_or_timed_out(c)  # bytes arrived: they must be a 408, then close
            return


def test_idle_keep_alive_connection_is_closed(start_axle, static_root):
    server = start_axle.start(routes=harness.default_routes(static_root), timeouts=SHORT_TIMEOUTS)
    with Conn(*server.listeners[0]) as c:
        assert c.request(get("/ping")).body == b"pong"
        assert c.wait_closed(harness.IO_TIMEOUT), "idle keep-alive connection not closed"


def test_silent_new_connection_is_closed(start_axle, static_root):
    server = start_axle.start(routes=harness.default_routes(static_root), timeouts=SHORT_TIMEOUTS)
    with Conn(*server.listeners[0]) as c:
        assert c.wait_closed(harness.IO_TIMEOUT), "connection that never sent a byte not closed"


def test_half_a_body_is_timed_out(start_axle, static_root):
    server = start_axle.start(routes=harness.default_routes(static_root), timeouts=SHORT_TIMEOUTS)
    with Conn(*server.listeners[0]) as c:
        c.send(b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly some")
        closed_or_timed_out(c)


def test_requests_within_the_timeouts_still_work(start_axle, static_root):
    server = start_axle.start(routes=harness.default_routes(static_root), timeouts=SHORT_TIMEOUTS)
    with Conn(*server.listeners[0]) as c:
        for _ in range(3):
            assert c.request(get("/ping")).body == b"pong"
            time.sleep(0.05)


def test_connection_limit(start_axle, static_root):
    limit = 3
    server = start_axle.start(routes=harness.default_routes(static_root), workers=1,
                              limits={"max_connections": limit})
    addr = server.listeners[0]
    held = [Conn(*addr) for _ in range(limit)]
    try:
        for c in held:  # each one is accepted and served
            assert c.request(get("/ping")).body == b"pong"
        # Over the limit (in the reserve, which serves only /metrics): a 503
        # that says when to retry, then a close.
        with Conn(*addr) as extra:
            resp = extra.request(get("/ping"))
            assert resp.status == 503 and resp.header("retry-after") == "1", f"connection {limit + 1}: {resp!r}"
            assert extra.wait_closed(), "503 sent but connection over the limit stayed open"
        for c in held:  # the first N keep working
            assert c.request(get("/ping")).body == b"pong"
        # A freed slot is usable again.
        held.pop().close()
        assert harness.eventually_served(addr).body == b"pong"
    finally:
        for c in held:
            c.close()


def test_small_body_limit_applies_to_chunked_bodies(start_axle, static_root):
    server = start_axle.start(routes=harness.default_routes(static_root), limits={"max_body_bytes": 1024})
    addr = server.listeners[0]
    with Conn(*addr) as c:
        assert c.request(post("/echo/x", b"a" * 1024)).body == b"a" * 1024
    with Conn(*addr) as c:
        chunk = b"400\r\n" + b"b" * 1024 + b"\r\n"
        req = b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 2 + b"0\r\n\r\n"
        c.send(req)
        resp = c.read_response()
        assert resp.status == 413, resp
        assert c.wait_closed()


def test_small_head_and_target_limits(start_axle, static_root):
    server = start_axle.start(routes=harness.default_routes(static_root),
                              limits={"max_head_bytes": 1024, "max_target_bytes": 64, "max_headers": 4})
    addr = server.listeners[0]
    with Conn(*addr) as c:
        assert c.request(get("/echo/" + "a" * 40)).status == 200
    with Conn(*addr) as c:
        c.send(get("/echo/" + "a" * 100))
        assert c.read_response().status == 414
    with Conn(*addr) as c:
        c.send(get("/ping", extra=b"X-Big: " + b"x" * 1100 + b"\r\n"))
        assert c.read_response().status == 431
    with Conn(*addr) as c:
        c.send(get("/ping", extra=b"".join(b"X-%d: v\r\n" % i for i in range(8))))
        assert c.read_response().status in (400, 431)
