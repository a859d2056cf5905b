"""File bodies through each io module's file path (issue 13 item 3): the
static handler's sendfile reaches io-epoll's sendfile(2), io-uring's
sendfile(2) (the default), and with file_async its copy path (ranges up to
file_copy_max, 32 KiB by default: one linked read+send) and its splice path
(larger ranges, or every range with file_copy_max = 0). Every body is
checked byte for byte; a client that leaves mid-file and a file truncated
while it is sent must leave the server serving, with no descriptor kept.

Each test runs on each of those settings; uring skips itself where io_uring
is not available. Bounded: a few MiB per test.
"""

import os
import socket
import time

import pytest

import harness

KiB, MiB = 1 << 10, 1 << 20
SIZES = [1, 4 * KiB, 32 * KiB, 32 * KiB + 1, 64 * KiB - 1, 64 * KiB + 1, 1 * MiB]
# (io module, lines of its [module.uring] table)
SETTINGS = {"epoll": ("epoll", ""), "uring": ("uring", ""), "uring-async": ("uring", "file_async = true"),
            "uring-splice": ("uring", "file_async = true\nfile_copy_max = 0")}
TRUNCATED_BYTES = 16 * MiB  # more than the socket buffers and a 1 MiB pipe hold together


def content(size, seed):
    return bytes((i * 131 + seed * 7 + (i >> 9)) & 0xFF for i in range(size))


@pytest.fixture(scope="module")
def files_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("io-files")
    for i, size in enumerate(SIZES):
        (root / f"f{size}.bin").write_bytes(content(size, i))
    return root


@pytest.fixture(params=list(SETTINGS))
def server(request, start_axle, tmp_path, files_root):
    io, keys = SETTINGS[request.param]
    extra = f"[module.uring]\n{keys}" if keys else ""
    routes = harness.default_routes(files_root)
    for route in routes:
        if route["handler"] == "static":
            route["memory_max_bytes"] = 0  # every body through the io module's file path, none from memory
    config = harness.render_config(modules={"io": io}, workers=1, extra=extra, routes=routes)
    check_file = tmp_path / "check.toml"
    check_file.write_text(config)
    check = harness.run_axle(["--check", check_file])
    if check.returncode != 0 and "is not available" in check.stderr:
        pytest.skip(f"io module {io} cannot run here: {check.stderr.strip()}")
    assert check.returncode == 0, check.stderr
    srv = start_axle.start(config)
    harness.eventually_served(srv.listeners[0])
    return srv


# uring keeps up to 16 idle pipes per loop for reuse (kIdlePipesKept): two
# descriptors each, shared by every connection of the loop.
IDLE_PIPE_FDS = 2 * 16


def open_fds(srv):
    """(pipe descriptors, every other descriptor) of the server."""
    pipes = other = 0
    for fd in os.listdir(f"/proc/{srv.proc.pid}/fd"):
        try:
            target = os.readlink(f"/proc/{srv.proc.pid}/fd/{fd}")
        except FileNotFoundError:
            continue  # closed meanwhile
        if target.startswith("pipe:"):
            pipes += 1
        else:
            other += 1
    return pipes, other


def fds_settle(srv, at_most, timeout=harness.IO_TIMEOUT):
    """The server's non-pipe descriptor count once it is at most `at_most` (or
    the timeout passed), and its pipe descriptors then."""
    deadline = time.monotonic() + timeout
    while True:
        pipes, other = open_fds(srv)
        if other <= at_most or time.monotonic() > deadline:
            return pipes, other
        time.sleep(0.05)


def test_every_size_byte_exact_one_by_one_and_pipelined(server, files_root):
    with harness.Conn(*server.listeners[0]) as c:
        for i, size in enumerate(SIZES):
            resp = c.request(harness.get(f"/static/f{size}.bin"))
            assert resp.status == 200 and resp.body == content(size, i), (size, resp.status, len(resp.body))
        c.send(b"".join(harness.get(f"/static/f{size}.bin") for size in SIZES))
        for i, size in enumerate(SIZES):
            resp = c.read_response()
            assert resp.status == 200 and resp.body == content(size, i), (size, resp.status, len(resp.body))


@pytest.mark.parametrize("first,last", [(0, 0), (4095, 4095 + 64 * KiB - 1), (1000, 5000), (7, MiB - 1),
                                        (MiB - 64 * KiB - 1, MiB - 1)])
def test_ranges_of_the_large_file_byte_exact(server, first, last):
    size, body = MiB, content(MiB, SIZES.index(MiB))
    with harness.Conn(*server.listeners[0]) as c:
        resp = c.request(harness.get(f"/static/f{size}.bin", extra=f"Range: bytes={first}-{last}\r\n".encode()))
        assert resp.status == 206, resp
        assert resp.body == body[first:last + 1], (first, last, len(resp.body))


def test_client_leaving_mid_file_keeps_no_descriptor(server):
    addr = server.listeners[0]
    # Warm: every path has run once, so the loop's pipes and buffers exist.
    with harness.Conn(*addr) as c:
        for size in SIZES:
            assert c.request(harness.get(f"/static/f{size}.bin")).status == 200
    _, baseline = open_fds(server)
    for size in (32 * KiB, 64 * KiB - 1, MiB):
        for _ in range(3):
            s = socket.create_connection(addr, timeout=harness.IO_TIMEOUT)
            s.sendall(harness.get(f"/static/f{size}.bin") * 20)
            got = s.recv(1000)
            assert got.startswith(b"HTTP/1.1 200"), got[:100]
            s.close()  # with responses queued and unread: the server sees a reset
    harness.eventually_served(addr)
    # No socket, file or pipe of a closed connection stays; the loop's idle
    # pipes are bounded.
    pipes, after = fds_settle(server, baseline)
    assert after <= baseline, (baseline, after)
    assert pipes <= IDLE_PIPE_FDS, pipes


def test_file_truncated_while_sent(server, files_root):
    path = files_root / "shrinking.bin"
    body = content(TRUNCATED_BYTES, 99)
    path.write_bytes(body)
    addr = server.listeners[0]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    received = b""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * KiB)  # before connect: a small window
        s.settimeout(harness.IO_TIMEOUT)
        s.connect(addr)
        s.sendall(harness.get("/static/shrinking.bin"))
        got = b""
        while b"\r\n\r\n" not in got:
            got += s.recv(4096)
        head, _, received = got.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and f"Content-Length: {TRUNCATED_BYTES}".encode() in head, head
        os.truncate(path, 0)  # to 0: no partial page is zeroed under bytes already queued
        while True:
            chunk = s.recv(256 * KiB)
            if not chunk:
                break
            received += chunk
            assert len(received) <= TRUNCATED_BYTES
    except ConnectionResetError:
        pass  # closed with bytes unread on our side: also an end
    finally:
        s.close()
    # The server stopped short (the file ended before the range) and closed,
    # and what it sent was the file's real content, never other bytes.
    assert len(received) < TRUNCATED_BYTES, "the whole original file arrived after truncation"
    assert received == body[:len(received)]
    harness.eventually_served(addr)
