"""HTTPS end to end (`ctest -L tls`): the real binary with the openssl
transport, certificates made by tls_certs.py, spoken to by curl, `openssl
s_client` and Python's ssl. Each server here has its own config (this file
does not use harness.py's AXLE_TLS mode); counters are read on the cleartext
listener's /metrics, so reading them makes no handshake.
"""

import hashlib
import os
import random
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest

import harness
import tls_certs
from harness import IO_TIMEOUT, Conn, PeerClosed, get, post, run_axle

HTTPS_RE = r"listening on https://127\.0\.0\.1:(\d+) \(openssl: "
HTTP_RE = r"listening on http://127\.0\.0\.1:(\d+)"
BIG = 1 << 20


@pytest.fixture(scope="module")
def certs():
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is needed (.ci/setup installs it)")
    return tls_certs.get()


@pytest.fixture
def site(tmp_path, certs):
    """A config directory: the default certificate as server.crt/.key (relative
    names, as the minimal config of issue 11) and a document root with a 1 MiB file."""
    shutil.copy(certs.default.crt, tmp_path / "server.crt")
    shutil.copy(certs.default.key, tmp_path / "server.key")
    root = tmp_path / "public"
    root.mkdir()
    (root / "big.bin").write_bytes(os.urandom(BIG))
    (root / "hello.txt").write_bytes(b"hello over tls\n")
    return tmp_path


def tls_config(site, io="epoll", workers=1, tls_extra="", timeouts=None) -> str:
    return harness.render_config(
        workers=workers, modules={"io": io, "tls": "openssl", "metrics": "prometheus"}, timeouts=timeouts,
        routes=[{"path": "/ping", "handler": "ping"},
                {"path": "/echo/{msg}", "handler": "echo"},
                {"path": "/static/*", "handler": "static", "root": str(site / "public")}],
        extra='[tls]\nlisten = ["127.0.0.1:0"]\ncertificate = "server.crt"\nkey = "server.key"\n' + tls_extra)


class Tls:
    """A started server: .https and .http are (host, port)."""

    def __init__(self, server):
        self.server = server
        self.https = ("127.0.0.1", int(re.search(HTTPS_RE, server.wait_for_log(HTTPS_RE)).group(1)))
        self.http = ("127.0.0.1", int(re.search(HTTP_RE, server.wait_for_log(HTTP_RE)).group(1)))

    @property
    def port(self):
        return self.https[1]

    def metric(self, name) -> int:
        """A counter summed over its label sets, from the cleartext listener."""
        with Conn(*self.http, tls=False) as c:
            body = c.request(get("/metrics")).body.decode()
        found = re.findall(r"^" + re.escape(name) + r"(?:\{[^}]*\})? (\d+)$", body, re.M)
        assert found, f"{name} not in /metrics:\n{body}"
        return sum(int(v) for v in found)


def start(start_axle, site, **kw) -> Tls:
    path = site / "axle.toml"
    path.write_text(tls_config(site, **kw))
    return Tls(start_axle.start(args=["--config", path]))


def io_or_skip(io, tmp_path):
    cfg = tmp_path / "io.toml"
    cfg.write_text(harness.render_config(modules={"io": io}))
    check = run_axle(["--check", cfg])
    if check.returncode != 0 and "is not available" in check.stderr:
        pytest.skip(f"io module {io} cannot run here: {check.stderr.strip()}")


def curl(certs, *args):
    done = subprocess.run(["curl", "-sS", "--max-time", str(int(IO_TIMEOUT * 2)), "--cacert", str(certs.ca),
                           *map(str, args)], capture_output=True, timeout=IO_TIMEOUT * 4)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def s_client(port, *args, request=b"GET /ping HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", ca=None):
    """openssl s_client's whole output (stdout and stderr). It sends request
    and reads until the server closes, so TLS 1.3 tickets have arrived."""
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-ign_eof", *map(str, args)]
    if ca:
        cmd += ["-CAfile", str(ca), "-verify_return_error"]
    done = subprocess.run(cmd, input=request, capture_output=True, timeout=IO_TIMEOUT * 2)
    return done.returncode, (done.stdout + done.stderr).decode("utf-8", "replace")


def raw_reply(addr, data: bytes) -> bytes:
    """Sends data on a plain TCP connection; returns all the server says until it closes."""
    with socket.create_connection(addr, timeout=IO_TIMEOUT) as s:
        if data:
            s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except ConnectionResetError:
            pass
        return out


def serial(conn: Conn) -> int:
    return int(conn.sock.tls.getpeercert()["serialNumber"], 16)


# ---------------------------------------------------------------- clients

@pytest.mark.parametrize("io", ["epoll", "uring"])
def test_curl_keep_alive_a_1mib_file_by_hash_and_a_post_body(start_axle, site, certs, tmp_path, io):
    io_or_skip(io, tmp_path)
    srv = start(start_axle, site, io=io)
    base = f"https://127.0.0.1:{srv.port}"
    # Two requests on one connection: curl reports one new connection, then none.
    out = curl(certs, "--http1.1", "-w", " %{http_version} %{num_connects}\n", f"{base}/ping", f"{base}/ping")
    assert out.decode().splitlines() == ["pong 1.1 1", "pong 1.1 0"], out
    got = tmp_path / "got.bin"
    curl(certs, "-o", got, f"{base}/static/big.bin")
    want = hashlib.sha256((site / "public" / "big.bin").read_bytes()).hexdigest()
    assert hashlib.sha256(got.read_bytes()).hexdigest() == want
    body = os.urandom(200_000)
    (tmp_path / "body.bin").write_bytes(body)
    assert curl(certs, "--data-binary", f"@{tmp_path / 'body.bin'}", f"{base}/echo/x") == body
    assert srv.metric("axle_tls_handshakes_total") == 3  # one per curl run
    assert srv.metric("axle_tls_handshake_failures_total") == 0


@pytest.mark.parametrize("flag,version", [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")])
def test_s_client_each_protocol_and_alpn(start_axle, site, certs, flag, version):
    srv = start(start_axle, site)
    rc, out = s_client(srv.port, flag, "-alpn", "http/1.1", ca=certs.ca)
    assert rc == 0, out
    assert f"New, {version}, Cipher is " in out, out
    assert "ALPN protocol: http/1.1" in out, out
    assert "HTTP/1.1 200 OK" in out and "pong" in out, out
    # An HTTP/1.0 client offers only http/1.0 (curl -0 does): served.
    rc, out = s_client(srv.port, flag, "-alpn", "http/1.0", ca=certs.ca,
                       request=b"GET /ping HTTP/1.0\r\nHost: a\r\n\r\n")
    assert rc == 0 and "ALPN protocol: http/1.0" in out and "pong" in out, out
    # A client without ALPN is served too.
    rc, out = s_client(srv.port, flag, ca=certs.ca)
    assert rc == 0 and "No ALPN negotiated" in out and "pong" in out, out


def test_an_unknown_alpn_protocol_is_refused_and_counted(start_axle, site, certs):
    srv = start(start_axle, site)
    rc, out = s_client(srv.port, "-alpn", "h9", ca=certs.ca)
    assert rc != 0 and "no application protocol" in out, out  # alert 120 (RFC 7301)
    assert "HTTP/1.1" not in out, out
    assert srv.metric("axle_tls_handshake_failures_total") == 1
    assert srv.metric("axle_tls_handshakes_total") == 0


def test_sni_picks_the_certificate_of_the_name(start_axle, site, certs):
    for pair in (certs.a, certs.b):
        shutil.copy(pair.crt, site / pair.crt.name)
        shutil.copy(pair.key, site / pair.key.name)
    sni = (f'[tls.sni.a]\nnames = ["a.test"]\ncertificate = "{certs.a.crt.name}"\nkey = "{certs.a.key.name}"\n'
           f'[tls.sni.b]\nnames = ["B.test", "*.w.test"]\ncertificate = "{certs.b.crt.name}"\n'
           f'key = "{certs.b.key.name}"\n')
    srv = start(start_axle, site, tls_extra=sni)
    for name, subject in (("a.test", "CN = a.test"), ("b.test", "CN = b.test"), ("other.test", "CN = localhost"),
                          ("x.w.test", "CN = b.test"),  # a wildcard covers one label...
                          ("y.x.w.test", "CN = localhost"), ("w.test", "CN = localhost")):  # ...not two, not none
        rc, out = s_client(srv.port, "-servername", name, ca=certs.ca)
        assert rc == 0, out
        assert re.search(r"^subject=" + re.escape(subject) + "$", out, re.M), (name, out)
    rc, out = s_client(srv.port, "-noservername", ca=certs.ca)
    assert rc == 0 and re.search(r"^subject=CN = localhost$", out, re.M), out


@pytest.mark.parametrize("flag", ["-tls1_3", "-tls1_2"])
def test_a_session_ticket_resumes(start_axle, site, certs, tmp_path, flag):
    srv = start(start_axle, site)
    session = tmp_path / "session.pem"
    rc, out = s_client(srv.port, flag, "-sess_out", session, ca=certs.ca)
    assert rc == 0 and "New, TLSv1." in out and session.stat().st_size > 0, out
    rc, out = s_client(srv.port, flag, "-sess_in", session, ca=certs.ca)
    assert rc == 0 and "Reused, TLSv1." in out and "pong" in out, out
    assert srv.metric("axle_tls_resumed_total") == 1
    assert srv.metric("axle_tls_handshakes_total") == 2


def test_tickets_from_before_a_reload_make_a_full_handshake(start_axle, site, certs, tmp_path):
    srv = start(start_axle, site)
    session = tmp_path / "session.pem"
    rc, out = s_client(srv.port, "-sess_out", session, ca=certs.ca)
    assert rc == 0 and "New, TLSv1.3" in out, out
    mark = srv.server.log_mark()
    srv.server.proc.send_signal(signal.SIGHUP)
    srv.server.wait_for_log(r"generation 2 serving", start=mark)
    rc, out = s_client(srv.port, "-sess_in", session, ca=certs.ca)  # new ticket keys: not resumed, still served
    assert rc == 0 and "New, TLSv1.3" in out and "pong" in out, out


def test_a_client_key_update_is_answered_and_the_connection_goes_on(start_axle, site, certs):
    srv = start(start_axle, site)
    keep = b"GET /ping HTTP/1.1\r\nHost: a\r\n\r\n"
    # "K" alone on a line: s_client sends a KeyUpdate that requests the server's.
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{srv.port}", "-CAfile", str(certs.ca), "-tls1_3"]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        out = b""
        try:
            proc.stdin.write(keep)
            proc.stdin.flush()
            out += read_until(proc, b"pong")
            proc.stdin.write(b"K\n")
            proc.stdin.flush()
            out += read_until(proc, b"KEYUPDATE")
            proc.stdin.write(keep.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
            proc.stdin.flush()
            out += read_until(proc, b"pong")
            proc.stdin.close()  # stdin is open until here: s_client ends on its EOF (no -ign_eof, which
            out += proc.stdout.read()  # would also turn its commands off)
        except BaseException:
            proc.kill()
            raise
        finally:
            proc.wait(IO_TIMEOUT)
    assert out.count(b"HTTP/1.1 200 OK") == 2 and out.count(b"pong") == 2, out
    assert srv.metric("axle_tls_handshake_failures_total") == 0


def read_until(proc, marker: bytes) -> bytes:
    """proc's output up to marker, read as it comes (a response body ends
    without a newline), waiting at most IO_TIMEOUT for each piece."""
    got, fd = b"", proc.stdout.fileno()
    while marker not in got:
        assert select.select([fd], [], [], IO_TIMEOUT)[0], f"nothing more from s_client, no {marker!r}: {got!r}"
        chunk = os.read(fd, 65536)
        assert chunk, f"s_client ended before {marker!r}: {got!r}"
        got += chunk
    return got


def test_https_only_needs_no_cleartext_listener(start_axle, site, certs):
    """The issue's minimal form is a whole server: [server] listen may be left out."""
    path = site / "axle.toml"
    text = harness.render_config(workers=1, modules={"tls": "openssl"}, routes=[{"path": "/ping", "handler": "ping"}],
                                 extra='[tls]\nlisten = ["127.0.0.1:0"]\ncertificate = "server.crt"\nkey = "server.key"\n')
    text = re.sub(r"^listen = .*\n", "", text, count=1, flags=re.M)  # no [server] listen at all
    assert "listen" not in text.split("[modules]")[0]
    path.write_text(text)
    server = start_axle.start(args=["--config", path], expected_listeners=0)  # the harness counts http:// lines
    port = int(re.search(HTTPS_RE, server.wait_for_log(HTTPS_RE)).group(1))
    assert curl(certs, f"https://127.0.0.1:{port}/ping") == b"pong"
    assert not any(re.search(HTTP_RE, line) for line in server.stderr_lines), server.log_tail()


def test_the_listener_is_logged_with_the_offload_line(start_axle, site):
    srv = start(start_axle, site)
    line = srv.server.wait_for_log(HTTPS_RE)
    assert re.search(r"\(openssl: (user-space TLS|kernel TLS TX)", line), line


# ---------------------------------------------------------------- bad clients

@pytest.mark.parametrize("io", ["epoll", "uring"])
def test_bad_clients_are_closed_cleanly_and_counted(start_axle, site, certs, tmp_path, io):
    io_or_skip(io, tmp_path)
    srv = start(start_axle, site, io=io)
    # Garbage, then plaintext HTTP: at most an alert record (content type 21), never an HTTP answer.
    for data in (b"\x00\xffgarbage instead of a ClientHello\r\n" * 20, get("/ping")):
        reply = raw_reply(srv.https, data)
        assert reply == b"" or reply.startswith(b"\x15\x03"), reply
    assert srv.metric("axle_tls_handshake_failures_total") == 2
    # A client that leaves mid-handshake: its ClientHello, then a close.
    hello = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = harness.tls_client_context().wrap_bio(*hello, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    with socket.create_connection(srv.https, timeout=IO_TIMEOUT) as s:
        s.sendall(hello[1].read())
        assert s.recv(5)[:1] == b"\x16"  # the ServerHello's record: the server took it
    with Conn(*srv.https, tls=True) as c:  # an ordinary client after them
        assert c.request(get("/ping")).body == b"pong"
    assert srv.metric("axle_tls_handshakes_total") == 1
    assert srv.metric("axle_tls_handshake_failures_total") == 3


def client_hello(**kw) -> bytes:
    """The first flight of a Python TLS client (kw: maximum_version)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    if "maximum_version" in kw:
        ctx.maximum_version = kw["maximum_version"]
    ctx.set_alpn_protocols(["http/1.1"])
    out = ssl.MemoryBIO()
    client = ctx.wrap_bio(ssl.MemoryBIO(), out, server_hostname="a.test")
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    return out.read()


@pytest.mark.parametrize("io", ["epoll", "uring"])
def test_mutated_client_hellos_are_each_refused_and_counted(start_axle, site, tmp_path, io):
    """200 ClientHellos with bytes flipped, cut, inserted (a fixed seed), each
    followed by the client's EOF: each connection is closed, each counted."""
    io_or_skip(io, tmp_path)
    srv = start(start_axle, site, io=io)
    seeds = [client_hello(), client_hello(maximum_version=ssl.TLSVersion.TLSv1_2)]
    rng = random.Random(20261130)
    cases = 200
    for i in range(cases):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 8)):
            if not data:
                break
            op, at = rng.random(), rng.randrange(len(data))
            if op < 0.5:
                data[at] = rng.randrange(256)
            elif op < 0.7:
                del data[at:at + rng.randint(1, 20)]
            elif op < 0.85:
                data[at:at] = rng.randbytes(rng.randint(1, 40))
            else:
                del data[at:]
        with socket.create_connection(srv.https, timeout=IO_TIMEOUT) as s:
            try:
                s.sendall(bytes(data))
                s.shutdown(socket.SHUT_WR)
                while s.recv(65536):  # a socket.timeout here: not closed after the EOF
                    pass
            except (ConnectionResetError, BrokenPipeError):
                pass
        assert srv.server.alive(), f"case {i}: {bytes(data)!r}"
    assert srv.metric("axle_tls_handshake_failures_total") == cases
    with Conn(*srv.https, tls=True) as c:
        assert c.request(get("/ping")).body == b"pong"


def test_a_broken_record_after_the_handshake_closes_only_that_connection(start_axle, site):
    srv = start(start_axle, site)
    with Conn(*srv.https, tls=True) as other, Conn(*srv.https, tls=True) as c:
        assert c.request(get("/ping")).body == b"pong"
        c.sock.raw.sendall(b"\x17\x03\x03\x00\x20" + bytes(32))  # application data that fails to decrypt
        assert c.wait_closed()
        assert other.request(get("/ping")).body == b"pong"
    assert srv.metric("axle_tls_handshakes_total") == 2


def test_a_stalled_handshake_is_closed_after_the_timeout(start_axle, site):
    srv = start(start_axle, site, tls_extra="handshake_timeout_ms = 300\n", timeouts={"header_ms": 600000})
    with socket.create_connection(srv.https, timeout=IO_TIMEOUT) as s:
        assert s.recv(100) == b""  # closed by the server, not by the test's timeout (it would raise)
    assert srv.metric("axle_tls_handshake_timeouts_total") == 1
    with Conn(*srv.https, tls=True) as c:  # and it still serves
        assert c.request(get("/ping")).body == b"pong"


def test_more_than_max_handshakes_are_refused_at_once_and_counted(start_axle, site):
    srv = start(start_axle, site, tls_extra="max_handshakes = 2\n", timeouts={"header_ms": 600000})
    stalled = [socket.create_connection(srv.https, timeout=IO_TIMEOUT) for _ in range(2)]
    try:
        assert raw_reply(srv.https, b"") == b""  # the third: closed without a byte
        srv.server.wait_for_log(r"TLS connection\(s\) refused by the transport and closed "
                                r"\(last: its bound of concurrent handshakes is reached\)")
        assert srv.metric("axle_tls_refused_total") == 1
    finally:
        for s in stalled:
            s.close()
    # Slots free again once the server has seen the two leave.
    for _ in range(100):
        try:
            with Conn(*srv.https, tls=True) as c:
                assert c.request(get("/ping")).body == b"pong"
                break
        except PeerClosed:
            continue
    else:
        raise AssertionError("no handshake slot came back")
    assert srv.server.alive()


# ---------------------------------------------------------------- --check and reload

@pytest.mark.parametrize("case", ["unreadable", "mismatch", "expired"])
def test_check_names_the_file_and_the_config_line(site, certs, case):
    if case == "unreadable":
        (site / "server.crt").unlink()
        bad, key = site / "server.crt", "certificate"
    elif case == "mismatch":
        shutil.copy(certs.mismatched_key, site / "server.key")
        bad, key = site / "server.key", "key"
    else:
        shutil.copy(certs.expired.crt, site / "server.crt")
        shutil.copy(certs.expired.key, site / "server.key")
        bad, key = site / "server.crt", "certificate"
    cfg = site / "axle.toml"
    text = tls_config(site)
    cfg.write_text(text)
    lines = text.splitlines()
    line = next(i for i in range(lines.index("[tls]"), len(lines))  # the line the error must name
                if lines[i].startswith(f"{key} = ")) + 1
    check = run_axle(["--check", cfg])
    assert check.returncode != 0, check
    err = check.stderr
    assert f"axle.toml:{line}: tls.{key}" in err, err
    assert str(bad) in err, err
    want = {"unreadable": "cannot read", "mismatch": "does not match", "expired": "expired"}[case]
    assert want in err, err


def test_sighup_picks_up_a_renewed_certificate_and_keeps_established_connections(start_axle, site, certs):
    srv = start(start_axle, site)
    old_serial = tls_certs.serial_of(site / "server.crt")
    with Conn(*srv.https, tls=True) as kept:
        assert kept.request(get("/ping")).body == b"pong"
        assert serial(kept) == int(old_serial, 16)
        renewed = certs.issue("localhost", ["DNS:localhost", "IP:127.0.0.1"])
        shutil.copy(renewed.crt, site / "server.crt")
        shutil.copy(renewed.key, site / "server.key")
        mark = srv.server.log_mark()
        srv.server.proc.send_signal(signal.SIGHUP)
        srv.server.wait_for_log(r"generation 2 serving", start=mark)
        new_serial = int(tls_certs.serial_of(renewed.crt), 16)
        assert new_serial != int(old_serial, 16)
        # The old generation's worker may still take a connection or two until
        # it has seen the drain (the line above is logged before it is told):
        # wait for the new certificate, then every new connection has it.
        seen, deadline = [], time.monotonic() + IO_TIMEOUT
        while new_serial not in seen[-1:] and time.monotonic() < deadline:
            with Conn(*srv.https, tls=True) as fresh:
                assert fresh.request(get("/ping")).body == b"pong"
                seen.append(serial(fresh))
        assert seen[-1] == new_serial and set(seen) <= {new_serial, int(old_serial, 16)}, seen
        for _ in range(3):
            with Conn(*srv.https, tls=True) as fresh:
                assert fresh.request(get("/ping")).body == b"pong"
                assert serial(fresh) == new_serial
        # The established connection keeps its session and its generation.
        assert kept.request(get("/static/hello.txt")).body == b"hello over tls\n"
        assert serial(kept) == int(old_serial, 16)


def test_a_reload_with_a_bad_certificate_keeps_the_old_generation_serving(start_axle, site, certs):
    srv = start(start_axle, site)
    old_serial = int(tls_certs.serial_of(site / "server.crt"), 16)
    shutil.copy(certs.expired.crt, site / "server.crt")
    shutil.copy(certs.expired.key, site / "server.key")
    mark = srv.server.log_mark()
    srv.server.proc.send_signal(signal.SIGHUP)
    line = srv.server.wait_for_log(r"reload failed, generation 1 keeps serving", start=mark)
    assert "tls.certificate" in line and "expired" in line, line
    with Conn(*srv.https, tls=True) as c:
        assert c.request(get("/ping")).body == b"pong"
        assert serial(c) == old_serial


# ---------------------------------------------------------------- kernel TLS

def test_kernel_tls_sends_a_file_when_the_kernel_offers_it(start_axle, site, certs, tmp_path):
    try:
        ulps = open("/proc/sys/net/ipv4/tcp_available_ulp").read().split()
    except OSError as e:
        pytest.skip(f"cannot read /proc/sys/net/ipv4/tcp_available_ulp: {e}")
    if "tls" not in ulps:
        pytest.skip(f"the kernel offers no tls ULP (tcp_available_ulp: {' '.join(ulps) or 'empty'}; "
                    "try modprobe tls): kernel TLS cannot be tested here")
    srv = start(start_axle, site, tls_extra='kernel_tls = true\nciphersuites = "TLS_AES_128_GCM_SHA256"\n')
    assert "kernel TLS TX" in srv.server.wait_for_log(HTTPS_RE)
    got = tmp_path / "got.bin"
    curl(certs, "--tlsv1.3", "-o", got, f"https://127.0.0.1:{srv.port}/static/big.bin")
    assert got.read_bytes() == (site / "public" / "big.bin").read_bytes()
    assert srv.metric("axle_tls_kernel_tx_total") == 1
