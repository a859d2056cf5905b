"""The `proxy` handler (modules/handler-proxy) through the real server: axle
backends (ping, echo, static) for the plain paths, and a small Python backend
(below) where a server must misbehave on purpose: slow first byte, reset,
malformed answer, interim responses, a WebSocket-style tunnel. Nothing here
waits on a timing threshold: tests count bytes, requests and connections."""

import hashlib
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

import flow_probes as fp
import harness
from harness import Conn, get, post



@pytest.fixture(autouse=True)
def _proxy_built():
    # Not a skip: a missing module would make this whole file pass without testing anything.
    module = harness.module_dir() / "axle-handler-proxy.so"
    assert module.exists(), f"{module} not built (cmake --build build --target axle-handler-proxy)"


# ---------------------------------------------------------------- a scriptable backend

class Backend:
    """An HTTP/1.1 server on 127.0.0.1:0 with keep-alive. behave(method, path,
    head, body, sock) answers one request (returns False to close the
    connection). Counts accepted connections and requests per path."""

    def __init__(self, behave=None, max_conns=256):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.behave = behave or standard_behaviour
        self.accepts = 0
        self.requests = []  # (method, path, raw head)
        self.max_conns = max_conns
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def _accept(self):
        while self.accepts < self.max_conns:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepts += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.settimeout(30)
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = c.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers.setdefault(name.strip().lower(), value.strip())
                with self.lock:
                    self.requests.append((method, target, head))
                reader = BodyReader(c, buf, headers)
                if not self.behave(method, target, head, reader, c):
                    return
                buf = reader.rest
        except OSError:
            pass
        finally:
            c.close()

    def count(self, path):
        with self.lock:
            return sum(1 for _, p, _ in self.requests if p == path)

    def close(self):
        self.sock.close()


class BodyReader:
    """The request body (Content-Length or chunked), read on demand, hashed."""

    def __init__(self, sock, buf, headers):
        self.sock, self.rest, self.headers = sock, buf, headers

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise OSError("client closed mid-body")
        self.rest += chunk

    def _exact(self, n, sink):
        while n:
            if not self.rest:
                self._fill()
            piece, self.rest = self.rest[:n], self.rest[n:]
            sink(piece)
            n -= len(piece)

    def _line(self):
        while b"\r\n" not in self.rest:
            self._fill()
        line, self.rest = self.rest.split(b"\r\n", 1)
        return line

    def digest(self):
        """(bytes, sha256 hex) of the whole body."""
        h = hashlib.sha256()
        total = [0]

        def sink(piece):
            h.update(piece)
            total[0] += len(piece)

        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line() != b"":
                        pass
                    break
                self._exact(size, sink)
                assert self._line() == b""
        else:
            self._exact(int(self.headers.get("content-length", "0")), sink)
        return total[0], h.hexdigest()


BLOCK = hashlib.sha256(b"axle").digest() * 2048  # 64 KiB


def pattern_blocks(n):
    """n deterministic bytes, in pieces of at most 64 KiB (never all held)."""
    while n > 0:
        piece = BLOCK[:n]
        n -= len(piece)
        yield piece


def pattern(n):
    return b"".join(pattern_blocks(n))


def pattern_sha(n):
    h = hashlib.sha256()
    for piece in pattern_blocks(n):
        h.update(piece)
    return h.hexdigest()


def respond(sock, status, body=b"", headers=()):
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{n}: {v}\r\n" for n, v in headers)
    sock.sendall(head.encode() + b"\r\n" + body)


def standard_behaviour(method, target, head, body, sock):
    path, _, query = target.partition("?")
    if path.endswith("/head"):  # the raw request head as received
        body.digest()
        respond(sock, 200, head)
    elif path.endswith("/upload"):
        n, sha = body.digest()
        respond(sock, 200, f"{n} {sha}".encode())
    elif path.endswith("/download"):  # chunked, N bytes, with a trailer
        body.digest()
        n = int(query.split("=")[1])
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n")
        h = hashlib.sha256()
        for piece in pattern_blocks(n):
            h.update(piece)
            sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        sock.sendall(b"0\r\nX-Sum: " + h.hexdigest().encode() + b"\r\n\r\n")
    elif path.endswith("/hints"):
        body.digest()
        sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n"
                     b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n")
        respond(sock, 200, b"final")
    elif path.endswith("/interims"):  # 1xx without end
        for _ in range(100):
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        time.sleep(10)  # and nothing more: only the bound ends the wait in time
        return False
    elif path.endswith("/slow"):
        time.sleep(2)
        respond(sock, 200, b"late")
    elif path.endswith("/stall"):  # promises 100 bytes, sends 10, stalls
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
        time.sleep(3)
        return False
    elif path.endswith("/hold"):  # promises 100 bytes, sends 10, holds the connection open
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
        time.sleep(20)
        return False
    elif path.endswith("/reset"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        return False
    elif path.endswith("/garbage"):
        body.digest()
        sock.sendall(b"HTTP/1.1 2x0 Nope\r\n\r\n")
        return False
    elif path.endswith("/unavailable"):
        body.digest()
        respond(sock, 503, b"busy")
    elif path.endswith("/ws"):
        sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: x\r\n\r\n")
        data = body.rest
        while True:  # echo until the client half-closes, then close
            if data:
                sock.sendall(data)
            data = sock.recv(65536)
            if not data:
                return False
    else:
        body.digest()
        text = f"hello from {path}".encode()
        headers = [("X-Backend", "py"), ("Keep-Alive", "timeout=5")]
        if method == "HEAD":  # the head a GET would get, no body
            sock.sendall(f"HTTP/1.1 200 X\r\nContent-Length: {len(text)}\r\n\r\n".encode())
        else:
            respond(sock, 200, text, headers)
    return True


@pytest.fixture
def backend():
    b = Backend()
    yield b
    b.close()


def dead_port():
    """A port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proxy_config(servers, route_extra=None, upstream_extra=None, limits=None, workers=2, path="/app/*",
                 modules=None):
    route = {"path": path, "handler": "proxy", "upstream": "app"}
    route.update(route_extra or {})
    lines = ["[module.proxy.upstream.app]", f"servers = {harness.toml_value(servers)}"]
    lines += [f"{k} = {harness.toml_value(v)}" for k, v in (upstream_extra or {}).items()]
    return harness.render_config(workers=workers, routes=[route, {"path": "/ping", "handler": "ping"}],
                                 limits=limits, modules=modules, extra="\n".join(lines))


def start_proxy(start_axle, servers, **kw):
    server = start_axle.start(proxy_config(servers, **kw))
    return server, server.listeners[0]


# ---------------------------------------------------------------- the plain paths

def test_get_and_post_through_an_axle_backend(start_axle, static_root):
    back = start_axle.start(routes=[{"path": "/ping", "handler": "ping"},
                                    {"path": "/echo", "handler": "echo", "methods": ["POST"]},
                                    {"path": "/static/*", "handler": "static", "root": str(static_root)}])
    _, addr = start_proxy(start_axle, [f"127.0.0.1:{back.listeners[0][1]}"], route_extra={"rewrite": "/"})
    with Conn(*addr) as c:
        r = c.request(get("/app/ping"))
        assert r.status == 200 and r.body == b"pong", r
        body = os.urandom(50_000)
        r = c.request(post("/app/echo", body))
        assert r.status == 200 and r.body == body
        expected = (static_root / "index.html").read_bytes()
        r = c.request(get("/app/static/index.html"))
        assert r.status == 200 and r.body == expected


def test_minimal_config_form_passes_the_target_as_is(start_axle, backend):
    config = harness.render_config(routes=[{"path": "/app/*", "handler": "proxy", "upstream": "app"}],
                                   extra=f'[module.proxy.upstream.app]\nservers = ["{backend.addr}", '
                                         f'"{backend.addr} weight=2"]')
    addr = start_axle.start(config).listeners[0]
    with Conn(*addr) as c:
        r = c.request(get("/app/x/y?q=1"))
        assert r.status == 200 and r.body == b"hello from /app/x/y", r
        assert r.header("x-backend") == "py"
        assert r.header("keep-alive") is None  # hop-by-hop, not forwarded
    assert backend.requests[-1][1] == "/app/x/y?q=1"


def test_rewrite_replaces_the_literal_prefix(start_axle, backend):
    _, addr = start_proxy(start_axle, [backend.addr], route_extra={"rewrite": "/v2/"})
    with Conn(*addr) as c:
        assert c.request(get("/app/a/b?q")).status == 200
    assert backend.requests[-1][1] == "/v2/a/b?q"


def test_hop_by_hop_and_forwarding_headers_seen_by_the_backend(start_axle, backend):
    _, addr = start_proxy(start_axle, [backend.addr])
    extra = (b"Connection: keep-alive, X-Private\r\nX-Private: 1\r\nKeep-Alive: 30\r\nTE: trailers\r\n"
             b"Proxy-Connection: keep-alive\r\nX-Forwarded-For: 198.51.100.9\r\nX-Forwarded-Proto: https\r\n"
             b"X-Kept: yes\r\n")
    with Conn(*addr) as c:
        r = c.request(get("/app/head", host="site.test", extra=extra))
        assert r.status == 200
        seen = r.body.decode("latin-1").lower()
        r2 = c.request(get("/app/head", extra=b"X-Request-Id: client-id-7\r\n"))
    for gone in ("x-private", "keep-alive", "\r\nte:", "proxy-connection", "connection:", "https"):
        assert gone not in seen, (gone, seen)
    assert "x-kept: yes" in seen
    assert "host: site.test" in seen
    assert "x-forwarded-for: 198.51.100.9, 127.0.0.1" in seen
    assert 'forwarded: for=127.0.0.1;proto=http;host="site.test"' in seen
    assert "x-forwarded-proto: http" in seen
    ids = [l for l in seen.split("\r\n") if l.startswith("x-request-id: ")]
    assert len(ids) == 1 and len(ids[0].split(": ")[1]) == 16
    assert b"x-request-id: client-id-7" in r2.body.lower()


def test_one_mib_chunked_upload_and_download_by_hash(start_axle, backend):
    _, addr = start_proxy(start_axle, [backend.addr])
    data = pattern(1 << 20)
    with Conn(*addr) as c:
        c.send(b"POST /app/upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(0, len(data), 70_000):
            piece = data[i:i + 70_000]
            c.send(b"%x\r\n" % len(piece) + piece + b"\r\n")
        c.send(b"0\r\n\r\n")
        r = c.read_response()
        assert r.status == 200
        assert r.body.decode() == f"{len(data)} {hashlib.sha256(data).hexdigest()}"
        c.send(get("/app/download?n=1048576"))
        r = c.read_response()
        assert r.status == 200 and r.header("transfer-encoding") == "chunked"
        assert hashlib.sha256(r.body).hexdigest() == hashlib.sha256(data).hexdigest()
    # The trailer is forwarded: read the raw tail once more on a fresh request.
    with Conn(*addr) as c:
        c.send(get("/app/download?n=10"))
        head = c._read_until(b"\r\n\r\n")
        assert b"transfer-encoding: chunked" in head.lower()
        tail = c._read_until(b"0\r\n") + c._read_until(b"\r\n\r\n")
        assert b"X-Sum: " + hashlib.sha256(pattern(10)).hexdigest().encode() in tail


def test_head_announces_the_length_without_a_body(start_axle, backend):
    _, addr = start_proxy(start_axle, [backend.addr])
    with Conn(*addr) as c:
        r = c.request(get("/app/x", method=b"HEAD"), method="HEAD")
        assert r.status == 200 and r.header("content-length") == str(len(b"hello from /app/x"))
        assert c.request(get("/app/x")).body == b"hello from /app/x"  # nothing left over on the connection


def test_keep_alive_reuses_upstream_connections(start_axle, backend):
    server, addr = start_proxy(start_axle, [backend.addr], workers=2)
    for _ in range(5):
        with Conn(*addr) as c:
            for _ in range(10):
                assert c.request(get("/app/k")).status == 200
    assert backend.count("/app/k") == 50
    # One pooled connection per worker at most (requests are sequential).
    assert 1 <= backend.accepts <= 2, backend.accepts


def test_interim_responses_100_swallowed_103_forwarded(start_axle, backend):
    _, addr = start_proxy(start_axle, [backend.addr])
    with Conn(*addr) as c:
        r = c.request(get("/app/hints"))
        assert r.status == 103 and r.header("link") == "</s.css>; rel=preload"
        r = c.read_response()
        assert r.status == 200 and r.body == b"final"


# ---------------------------------------------------------------- failures

def test_retry_around_a_dead_server_fails_no_request(start_axle, backend):
    server, addr = start_proxy(start_axle, [f"127.0.0.1:{dead_port()}", backend.addr])
    for _ in range(20):
        with Conn(*addr) as c:
            assert c.request(get("/app/r")).status == 200
    assert backend.count("/app/r") == 20
    server.wait_for_log(r"upstream app server 127\.0\.0\.1:\d+: .*(refused|connect)", timeout=5)


def proxy_metric(addr, name):
    with Conn(*addr) as c:
        text = c.request(get("/metrics")).body.decode()
    values = [float(l.split()[-1]) for l in text.splitlines() if l.split(" ")[0] == name + '{module="proxy"}']
    assert len(values) == 1, (name, text)
    return values[0]


def test_metrics_count_requests_failures_retries_and_generated_answers(start_axle, backend):
    assert (harness.module_dir() / "axle-metrics-prometheus.so").exists(), "metrics-prometheus not built"
    _, addr = start_proxy(start_axle, [f"127.0.0.1:{dead_port()}", backend.addr], workers=1,
                          modules={"metrics": "prometheus"}, upstream_extra={"max_fails": 0})
    for _ in range(6):
        with Conn(*addr) as c:
            assert c.request(get("/app/m")).status == 200
    with Conn(*addr) as c:
        assert c.request(get("/app/garbage")).status == 502
    # Round robin over two servers: every other request met the dead one first and was retried.
    assert proxy_metric(addr, "axle_proxy_requests_total") == 7
    retries = proxy_metric(addr, "axle_proxy_retries_total")
    assert retries >= 3
    assert proxy_metric(addr, "axle_proxy_upstream_failures_total") == retries + 1  # + the malformed answer
    assert proxy_metric(addr, "axle_proxy_responses_5xx_generated_total") == 1
    assert proxy_metric(addr, "axle_proxy_pool_idle") == 1  # the live server's connection, back in the pool


def test_connect_refused_is_502(start_axle):
    server, addr = start_proxy(start_axle, [f"127.0.0.1:{dead_port()}"])
    with Conn(*addr) as c:
        r = c.request(get("/app/x"))
        assert r.status == 502
    server.wait_for_log(r"upstream app server 127\.0\.0\.1:\d+: .*(refused|connect)", timeout=5)


def test_all_servers_ejected_is_503(start_axle):
    _, addr = start_proxy(start_axle, [f"127.0.0.1:{dead_port()}"], workers=1,
                          upstream_extra={"max_fails": 1, "eject_ms": 60000, "eject_max_ms": 60000})
    with Conn(*addr) as c:
        assert c.request(get("/app/x")).status == 502  # fails, and the failure ejects it
        assert c.request(get("/app/x")).status == 503  # nothing left to try


def test_first_byte_timeout_is_504_and_not_retried(start_axle, backend):
    other = Backend()
    try:
        _, addr = start_proxy(start_axle, [backend.addr, other.addr], route_extra={"first_byte_timeout_ms": 300})
        with Conn(*addr) as c:
            assert c.request(get("/app/slow")).status == 504
        assert backend.count("/app/slow") + other.count("/app/slow") == 1
    finally:
        other.close()


def test_malformed_response_is_502(start_axle, backend):
    _, addr = start_proxy(start_axle, [backend.addr])
    with Conn(*addr) as c:
        assert c.request(get("/app/garbage")).status == 502
    with Conn(*addr) as c:
        assert c.request(get("/app/interims")).status == 502  # 1xx are bounded


def test_reset_before_response_retries_idempotent_only(start_axle, backend):
    other = Backend()
    try:
        _, addr = start_proxy(start_axle, [backend.addr, other.addr], upstream_extra={"max_fails": 0})
        with Conn(*addr) as c:
            r = c.request(get("/app/reset"))
            assert r.status == 502  # every server resets: retried once, then 502
        assert backend.count("/app/reset") + other.count("/app/reset") == 2
        with Conn(*addr) as c:
            assert c.request(post("/app/reset", b"once")).status == 502
        assert backend.count("/app/reset") + other.count("/app/reset") == 3  # POST: not retried
    finally:
        other.close()


def reset_now(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def test_a_pooled_connection_found_dead_is_replaced_without_using_a_retry(start_axle):
    resets = []
    served = set()  # connections that answered once (kept alive here, so never confused with a new one)

    def once_per_connection(method, target, head, body, sock):
        body.digest()
        if sock in served:
            resets.append(1)
            reset_now(sock)  # the second request on a kept connection: as if it had timed out
            return False
        served.add(sock)
        respond(sock, 200, b"fresh")
        return True

    b = Backend(once_per_connection)
    try:
        _, addr = start_proxy(start_axle, [b.addr], workers=1, route_extra={"retries": 0})
        with Conn(*addr) as c:
            for _ in range(4):
                r = c.request(get("/app/p"))
                assert r.status == 200 and r.body == b"fresh"
        # Every request after the first found its pooled connection dead and replaced it
        # (the replacement went back to the pool: it had completed a response).
        assert len(resets) == 3 and b.accepts == 4, (resets, b.accepts)
    finally:
        b.close()


def test_retry_body_bytes_bounds_which_sent_requests_are_retried(start_axle, backend):
    def resetter(method, target, head, body, sock):
        body.digest()
        reset_now(sock)
        return False

    bad = Backend(resetter)
    try:
        _, addr = start_proxy(start_axle, [bad.addr, backend.addr], workers=1,
                              route_extra={"retry_body_bytes": 1000, "stream_body": True},
                              upstream_extra={"max_fails": 0})
        def put(n):
            with Conn(*addr) as c:
                return c.request(post("/app/upload", b"x" * n).replace(b"POST", b"PUT", 1)).status

        small = [put(1000) for _ in range(4)]
        small_hits = bad.count("/app/upload")
        big = [put(1001) for _ in range(4)]
        big_hits = bad.count("/app/upload") - small_hits
        # Round robin over two servers: some attempts of each phase met the resetting one.
        assert small_hits >= 1 and big_hits >= 1, (small_hits, big_hits)
        assert small == [200] * 4  # kept, so retried on the good server after the reset
        # Over retry_body_bytes the body was not kept: the reset is the answer.
        assert big.count(502) == big_hits and big.count(200) == 4 - big_hits, big
    finally:
        bad.close()


def test_503_from_a_server_is_retried_on_another(start_axle, backend):
    def busy(method, target, head, body, sock):
        body.digest()
        respond(sock, 503, b"busy")
        return True

    sick = Backend(busy)
    try:
        _, addr = start_proxy(start_axle, [sick.addr, backend.addr], upstream_extra={"max_fails": 0})
        for _ in range(6):
            with Conn(*addr) as c:
                r = c.request(get("/app/x"))
                assert r.status == 200 and r.body == b"hello from /app/x"
    finally:
        sick.close()


def test_idle_timeout_mid_body_truncates(start_axle, backend):
    _, addr = start_proxy(start_axle, [backend.addr], route_extra={"idle_timeout_ms": 300})
    with Conn(*addr) as c:
        c.send(get("/app/stall"))
        head = c._read_until(b"\r\n\r\n")
        assert b"200" in head.split(b"\r\n")[0] and b"content-length: 100" in head.lower()
        body = c._read_to_close()
        assert len(body) < 100  # cut, never complete-looking


def test_bad_upstream_configs_are_refused_with_their_position(tmp_path):
    cases = {
        "names no": proxy_config(["127.0.0.1:1"]).replace('upstream = "app"', 'upstream = "nope"'),
        "servers": proxy_config(["localhost:80"]),
        "weight": proxy_config(["127.0.0.1:80 weight=0"]),
        "balance": proxy_config(["127.0.0.1:80"], upstream_extra={"balance": "random"}),
    }
    for needle, text in cases.items():
        path = tmp_path / "bad.toml"
        path.write_text(text)
        r = harness.run_axle(["--check", path])
        assert r.returncode != 0, (needle, r.stdout, r.stderr)
        assert needle in r.stderr + r.stdout and "bad.toml:" in r.stderr + r.stdout, (needle, r.stderr)


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_client_leaving_mid_response_closes_the_upstream_connection(start_axle, backend):
    server, addr = start_proxy(start_axle, [backend.addr], workers=1)
    with Conn(*addr) as c:
        assert c.request(get("/ping")).status == 200
        base = fd_count(server.proc.pid)  # the client connection counted
    for _ in range(5):
        with Conn(*addr) as c:
            c.send(get("/app/hold"))
            assert b"content-length: 100" in c._read_until(b"\r\n\r\n").lower()
        # The backend holds its end for 20 s: only the proxy closing it brings the count back.
        deadline = time.monotonic() + 5
        while fd_count(server.proc.pid) > base - 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fd_count(server.proc.pid) <= base - 1, "upstream connection leaked after the client left"
    assert backend.count("/app/hold") == 5


def test_reload_swaps_the_upstream_list_without_failing_requests(start_axle, backend):
    other = Backend()
    try:
        server = start_axle.start(proxy_config([backend.addr], workers=2))
        addr = server.listeners[0]
        config_path = Path(server.args[server.args.index("--config") + 1])
        inflight = Conn(*addr, timeout=10)
        inflight.send(get("/app/slow"))  # answered by the old generation's server in 2 s
        statuses = []
        stop = threading.Event()

        def load():
            while not stop.is_set():
                with Conn(*addr) as c:
                    statuses.append(c.request(get("/app/load")).status)

        t = threading.Thread(target=load)
        t.start()
        mark = server.log_mark()
        config_path.write_text(proxy_config([other.addr], workers=2))
        server.proc.send_signal(signal.SIGHUP)
        server.wait_for_log(r"generation 2 serving", start=mark)
        before = other.count("/app/load")
        deadline = time.monotonic() + 5
        while other.count("/app/load") < before + 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        stop.set()
        t.join()
        r = inflight.read_response()
        inflight.close()
        assert r.status == 200 and r.body == b"late"  # finished on its generation
        assert statuses and all(s == 200 for s in statuses), statuses
        assert other.count("/app/load") >= before + 5
        assert backend.count("/app/slow") == 1
    finally:
        other.close()


def test_active_checks_take_a_failing_server_out(start_axle, backend):
    def sick(method, target, head, body, sock):
        body.digest()
        respond(sock, 500 if target == "/healthz" else 200, b"from sick")
        return True

    bad = Backend(sick)
    try:
        server, addr = start_proxy(start_axle, [bad.addr, backend.addr], workers=1,
                                   upstream_extra={"health_path": "/healthz", "health_interval_ms": 50,
                                                   "fall": 1, "rise": 1})
        server.wait_for_log(rf"upstream server {bad.addr} is down")
        with Conn(*addr) as c:
            for _ in range(10):
                r = c.request(get("/app/x"))
                assert r.status == 200 and r.body == b"hello from /app/x"
        assert bad.count("/app/x") == 0
    finally:
        bad.close()


# ---------------------------------------------------------------- tunnels

def test_websocket_upgrade_is_tunnelled_both_ways(start_axle, backend):
    _, addr = start_proxy(start_axle, [backend.addr])
    with Conn(*addr) as c:
        c.send(b"GET /app/ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = c._read_until(b"\r\n\r\n").lower()
        assert head.startswith(b"http/1.1 101") and b"upgrade: websocket" in head, head
        for i in range(5):
            msg = os.urandom(1000 + i * 20000)
            c.send(msg)
            assert c._read_exact(len(msg)) == msg
        c.sock.shutdown(socket.SHUT_WR)  # our half-close reaches the backend, which then closes
        assert c._read_to_close() == b""
    head = [h for m, p, h in backend.requests if p == "/app/ws"][0].lower()
    assert b"upgrade: websocket" in head and b"connection: upgrade" in head


# ---------------------------------------------------------------- bounded memory

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def read_chunked_digest(c):
    """(length, sha256) of a chunked body, without holding it."""
    h = hashlib.sha256()
    total = 0
    while True:
        size = int(c._read_until(b"\r\n").split(b";")[0], 16)
        if size == 0:
            while c._read_until(b"\r\n") != b"\r\n":
                pass
            return total, h.hexdigest()
        left = size
        while left:
            if not c.buf:
                c._fill()
            piece, c.buf = c.buf[:left], c.buf[left:]
            h.update(piece)
            left -= len(piece)
        total += size
        assert c._read_exact(2) == b"\r\n"


def test_large_upload_and_download_with_a_slow_side_stay_bounded(start_axle, backend):
    # 256 MiB each way in CI; AXLE_PROXY_TRANSFER_MIB=1024 is the 1 GiB (README, heavy checks).
    size = int(os.environ.get("AXLE_PROXY_TRANSFER_MIB", "256")) << 20
    # No stream_body key: the module's AXLE_MODULE_FLAG_STREAM_BODY makes the route stream.
    server, addr = start_proxy(start_axle, [backend.addr], workers=1, limits={"max_body_bytes": 4 << 30})
    with Conn(*addr) as c:  # warm up: pools, buffers
        assert c.request(get("/app/x")).status == 200
    base = rss_kib(server.proc.pid)
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib(server.proc.pid))
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        with Conn(*addr, timeout=60) as c:
            c.send(b"POST /app/upload HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % size)
            for piece in pattern_blocks(size):
                c.send(piece)
            r = c.read_response()
            assert r.status == 200
            assert r.body.decode() == f"{size} {pattern_sha(size)}"
            # Download; nothing is read for a second, so the proxy must stop
            # reading the backend rather than buffer what it sends.
            c.send(get(f"/app/download?n={size}"))
            time.sleep(1)
            head = c._read_until(b"\r\n\r\n")
            assert b"transfer-encoding: chunked" in head.lower()
            got, sha = read_chunked_digest(c)
            assert got == size and sha == pattern_sha(size)
    finally:
        stop.set()
        t.join()
    grown_mib = (peak[0] - base) / 1024
    print(f"proxy RSS: {base} KiB before, peak {peak[0]} KiB moving 2 x {size >> 20} MiB")
    if fp.under_asan(server.proc.pid):
        return  # AddressSanitizer keeps freed memory in quarantine: no RSS bound there
    assert grown_mib < 48, f"proxy RSS grew {grown_mib:.1f} MiB moving 2 x {size >> 20} MiB"
