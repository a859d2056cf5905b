"""The transport kind through the real binary (`ctest -L transport`): the
fixture transport "xor" (tests/fixtures/xor_transport.c: the client sends 'H',
the server answers 'h', then every byte is XORed with 0x5A both ways) wraps
the connections of [tls] listen, on both io modules, beside an unwrapped
cleartext listener. The fixture aborts the server when the kernel breaks the
transport contract, so every test here also checks the server is still alive
and exits 0 at the end.
"""

import os
import re
import select
import signal
import socket
import time

import pytest

import harness
from harness import IO_TIMEOUT, Conn, PeerClosed, get, run_axle

KEY = 0x5A
HTTPS_RE = r"listening on https://127\.0\.0\.1:(\d+) \(xor: test transport"


def xor(data: bytes) -> bytes:
    return bytes(b ^ KEY for b in data)


class XorConn(Conn):
    """A client of the xor transport: Conn's HTTP reader over XORed bytes."""

    def __init__(self, host, port, handshake=True, **kw):
        super().__init__(host, port, **kw)
        if handshake:
            self.sock.sendall(b"H")
            assert self.sock.recv(1) == b"h"

    def send(self, data: bytes):
        self.sock.sendall(xor(data))

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError as e:
            raise PeerClosed(f"connection reset; had {self.buf!r}") from e
        if not chunk:
            raise PeerClosed(f"connection closed; had {self.buf!r}")
        self.buf += xor(chunk)


def closed_without_a_byte(sock) -> bool:
    """The server closed (FIN, or RST when our bytes were left unread) and sent nothing."""
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def fixture_or_skip():
    path = harness.fixtures_dir() / "axle-transport-xor.so"
    if not path.exists():
        pytest.skip(f"fixture {path} not built")


def tls_config(static_root, io="epoll", workers=2, tls_extra="", modules=None, greeting="hello", tables="",
               timeouts=None):
    chosen = {"io": io, "tls": "xor"}
    chosen.update(modules or {})
    return harness.render_config(
        workers=workers, module_dirs=[harness.fixtures_dir()], modules=chosen, timeouts=timeouts,
        routes=[{"path": "/hi", "handler": "hello", "greeting": greeting},
                {"path": "/static/*", "handler": "static", "root": str(static_root)}],
        extra=f'{tables}\n[tls]\nlisten = ["127.0.0.1:0"]\n{tls_extra}')


def start(start_axle, config_text, args=()):
    """The server and its (host, port) for https and for http."""
    server = start_axle.start(config_text, args=args)
    port = int(re.search(HTTPS_RE, server.wait_for_log(HTTPS_RE)).group(1))
    return server, ("127.0.0.1", port), server.listeners[0]


def io_or_skip(io, tmp_path):
    cfg = tmp_path / "io.toml"
    cfg.write_text(harness.render_config(modules={"io": io}))
    check = run_axle(["--check", cfg])
    if check.returncode != 0 and "is not available" in check.stderr:
        pytest.skip(f"io module {io} cannot run here: {check.stderr.strip()}")


@pytest.fixture
def big_file(static_root):
    """A file many times the fixture's 16 KiB output bound, so sendfile goes piece by piece."""
    data = os.urandom(300 * 1024 + 7)
    (static_root / "big.bin").write_bytes(data)
    return data


@pytest.mark.parametrize("io", ["epoll", "uring"])
def test_requests_over_the_transport_on_each_io_module(start_axle, static_root, tmp_path, io, big_file):
    fixture_or_skip()
    io_or_skip(io, tmp_path)
    access_log = tmp_path / "access.log"
    server, secure, plain = start(start_axle, tls_config(static_root, io=io,
                                                         tables=f'[log]\naccess_log = "{access_log}"'))
    with XorConn(*secure) as c:
        resp = c.request(get("/hi"))
        assert resp.status == 200 and resp.body == b"hello", resp
        assert resp.header("x-request-secure") == "yes", resp
        # keep-alive, then three pipelined requests in one write
        assert c.request(get("/hi")).body == b"hello"
        c.send(get("/hi") + get("/static/hello.txt") + get("/hi"))
        bodies = [c.read_response().body for _ in range(3)]
        assert bodies == [b"hello", b"hello, static world\n", b"hello"]
        # a static file through the transport's sendfile (pread, XOR, send)
        resp = c.request(get("/static/big.bin"))
        assert resp.status == 200 and resp.body == big_file
        assert c.request(get("/hi")).body == b"hello"  # still in step after it
    # the cleartext listener beside it is not wrapped
    with Conn(*plain) as c:
        resp = c.request(get("/hi"))
        assert resp.body == b"hello" and resp.header("x-request-secure") == "no", resp
    # The access log reads each client's address through the stream vtable.
    assert server.stop() == 0
    lines = access_log.read_text().splitlines()
    assert len(lines) == 8 and all(line.startswith("127.0.0.1 ") for line in lines), lines


def test_pipelined_files_pause_and_resume_reading(start_axle, static_root, big_file):
    """Twenty pipelined requests for a 300 KiB file, unread at first: the
    engine's output bound pauses reading through the stream vtable, and every
    byte still arrives in order once the client reads."""
    fixture_or_skip()
    server, secure, _ = start(start_axle, tls_config(static_root))
    with XorConn(*secure) as c:
        c.send(get("/static/big.bin") * 20 + get("/hi"))
        time.sleep(0.2)  # let the server fill its bounds; the result does not depend on it
        for _ in range(20):
            resp = c.read_response()
            assert resp.status == 200 and resp.body == big_file
        assert c.read_response().body == b"hello"
    assert server.alive()


def test_listen_override_keeps_the_tls_listeners(start_axle, static_root):
    fixture_or_skip()
    server, secure, plain = start(start_axle, tls_config(static_root), args=["--listen", "127.0.0.1:0"])
    assert len(server.listeners) == 1  # the cleartext one, from --listen
    with XorConn(*secure) as c:
        assert c.request(get("/hi")).body == b"hello"


def test_client_closing_mid_response_is_clean(start_axle, static_root, big_file):
    """The client leaves while a large file is still going out: the kernel
    closes the stream with a send in flight and the fixture sees no call after."""
    fixture_or_skip()
    server, secure, _ = start(start_axle, tls_config(static_root))
    for _ in range(5):
        c = XorConn(*secure)
        c.send(get("/static/big.bin"))
        c.sock.recv(1024)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()  # RST
    with XorConn(*secure) as c:
        assert c.request(get("/hi")).body == b"hello"
    assert server.alive()


def test_a_stalled_handshake_is_closed_by_the_kernels_timeout(start_axle, static_root):
    """A client that connects and never says 'H': the kernel's own deadline
    closes it through the stream vtable like any silent connection."""
    fixture_or_skip()
    server, secure, _ = start(start_axle, tls_config(static_root, timeouts={"header_ms": 300, "idle_ms": 300}))
    with XorConn(*secure, handshake=False) as c:
        assert c.wait_closed(), "a silent connection was not closed"
    with XorConn(*secure) as c:  # a handshake, then silence
        assert c.wait_closed(), "a silent connection was not closed"
    assert server.alive()


def scrape(addr):
    with Conn(*addr) as c:
        text = c.request(get("/metrics")).body.decode()
    return text


def metric(text, name):
    m = re.search(rf"^{name}(?:{{[^}}]*}})? (\d+)$", text, re.M)
    return int(m.group(1)) if m else 0


def test_bad_handshake_is_closed_and_counted(start_axle, static_root):
    fixture_or_skip()
    server, secure, plain = start(start_axle, tls_config(static_root, modules={"metrics": "prometheus"}))
    for _ in range(3):
        with XorConn(*secure, handshake=False) as c:
            c.sock.sendall(b"GET /hi HTTP/1.1\r\nHost: a\r\n\r\n")  # plaintext HTTP to the TLS port
            assert closed_without_a_byte(c.sock)
    assert metric(scrape(plain), "axle_xor_bad_handshakes_total") == 3
    with XorConn(*secure) as c:
        assert c.request(get("/hi")).body == b"hello"
    assert server.alive()


def test_conn_open_refusal_is_closed_counted_and_logged(start_axle, static_root):
    """max_handshakes = 1 on one worker: of two connections that stay in their
    handshake, conn_open refuses the second accepted (AXLE_AGAIN); the kernel
    closes it and counts it in axle_tls_refused_total."""
    fixture_or_skip()
    server, secure, plain = start(start_axle, tls_config(static_root, workers=1, tls_extra="max_handshakes = 1",
                                                         modules={"metrics": "prometheus"}))
    mark = server.log_mark()
    a = XorConn(*secure, handshake=False)
    b = XorConn(*secure, handshake=False)
    try:
        readable, _, _ = select.select([a.sock, b.sock], [], [], IO_TIMEOUT)
        assert len(readable) == 1, "exactly one of the two must be refused"
        refused, kept = (a, b) if readable[0] is a.sock else (b, a)
        assert closed_without_a_byte(refused.sock)
        kept.sock.sendall(b"H")
        assert kept.sock.recv(1) == b"h"
        assert kept.request(get("/hi")).body == b"hello"
    finally:
        a.close()
        b.close()
    server.wait_for_log(r"1 TLS connection\(s\) refused by the transport and closed "
                        r"\(last: its bound of concurrent handshakes is reached\)", start=mark)
    assert metric(scrape(plain), "axle_tls_refused_total") == 1
    assert metric(scrape(plain), "axle_connections_refused_total") == 0  # a distinct count


@pytest.mark.parametrize("new_io", ["epoll", "uring"])
def test_reload_keeps_a_wrapped_connection_working(start_axle, static_root, tmp_path, new_io):
    """A reload, and an io swap, hand the TLS listeners to the new workers;
    a wrapped connection finishes on its old generation."""
    fixture_or_skip()
    io_or_skip(new_io, tmp_path)
    server, secure, _ = start(start_axle, tls_config(static_root, greeting="one"))
    config = start_axle.tmp_path / f"axle-{start_axle.count}.toml"
    with XorConn(*secure) as old:
        assert old.request(get("/hi")).body == b"one"
        config.write_text(tls_config(static_root, io=new_io, greeting="two"))
        mark = server.log_mark()
        server.proc.send_signal(signal.SIGHUP)
        server.wait_for_log(rf"generation 2 serving: io={new_io} ", start=mark)
        server.wait_for_log(r"generation 2 serves \[tls\] listen with xor: test transport", start=mark)
        # the old generation still serves this connection, through its own transport
        resp = old.request(get("/hi"))
        assert resp.body == b"one" and resp.header("x-request-secure") == "yes", resp
        # The old workers stop accepting once they see the drain: until then
        # a new connection may still land on generation 1.
        deadline = time.monotonic() + IO_TIMEOUT
        while True:
            with XorConn(*secure) as new:
                body = new.request(get("/hi")).body
            assert body in (b"one", b"two")
            if body == b"two" or time.monotonic() > deadline:
                break
        assert body == b"two"
    server.wait_for_log(r"generation 1 retired", start=mark)
    with XorConn(*secure) as c:
        assert c.request(get("/hi")).body == b"two"


def test_reload_cannot_change_tls_listen(start_axle, static_root):
    fixture_or_skip()
    server, secure, _ = start(start_axle, tls_config(static_root))
    config = start_axle.tmp_path / f"axle-{start_axle.count}.toml"
    config.write_text(tls_config(static_root).replace('[tls]\nlisten = ["127.0.0.1:0"]',
                                                      '[tls]\nlisten = ["127.0.0.1:0", "127.0.0.2:0"]'))
    mark = server.log_mark()
    server.proc.send_signal(signal.SIGHUP)
    server.wait_for_log(r"reload failed, generation 1 keeps serving: .*tls\.listen changed", start=mark)
    with XorConn(*secure) as c:
        assert c.request(get("/hi")).body == b"hello"


# ---- --check: the config errors, and the transport instance is built ----

def check(tmp_path, text):
    cfg = tmp_path / "t.toml"
    cfg.write_text(text)
    return run_axle(["--check", cfg]), str(cfg)


def test_check_builds_the_transport(tmp_path, static_root):
    fixture_or_skip()
    out, _ = check(tmp_path, tls_config(static_root))
    assert out.returncode == 0, out.stderr
    # The transport's own keys are validated by building it.
    out, path = check(tmp_path, tls_config(static_root, tls_extra='max_handshakes = "many"'))
    assert out.returncode != 0
    assert re.search(rf"{re.escape(path)}:\d+: tls\.max_handshakes", out.stderr), out.stderr
    out, path = check(tmp_path, tls_config(static_root, tls_extra="bogus = 1"))
    assert out.returncode != 0 and "tls.bogus" in out.stderr, out.stderr


def test_check_config_errors(tmp_path, static_root):
    fixture_or_skip()
    text = tls_config(static_root)
    out, path = check(tmp_path, text.replace('tls = "xor"\n', ""))
    assert out.returncode != 0
    assert re.search(rf"{re.escape(path)}:\d+: tls: \[tls\] needs \[modules\] tls", out.stderr), out.stderr
    out, path = check(tmp_path, text.replace('[tls]\nlisten = ["127.0.0.1:0"]\n', ""))
    assert out.returncode != 0
    assert re.search(rf"{re.escape(path)}:\d+: modules\.tls: needs a \[tls\] table", out.stderr), out.stderr
    out, path = check(tmp_path, text.replace('tls = "xor"', 'tls = "nosuch"'))
    assert out.returncode != 0
    assert re.search(rf"{re.escape(path)}:\d+: modules\.tls: no transport module 'nosuch'", out.stderr), out.stderr
    # a module of another kind is not a transport
    out, path = check(tmp_path, text.replace('tls = "xor"', 'tls = "hello"'))
    assert out.returncode != 0 and "modules.tls" in out.stderr, out.stderr
