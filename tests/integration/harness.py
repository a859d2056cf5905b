"""Helpers for the integration suite: locate the build, write configs, run the
real axle binary, and speak raw HTTP/1.1 over sockets.

Every blocking operation here has a timeout so a misbehaving server fails a
test instead of hanging the suite.
"""

import os
import re
import select
import shlex
import signal
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# How long we wait for things that should be near-instant on an idle machine.
# Generous on purpose: the CI machine is shared and noisy. Scale them up when
# running the server under a slow wrapper (AXLE_WRAPPER="valgrind ...").
TIMEOUT_SCALE = float(os.environ.get("AXLE_TIMEOUT_SCALE", "1"))
IO_TIMEOUT = 5.0 * TIMEOUT_SCALE
START_TIMEOUT = 15.0 * TIMEOUT_SCALE
STOP_TIMEOUT = 10.0 * TIMEOUT_SCALE

# AXLE_TLS=1 runs the suite over TLS: render_config moves the listeners under
# [tls] (transport "openssl", the test certificates of tls_certs.py), the
# listeners are the https:// ones, and Conn speaks TLS trusting the test CA.
TLS = os.environ.get("AXLE_TLS") == "1"

# Serving listeners are the https ones over TLS, the http ones otherwise.
LISTENING_RE = re.compile(r"listening on (https?)://([0-9.]+|\[[0-9a-f:]+\]):(\d+)")
ADMIN_MARK = "admin listening on"  # the control endpoint, not a serving listener
# Admin endpoints seen: always cleartext, so a Conn to one never speaks TLS.
PLAIN_ADDRESSES = set()


# ---------------------------------------------------------------- the build

def build_dir() -> Path:
    if os.environ.get("AXLE_BUILD_DIR"):
        return Path(os.environ["AXLE_BUILD_DIR"])
    if os.environ.get("AXLE_BIN"):
        return Path(os.environ["AXLE_BIN"]).resolve().parent.parent
    return REPO_ROOT / "build"


def axle_bin() -> Path:
    if os.environ.get("AXLE_BIN"):
        return Path(os.environ["AXLE_BIN"])
    return build_dir() / "bin" / "axle"


def module_dir() -> Path:
    if os.environ.get("AXLE_MODULE_DIR"):
        return Path(os.environ["AXLE_MODULE_DIR"])
    return build_dir() / "lib" / "axle" / "modules"


def fixtures_dir() -> Path:
    if os.environ.get("AXLE_FIXTURES_DIR"):
        return Path(os.environ["AXLE_FIXTURES_DIR"])
    return build_dir() / "tests" / "fixtures"


def module_combination() -> dict:
    """The module of each kind under test; CI runs the suite once per combination."""
    return {
        "io": os.environ.get("AXLE_IO", "epoll"),
        "allocator": os.environ.get("AXLE_ALLOCATOR", "malloc"),
        "parser": os.environ.get("AXLE_PARSER", "scalar"),
        "router": os.environ.get("AXLE_ROUTER", "linear"),
    }


def host_abi_major() -> int:
    header = (REPO_ROOT / "plugin-api" / "include" / "axle" / "module.h").read_text()
    return int(re.search(r"#define\s+AXLE_ABI_MAJOR\s+(\d+)", header).group(1))


def host_abi_version() -> str:
    """"major.minor" of the ABI the tree's modules are built with."""
    header = (REPO_ROOT / "plugin-api" / "include" / "axle" / "module.h").read_text()
    minor = int(re.search(r"#define\s+AXLE_ABI_MINOR\s+(\d+)", header).group(1))
    return f"{host_abi_major()}.{minor}"


# ---------------------------------------------------------------- configs

def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def default_routes(static_root: Path) -> list:
    return [
        {"path": "/ping", "handler": "ping"},
        {"path": "/echo/{msg}", "handler": "echo"},
        {"path": "/static/*", "handler": "static", "root": str(static_root)},
    ]


def render_config(*, listen=("127.0.0.1:0",), workers=2, module_dirs=(), modules=None,
                  limits=None, timeouts=None, routes=(), extra="") -> str:
    """A complete config file. `modules` overrides the env combination per kind."""
    chosen = module_combination()
    chosen.update(modules or {})
    lines = ["[server]",
             f"listen = {toml_value(list(listen))}",
             f"workers = {toml_value(workers)}",
             f"module_dirs = {toml_value([str(d) for d in module_dirs])}",
             "", "[modules]"]
    lines += [f"{kind} = {toml_value(name)}" for kind, name in chosen.items()]
    for table, values in (("limits", limits), ("timeouts", timeouts)):
        if values:
            lines += ["", f"[{table}]"]
            lines += [f"{key} = {toml_value(val)}" for key, val in values.items()]
    for route in routes:
        lines += ["", "[[route]]"]
        lines += [f"{key} = {toml_value(val)}" for key, val in route.items()]
    if extra:
        lines += ["", extra]
    if TLS and "tls" not in chosen:
        lines = tls_mode(lines, list(listen))
    return "\n".join(lines) + "\n"


def tls_mode(lines, listen) -> list:
    """The config of render_config over TLS: HTTPS only ([server] listen is
    empty) and the requested listeners are served by the openssl transport."""
    import tls_certs  # only TLS runs need the openssl command
    certs = tls_certs.get()
    lines[1] = "listen = []"
    at = lines.index("[modules]") + 1
    lines.insert(at, 'tls = "openssl"')
    return lines + ["", "[tls]", f"listen = {toml_value(listen)}",
                    f"certificate = {toml_value(str(certs.default.crt))}",
                    f"key = {toml_value(str(certs.default.key))}"]


def url(addr, path="/") -> str:
    """The URL of path on a serving listener: https:// over TLS."""
    host, port = addr
    host = f"[{host}]" if ":" in host else host
    return f"{'https' if TLS else 'http'}://{host}:{port}{path}"


def curl_tls_args() -> list:
    """Options that make curl trust the test CA over TLS (none in cleartext)."""
    if not TLS:
        return []
    import tls_certs
    return ["--cacert", str(tls_certs.get().ca)]


_client_context = None


def tls_client_context() -> ssl.SSLContext:
    """A client context trusting only the test CA (made once)."""
    global _client_context
    if _client_context is None:
        import tls_certs
        ctx = ssl.create_default_context(cafile=str(tls_certs.get().ca))
        ctx.set_alpn_protocols(["http/1.1"])
        _client_context = ctx
    return _client_context


class TlsSocket:
    """A connected socket spoken through TLS, with the socket methods the tests
    use. Unlike ssl.SSLSocket it can half-close: shutdown(SHUT_WR) sends
    close_notify, then the TCP FIN, and reading goes on (the TLS form of
    "nothing more is coming"). Driven through memory BIOs so that shutdown
    never waits for, or swallows, what the server still sends."""

    def __init__(self, raw: socket.socket, server_hostname: str):
        self.raw = raw
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = tls_client_context().wrap_bio(self._in, self._out, server_hostname=server_hostname)
        self._step(self.tls.do_handshake)

    def _flush(self):
        data = self._out.read()
        if data:
            self.raw.sendall(data)

    def _step(self, op):
        """op() until it needs no more input from the server."""
        while True:
            try:
                result = op()
                self._flush()
                return result
            except ssl.SSLWantReadError:
                self._flush()
                data = self.raw.recv(65536)  # socket.timeout / reset go to the caller
                if data:
                    self._in.write(data)
                else:
                    self._in.write_eof()

    def sendall(self, data):
        self.tls.write(data)  # a memory BIO takes all of it
        self._flush()

    send = sendall

    def recv(self, n):
        if self._in.eof and self._in.pending == 0 and self.tls.pending() == 0:
            return b""
        try:
            out = self._step(lambda: self.tls.read(n))
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""  # close_notify, or a TCP close without it: both the end (as suppress_ragged_eofs)
        # Like TCP's recv, up to n of the bytes already here, not one record (16 KiB) per call.
        while len(out) < n:
            try:
                out += self.tls.read(n - len(out))
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError, ssl.SSLEOFError):
                break  # the next call reports the end
            if not self._take_ready():
                break
        return out

    def _take_ready(self) -> bool:
        """Moves what the server already sent into the TLS input, without waiting."""
        if self._in.pending or self.tls.pending():
            return True
        if not select.select([self.raw], [], [], 0)[0]:
            return False
        try:
            data = self.raw.recv(65536)
        except ConnectionResetError:
            data = b""  # the next call raises it again, or reports the end
        if data:
            self._in.write(data)
        else:
            self._in.write_eof()
        return bool(data)

    def shutdown(self, how):
        if how in (socket.SHUT_WR, socket.SHUT_RDWR):
            try:
                self.tls.unwrap()  # writes close_notify, then wants the server's: not waited for
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError:
                pass  # already broken: the TCP shutdown below still tells the server
            self._flush()
        self.raw.shutdown(how)

    def __getattr__(self, name):  # settimeout, setsockopt, fileno, close, getpeername...
        return getattr(self.raw, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.raw.close()


def client_socket(raw: socket.socket, host: str, tls=None):
    """raw itself, or raw spoken through TLS (handshake done) when the suite runs over TLS."""
    if not (TLS if tls is None else tls):
        return raw
    try:
        return TlsSocket(raw, host)
    except (ssl.SSLError, ConnectionResetError) as e:
        raw.close()
        raise PeerClosed(f"TLS handshake failed: {e}") from e


# ---------------------------------------------------------------- the server

class AxleProcess:
    """One running axle. stderr/stdout are drained by threads (a full pipe
    would stall the server) and kept for assertions and failure messages."""

    def __init__(self, args, cwd=None, expected_listeners=1):
        # AXLE_WRAPPER runs the server under a tool, e.g. "valgrind --error-exitcode=99".
        wrapper = shlex.split(os.environ.get("AXLE_WRAPPER", ""))
        self.args = wrapper + [str(axle_bin())] + [str(a) for a in args]
        self.stderr_lines = []
        self.stdout_lines = []
        self.listeners = []  # (host, port) as logged
        self.admin = []  # (host, port) of the admin endpoint, if configured
        self.stopped = False  # stop() was called: the exit is ours, not a crash
        self.signalled = False  # send_signal() already started a shutdown
        self._lock = threading.Condition()
        self._expected = expected_listeners
        self.proc = subprocess.Popen(self.args, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._threads = [
            threading.Thread(target=self._drain, args=(self.proc.stderr, self.stderr_lines, True), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stdout, self.stdout_lines, False), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _drain(self, stream, sink, parse_listening):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                sink.append(line)
                if parse_listening:
                    m = LISTENING_RE.search(line)
                    if m:
                        addr = (m.group(2).strip("[]"), int(m.group(3)))
                        if ADMIN_MARK in line:
                            self.admin.append(addr)
                            PLAIN_ADDRESSES.add(addr)
                        elif m.group(1) == ("https" if TLS else "http"):
                            self.listeners.append(addr)
                self._lock.notify_all()
        with self._lock:
            self._lock.notify_all()

    def log_tail(self, n=40) -> str:
        with self._lock:
            err = "\n".join(self.stderr_lines[-n:])
            out = "\n".join(self.stdout_lines[-n:])
        return f"--- axle stderr (last {n} lines) ---\n{err}\n--- axle stdout ---\n{out}"

    def wait_listening(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.listeners) < self._expected:
                if self.proc.poll() is not None:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(min(left, 0.2))
            found = list(self.listeners)
        if len(found) < self._expected:
            rc = self.proc.poll()
            state = f"exited with {rc}" if rc is not None else f"still running after {timeout}s"
            self.kill()
            raise AssertionError(f"axle did not log {self._expected} 'listening on' line(s) ({state}); "
                                 f"args={self.args}\n{self.log_tail()}")
        return found

    def wait_for_log(self, pattern, timeout=START_TIMEOUT, start=0) -> str:
        """The first stderr line at index >= start that matches pattern."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for line in self.stderr_lines[start:]:
                    if regex.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    break
                self._lock.wait(min(left, 0.2))
        raise AssertionError(f"no log line matching {pattern!r} within {timeout}s\n{self.log_tail()}")

    def log_mark(self) -> int:
        """Index to pass as wait_for_log(start=...) to see only newer lines."""
        with self._lock:
            return len(self.stderr_lines)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send_signal(self, sig=signal.SIGTERM):
        """Starts a shutdown without waiting for it: stop() (or the fixture's
        teardown) then waits for the exit and checks its status. Other signals
        (SIGHUP, SIGUSR1) go through proc.send_signal."""
        assert sig in (signal.SIGTERM, signal.SIGINT), f"send_signal starts a shutdown, not {sig.name}"
        self.signalled = True
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT) -> int:
        """Signals the server and returns its exit code; kills it and raises
        if it does not exit in time."""
        self.stopped = True
        if self.proc.poll() is None:
            # A second SIGTERM means "exit now" (status 1): after send_signal
            # the shutdown is already under way, so only wait for it.
            if not self.signalled:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"axle did not exit within {timeout}s of {sig.name}; killed it\n"
                                     f"{self.log_tail()}")
        for t in self._threads:
            t.join(2)
        return self.proc.returncode

    def kill(self):
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def run_axle(args, timeout=10, cwd=None):
    """Runs a short-lived axle command (--check, --version, ...)."""
    return subprocess.run([str(axle_bin())] + [str(a) for a in args], cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------- raw HTTP

@dataclass
class Response:
    version: str
    status: int
    reason: str
    headers: list = field(default_factory=list)  # [(lower-case name, value)]
    body: bytes = b""
    raw_head: bytes = b""

    def header(self, name):
        values = self.all(name)
        return values[0] if values else None

    def all(self, name):
        name = name.lower()
        return [v for n, v in self.headers if n == name]

    def __repr__(self):
        body = self.body if len(self.body) <= 300 else self.body[:300] + b"...(%d bytes)" % len(self.body)
        return f"<{self.raw_head!r} body={body!r}>"


class PeerClosed(Exception):
    pass


class Conn:
    """A client connection with a read buffer, for byte-exact requests."""

    def __init__(self, host, port, timeout=IO_TIMEOUT, tls=None):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is None:
            tls = TLS and (host, port) not in PLAIN_ADDRESSES
        self.sock = client_socket(self.sock, host, tls)  # the handshake is done here, within timeout
        self.buf = b""
        self.timeout = timeout

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError) as e:  # SSLError: an alert, or a broken record
            raise PeerClosed(f"connection reset; had {self.buf!r}") from e
        if not chunk:
            raise PeerClosed(f"connection closed; had {self.buf!r}")
        self.buf += chunk

    def _read_until(self, delim: bytes, limit=1 << 20) -> bytes:
        while delim not in self.buf:
            if len(self.buf) > limit:
                raise AssertionError(f"no {delim!r} within {limit} bytes")
            self._fill()
        idx = self.buf.index(delim) + len(delim)
        out, self.buf = self.buf[:idx], self.buf[idx:]
        return out

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, method="GET") -> Response:
        head = self._read_until(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        status_line = lines[0].decode("latin-1")
        m = re.fullmatch(r"(HTTP/\d\.\d) (\d{3}) ?(.*)", status_line)
        if not m:
            raise AssertionError(f"malformed status line {status_line!r} in {head!r}")
        resp = Response(m.group(1), int(m.group(2)), m.group(3), raw_head=head)
        for line in lines[1:]:
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep or name != name.strip() or not name:
                raise AssertionError(f"malformed header line {line!r} in {head!r}")
            resp.headers.append((name.lower(), value.strip(" \t")))
        if method == "HEAD" or resp.status < 200 or resp.status in (204, 304):
            return resp
        te = resp.header("transfer-encoding")
        cl = resp.all("content-length")
        if te is not None:
            if te.lower() != "chunked":
                raise AssertionError(f"unexpected response Transfer-Encoding in {head!r}")
            resp.body = self._read_chunked()
        elif cl:
            if len(set(cl)) != 1 or not cl[0].isdigit():
                raise AssertionError(f"bad response Content-Length in {head!r}")
            resp.body = self._read_exact(int(cl[0]))
        else:
            resp.body = self._read_to_close()
        return resp

    def _read_chunked(self) -> bytes:
        body = b""
        while True:
            size_line = self._read_until(b"\r\n")
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while self._read_until(b"\r\n") != b"\r\n":
                    pass
                return body
            body += self._read_exact(size)
            if self._read_exact(2) != b"\r\n":
                raise AssertionError("chunk not followed by CRLF")

    def _read_to_close(self) -> bytes:
        while True:
            try:
                self._fill()
            except PeerClosed:
                out, self.buf = self.buf, b""
                return out

    def request(self, data: bytes, method="GET") -> Response:
        self.send(data)
        return self.read_response(method)

    def wait_closed(self, timeout=IO_TIMEOUT) -> bool:
        """True when the server closes (FIN or RST) within timeout. Bytes
        arriving instead are an error: the server said more than expected."""
        if self.buf:
            raise AssertionError(f"unexpected extra bytes from server: {self.buf!r}")
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(self.timeout)
        if chunk:
            raise AssertionError(f"unexpected extra bytes from server: {chunk!r}")
        return True


def eventually_served(addr, request=None, timeout=IO_TIMEOUT) -> "Response":
    """A new connection gets an answer within timeout. A connection refused
    at accept (over max_connections: a 503 with Retry-After, or a close) is
    retried: a slot freed by a close may take the server a moment to see."""
    request = request or get("/ping")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with Conn(*addr) as c:
                resp = c.request(request)
                if not (resp.status == 503 and resp.header("retry-after") and resp.header("connection") == "close"):
                    return resp
        except (PeerClosed, ConnectionResetError, BrokenPipeError, ssl.SSLError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"no connection to {addr} was served within {timeout}s")
        time.sleep(0.05)


def get(path, host="a", extra=b"", version=b"HTTP/1.1", method=b"GET") -> bytes:
    """A minimal request head."""
    return (method + b" " + path.encode() + b" " + version + b"\r\nHost: " + host.encode() + b"\r\n"
            + extra + b"\r\n")


def post(path, body: bytes, extra=b"") -> bytes:
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: a\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)
