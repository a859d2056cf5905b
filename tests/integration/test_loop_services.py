"""Loop services (ABI 1.2) through the real server with both io modules: a plain
C handler (tests/fixtures/loop_probe.c) keeps responses and finishes them from
a one-shot timer, a repeating timer (streamed), a task posted from another
thread, and an outgoing connection to a small echo server run here."""

import os
import socket
import threading
import time

import pytest

import harness
from harness import Conn, get, post

IO_MODULES = ["epoll", "uring"]


def probe_routes():
    return [
        {"path": "/timer/{ms}", "handler": "loopprobe"},
        {"path": "/repeat/{n}", "handler": "loopprobe"},
        {"path": "/post", "handler": "loopprobe"},
        {"path": "/connect/{port}", "handler": "loopprobe", "methods": ["POST"]},
        {"path": "/aborts", "handler": "loopprobe"},
        {"path": "/hold/{port}", "handler": "loopprobe"},
    ]


@pytest.fixture(params=IO_MODULES)
def server(request, start_axle):
    fixture = harness.fixtures_dir() / "axle-handler-loopprobe.so"
    # Not a skip: a missing fixture would make this whole file pass without testing anything.
    assert fixture.exists(), f"{fixture} not built (cmake --build build --target axle-fixtures)"
    return start_axle.start(module_dirs=[harness.fixtures_dir()], modules={"io": request.param}, workers=2,
                            routes=probe_routes())


class EchoServer:
    """Accepts up to max_conns connections; each one gets back what it sent, after its EOF."""

    def __init__(self, max_conns=64):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(harness.IO_TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.max_conns = max_conns
        self.served = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.served < self.max_conns:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.served += 1
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    @staticmethod
    def _echo(c):
        c.settimeout(harness.IO_TIMEOUT)
        data = b""
        try:
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
            c.sendall(data)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.sock.close()


class FloodServer:
    """Accepts one connection, sends it `size` bytes (byte i is i % 251) as fast as it takes them, closes."""

    def __init__(self, size):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(harness.IO_TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.data = (bytes(range(251)) * (size // 251 + 1))[:size]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        c.settimeout(harness.IO_TIMEOUT)
        try:
            c.sendall(self.data)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.sock.close()


def closed_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # bound, never listening: connecting is refused
    return port


def aborts(addr):
    with Conn(*addr) as c:
        r = c.request(get("/aborts"))
        assert r.status == 200, r
        return int(r.body)


def open_fds(server):
    return len(os.listdir(f"/proc/{server.proc.pid}/fd"))


def test_one_shot_timer_finishes_a_kept_response(server):
    with Conn(*server.listeners[0]) as c:
        r = c.request(get("/timer/30"))
        assert r.status == 200, r
        assert r.body.startswith(b"fired after "), r
        assert int(r.body.split()[2]) >= 30  # a timer never fires early
        # The connection goes on: the kept response ended cleanly.
        r = c.request(get("/timer/0"))
        assert r.status == 200 and r.body.startswith(b"fired after "), r


def test_repeating_timer_streams_lines_then_stops(server):
    with Conn(*server.listeners[0]) as c:
        r = c.request(get("/repeat/5"))
        assert r.status == 200, r
        assert r.header("transfer-encoding") == "chunked", r
        assert r.body == b"".join(b"line %d\n" % i for i in range(1, 6))
        r = c.request(get("/repeat/1"))
        assert r.body == b"line 1\n", r


def test_tasks_posted_from_helper_threads_finish_responses(server):
    conns = [Conn(*server.listeners[0]) for _ in range(16)]
    try:
        for c in conns:
            c.send(get("/post"))
        for c in conns:
            r = c.read_response()
            assert (r.status, r.body) == (200, b"finished by a posted task\n"), r
    finally:
        for c in conns:
            c.close()


def test_outgoing_connection_round_trip(server):
    echo = EchoServer()
    try:
        body = bytes(range(256)) * 400  # 100 KiB: several sends and reads
        with Conn(*server.listeners[0]) as c:
            r = c.request(post(f"/connect/{echo.port}", body))
            assert r.status == 200, r
            assert r.body == body
            r = c.request(post(f"/connect/{echo.port}", b"short"))
            assert r.body == b"short", r
    finally:
        echo.close()


def test_outgoing_connection_refused_is_a_502(server):
    with Conn(*server.listeners[0]) as c:
        r = c.request(post(f"/connect/{closed_port()}", b"nobody home"))
        assert r.status == 502, r
        assert r.body == b"connect failed: errno 111\n", r  # ECONNREFUSED


def test_outgoing_connections_leak_no_descriptor(server):
    echo = EchoServer(max_conns=40)
    try:
        with Conn(*server.listeners[0]) as c:
            c.request(get("/timer/0"))  # every worker-side descriptor of a connection exists now
            before = open_fds(server)
            refused = closed_port()
            for i in range(40):
                r = c.request(post(f"/connect/{echo.port}", b"x%d" % i))
                assert (r.status, r.body) == (200, b"x%d" % i), r
                r = c.request(post(f"/connect/{refused}", b"y"))
                assert r.status == 502, r
            # Closes finish at the end of a loop turn: a few more requests let them land.
            for _ in range(50):
                if open_fds(server) <= before:
                    break
                c.request(get("/timer/1"))
            assert open_fds(server) == before
    finally:
        echo.close()


def test_outgoing_pause_holds_bytes_the_io_module_delivers_late(server):
    # The probe reads 4 MiB freely, blocks its worker 200 ms while the peer
    # keeps sending, then pauses for 50 ms: io_uring hands over more than its
    # 1 MiB stash despite the pause; the host must hold those bytes until
    # outgoing_pause(0) and deliver them in order.
    size = 16 << 20
    flood = FloodServer(size)
    try:
        with Conn(*server.listeners[0]) as c:
            r = c.request(get(f"/hold/{flood.port}"))
            assert r.status == 200, r
            assert r.body == b"bytes=%d paused=0 bad=0 err=0\n" % size, r
    finally:
        flood.close()


def test_client_leaving_aborts_kept_responses(server):
    addr = server.listeners[0]
    start = aborts(addr)
    # A pending timer, a stream in progress and an outgoing connection whose
    # peer never answers: the client leaves each of them.
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        c = Conn(*addr)
        c.send(get("/timer/600000"))
        c.close()
        c = Conn(*addr)
        c.send(get("/repeat/1000000"))
        assert c._read_until(b"line 1\n")
        c.close()
        c = Conn(*addr)
        c.send(post(f"/connect/{silent.getsockname()[1]}", b"hello"))
        peer, _ = silent.accept()  # the outgoing connection is up
        c.close()
        for _ in range(100):  # bounded: ~5 s
            if aborts(addr) >= start + 3:
                break
            time.sleep(0.05)
        assert aborts(addr) == start + 3
        # The handler's on_abort closed the outgoing connection: after its
        # FIN, bytes the peer sends are answered with a reset.
        peer.settimeout(harness.IO_TIMEOUT)
        data = b""
        while True:
            chunk = peer.recv(100)
            if not chunk:
                break
            data += chunk
        assert data in (b"hello", b""), data
        reset = False
        for _ in range(100):  # bounded
            try:
                peer.sendall(b"late")
            except (BrokenPipeError, ConnectionResetError):
                reset = True
                break
            time.sleep(0.02)
        assert reset, "the outgoing connection is still open after on_abort"
        peer.close()
    finally:
        silent.close()
    # The server is still healthy.
    with Conn(*addr) as c:
        assert c.request(get("/timer/0")).status == 200
