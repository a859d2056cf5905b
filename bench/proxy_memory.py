"""Resident memory a proxy spends per idle client connection and per idle
upstream connection (bench/run --proxy; see bench/README.md).

The proxy is started against a gate backend run here (a selector thread):
1. RSS before; COUNT client connections opened one at a time, one GET each,
   answered at once by the gate (so the proxy reuses one upstream
   connection); RSS after: growth / COUNT = bytes per idle client connection.
2. The gate holds requests: UPSTREAM of those idle client connections send a
   second GET at once, so the proxy must open one upstream connection per
   request; when all have arrived the gate answers them and keeps the
   connections. RSS after that, minus RSS after step 1, divided by the
   upstream connections the gate still sees open = bytes per idle upstream
   connection (no new client connection was opened in this step).
Every client connection must still be open at the end, or the figure is void.
"""
import selectors
import socket
import threading
import time

from common import rss_kb

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npong"
REQUEST = b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


class Gate:
    """A backend that answers each request at once, or, while holding, keeps
    every request until `hold_until` of them wait, then answers them all.
    Bounded: at most max_conns connections (more are closed)."""

    def __init__(self, max_conns=10000):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.max_conns = max_conns
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.sock, selectors.EVENT_READ)
        self.conns = {}  # socket -> bytes of "\r\n\r\n" matched so far
        self.held = []  # sockets owing one response each
        self.hold_until = 0  # 0: answer at once
        self.accepted = 0
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def open_count(self):
        with self.lock:
            return len(self.conns)

    def held_count(self):
        with self.lock:
            return len(self.held)

    def _run(self):
        while not self.stop:
            for key, _ in self.sel.select(timeout=0.1):
                with self.lock:
                    if key.fileobj is self.sock:
                        self._accept()
                    else:
                        self._read(key.fileobj)

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except BlockingIOError:
                return
            if len(self.conns) >= self.max_conns:
                c.close()
                continue
            c.setblocking(False)
            self.conns[c] = 0
            self.accepted += 1
            self.sel.register(c, selectors.EVENT_READ)

    def _read(self, c):
        try:
            data = c.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.sel.unregister(c)
            del self.conns[c]
            self.held = [h for h in self.held if h is not c]
            c.close()
            return
        matched, requests = self.conns[c], 0
        for b in data:  # count request ends; the bench sends no bodies
            want = 10 if matched & 1 else 13
            matched = matched + 1 if b == want else (1 if b == 13 else 0)
            if matched == 4:
                requests, matched = requests + 1, 0
        self.conns[c] = matched
        if self.hold_until:
            self.held += [c] * requests
            if len(self.held) >= self.hold_until:
                self.hold_until = 0
                for h in self.held:
                    h.sendall(RESPONSE)  # 42 bytes into an empty socket buffer: never blocks
                self.held = []
        else:
            c.sendall(RESPONSE * requests)

    def close(self):
        self.stop = True
        self.thread.join(2)
        for c in list(self.conns):
            c.close()
        self.sock.close()


def read_response(s, deadline):
    data = b""
    while b"pong" not in data:  # every response through the proxies ends with the body
        s.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("the proxy closed a client connection before answering")
        data += chunk
    status = data.split(b"\r\n", 1)[0]
    if b" 200 " not in status:
        raise RuntimeError(f"the proxy answered {status!r}")


def measure(gate, port, pids, count, upstream, settle=1.0, timeout_s=60.0):
    deadline = time.monotonic() + timeout_s
    # Warm-up: the first proxied request builds pools, caches, the upstream connection.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(REQUEST)
        read_response(s, deadline)
    time.sleep(settle)
    before = rss_kb(pids)
    clients = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            clients.append(s)
            s.sendall(REQUEST)
            read_response(s, deadline)
        time.sleep(settle)
        after_clients = rss_kb(pids)
        upstream_before = gate.open_count()
        with gate.lock:
            gate.hold_until = upstream
        for s in clients[:upstream]:
            s.sendall(REQUEST)
        for s in clients[:upstream]:
            read_response(s, deadline)
        time.sleep(settle)
        after_upstream = rss_kb(pids)
        upstream_open = gate.open_count()
        for s in clients:
            s.setblocking(False)  # with a timeout set, recv would wait for data first
            try:
                if s.recv(1, socket.MSG_PEEK) == b"":
                    raise RuntimeError("the proxy closed an idle client connection during the measurement")
            except BlockingIOError:  # nothing to read: still open
                pass
    finally:
        with gate.lock:
            gate.hold_until = 0
        for s in clients:
            s.close()
    new_upstream = upstream_open - upstream_before
    return {
        "client_connections": count,
        "rss_before_kb": before, "rss_after_clients_kb": after_clients, "rss_after_upstream_kb": after_upstream,
        "client_bytes": round((after_clients - before) * 1024 / count),
        "upstream_requests": upstream, "upstream_open_before": upstream_before, "upstream_open": upstream_open,
        "upstream_bytes": round((after_upstream - after_clients) * 1024 / new_upstream) if new_upstream > 0 else None,
    }
