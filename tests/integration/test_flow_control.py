"""Flow control under attack: clients that pipeline and never read must not
make the server hold unbounded descriptors or memory, nor starve a bystander.

Each probe runs on both io modules (uring skips itself where io_uring is not
available), takes about 15 s, talks only to 127.0.0.1 and stops by itself.
The bounds asserted are derived from LIMITS, written into the server's config.
"""

import json

import harness
import pytest

import flow_probes as fp

MiB = 1 << 20

# The limits under test, written into [limits] of every server started here.
LIMITS = {
    "max_conn_output_bytes": 256 * 1024,  # queued output per connection
    "max_conn_output_files": 4,  # open files queued per connection
    "max_buffered_bytes": 32 * MiB,  # request bodies + queued output, process-wide
}

# Descriptors a connection may hold besides its socket and queued files: the
# uring backend splices a file through a pipe (two descriptors) per send.
SEND_PIPE_FDS = 2
# Resident memory a server may grow by beyond the budget it is given:
# receive buffers, io_uring buffer rings, allocator caches, per-connection state.
RSS_SLACK = 48 * MiB

# Probe 1: pipelined GETs of a large static file.
FILE_CONNS = 64
FILE_GETS_PER_CONN = 24
# Probe 2: pipelined 1 MiB POSTs to the echo handler (which answers the body).
ECHO_CONNS = 24
ECHO_POSTS_PER_CONN = 24
ECHO_BODY = 1 * MiB  # the default max_body_bytes
# Probe 3 (uring): hundreds of clients, each many requests padded to fill receive buffers.
CROWD_CONNS = 300
CROWD_GETS_PER_CONN = 96
CROWD_PAD = 3000

PROBES = 20  # bystander pings per test, every one must be answered
PROBE_INTERVAL_S = 0.5
IO_MODULES = ["epoll", "uring"]

# A pipe (uring's splice) holds up to 1 MiB, the server socket up to
# tcp_wmem's maximum, the client's window a few KiB: a response larger than
# all of it twice over stays queued in the server.
BIG_FILE_BYTES = max(4 * MiB, 2 * (fp.sysctl_max("/proc/sys/net/ipv4/tcp_wmem") + MiB))


@pytest.fixture(scope="module")
def flow_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("flow-static")
    (root / "big.bin").write_bytes(b"\xa5" * BIG_FILE_BYTES)
    return root


def start_server(start_axle, tmp_path, io, root):
    """A server on io with LIMITS, or a skip when this machine cannot run io."""
    config = harness.render_config(modules={"io": io}, limits=LIMITS, routes=harness.default_routes(root))
    check_file = tmp_path / f"check-{io}.toml"
    check_file.write_text(config)
    check = harness.run_axle(["--check", check_file])
    if check.returncode != 0 and "is not available" in check.stderr:
        pytest.skip(f"io module {io} cannot run here: {check.stderr.strip()}")
    assert check.returncode == 0, f"axle --check refuses the flow-control config: {check.stderr.strip()}"
    server = start_axle.start(config)
    addr = server.listeners[0]
    harness.eventually_served(addr)  # warm: workers, modules, the Date cache
    return server, addr


def figures(**kw) -> str:
    return ", ".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("io", IO_MODULES)
def test_pipelined_large_file_gets_hold_bounded_descriptors(start_axle, tmp_path, flow_root, io):
    fp.raise_nofile(FILE_CONNS + 256)
    server, addr = start_server(start_axle, tmp_path, io, flow_root)
    pid = server.proc.pid
    base_fds = fp.open_fds(pid)
    fd_bound = base_fds + FILE_CONNS * (1 + LIMITS["max_conn_output_files"] + SEND_PIPE_FDS) + 16
    # The attack asks for FILE_GETS_PER_CONN files per connection, far over the bound.
    assert FILE_CONNS * (1 + FILE_GETS_PER_CONN) > 2 * fd_bound
    # Close to what it should need: a server holding a descriptor per queued
    # response runs out here, as it does at 20,000 under a bigger attack.
    fp.limit_server_nofile(pid, fd_bound + 128)

    request = harness.get("/static/big.bin")
    crowd = fp.Crowd(addr, FILE_CONNS, request * FILE_GETS_PER_CONN)
    peak = fp.Peak(fd_bound)
    try:
        crowd.open()
        assert crowd.pump(harness.IO_TIMEOUT), f"only {crowd.total_sent()} request bytes sent"
        pings = fp.hold_and_probe(crowd, addr, pid, PROBES, PROBE_INTERVAL_S, lambda p: peak.see(fp.open_fds(p)))
        answered = crowd.answered(b"HTTP/1.1 200 ")
        send_queues = fp.server_send_queues(addr[1], crowd.ports())
        stats = figures(io=io, base_fds=base_fds, peak_fds=peak.value, fd_bound=fd_bound,
                        pings_ok=f"{pings.ok}/{pings.total}", answered=f"{answered}/{FILE_CONNS}")
        assert server.alive(), f"server died under the attack ({stats})\n{server.log_tail()}"
        assert not pings.failures, f"/ping failed during the attack ({stats}): {pings.failures[:3]}"
        assert peak.value <= fd_bound, f"descriptors over the bound ({stats})"
        # Not vacuous: every connection got a response started and its server
        # socket is full, so the rest of its requests had to wait in the server.
        assert answered == FILE_CONNS, f"some attack connections got no 200 response ({stats})"
        stuck = sum(1 for q in send_queues.values() if q > 0)
        assert stuck == FILE_CONNS, (f"only {stuck} of the {len(send_queues)} attack connections the server "
                                     f"still holds have unsent bytes in it ({stats})")
    finally:
        crowd.close()
    # Closing the attackers gives their descriptors back (pooled pipes may stay).
    released = fp.wait_until(lambda: fp.open_fds(pid) <= base_fds + FILE_CONNS * SEND_PIPE_FDS + 16,
                             2 * harness.IO_TIMEOUT)
    assert released, f"descriptors not released after the attack: {fp.open_fds(pid)} (base {base_fds})"
    assert harness.eventually_served(addr).status == 200


@pytest.mark.parametrize("io", IO_MODULES)
def test_pipelined_echo_posts_hold_bounded_memory(start_axle, tmp_path, flow_root, io):
    fp.raise_nofile(ECHO_CONNS + 256)
    server, addr = start_server(start_axle, tmp_path, io, flow_root)
    pid = server.proc.pid
    base_rss = fp.rss_bytes(pid)
    rss_bound = base_rss + LIMITS["max_buffered_bytes"] + RSS_SLACK
    offered = ECHO_CONNS * ECHO_POSTS_PER_CONN * ECHO_BODY
    # The attack offers several times what the bound allows.
    assert offered > 4 * (rss_bound - base_rss)

    crowd = fp.Crowd(addr, ECHO_CONNS, harness.post("/echo/x", b"e" * ECHO_BODY) * ECHO_POSTS_PER_CONN)
    peak = fp.Peak(rss_bound)
    try:
        crowd.open()
        pings = fp.hold_and_probe(crowd, addr, pid, PROBES, PROBE_INTERVAL_S, lambda p: peak.see(fp.rss_bytes(p)))
        # Requests beyond the budget may wait unread or get 503: both start a response.
        answered = crowd.answered()
        stats = figures(io=io, base_rss_mib=base_rss // MiB, peak_rss_mib=peak.value // MiB,
                        rss_bound_mib=rss_bound // MiB, sent_mib=crowd.total_sent() // MiB,
                        offered_mib=offered // MiB, pings_ok=f"{pings.ok}/{pings.total}",
                        answered=f"{answered}/{ECHO_CONNS}")
        assert server.alive(), f"server died under the attack ({stats})\n{server.log_tail()}"
        assert not pings.failures, f"/ping failed during the attack ({stats}): {pings.failures[:3]}"
        # (AddressSanitizer keeps freed memory in quarantine: no RSS bound there.)
        if not fp.under_asan(pid):
            assert peak.value <= rss_bound, f"resident memory over the bound ({stats})"
        # Not vacuous: each connection delivered at least one whole body and was answered.
        assert crowd.total_sent() >= ECHO_CONNS * ECHO_BODY, f"the attack did not get its bodies out ({stats})"
        assert answered == ECHO_CONNS, f"some attack connections got no response ({stats})"
    finally:
        crowd.close()
    assert harness.eventually_served(addr).status == 200


def test_uring_clients_that_never_read_do_not_stall_others(start_axle, tmp_path, flow_root):
    fp.raise_nofile(CROWD_CONNS + 256)
    server, addr = start_server(start_axle, tmp_path, "uring", flow_root)
    pid = server.proc.pid
    request = harness.get("/static/big.bin", extra=b"X-Pad: " + b"p" * CROWD_PAD + b"\r\n")
    payload = request * CROWD_GETS_PER_CONN
    # Together they send far more than the receive buffer rings hold (512 x 16 KiB per worker).
    assert CROWD_CONNS * len(payload) > 4 * 2 * 512 * 16384

    crowd = fp.Crowd(addr, CROWD_CONNS, payload)
    try:
        crowd.open()
        crowd.pump(1.0)
        pings = fp.hold_and_probe(crowd, addr, pid, PROBES, PROBE_INTERVAL_S, lambda p: False)
        answered = crowd.answered()
        stats = figures(pings_ok=f"{pings.ok}/{pings.total}", answered=f"{answered}/{CROWD_CONNS}",
                        sent_mib=crowd.total_sent() // MiB, fds=fp.open_fds(pid) if server.alive() else "-")
        assert server.alive(), f"server died under the attack ({stats})\n{server.log_tail()}"
        assert not pings.failures, f"/ping stalled behind clients that never read ({stats}): {pings.failures[:3]}"
        # Not vacuous: every attacker got the server to start answering it.
        assert answered == CROWD_CONNS, f"some attack connections were never served ({stats})"
    finally:
        crowd.close()
    assert harness.eventually_served(addr).status == 200


def test_uring_spreads_connections_over_workers(start_axle, tmp_path, flow_root):
    """With one shared listening socket, every io_uring loop must get a share
    of the connections (a multishot accept used to hand all of them to one)."""
    config = harness.render_config(modules={"io": "uring"}, workers=2, routes=harness.default_routes(flow_root),
                                   extra='[admin]\nlisten = "127.0.0.1:0"')
    check_file = tmp_path / "check-spread.toml"
    check_file.write_text(config)
    check = harness.run_axle(["--check", check_file])
    if check.returncode != 0 and "is not available" in check.stderr:
        pytest.skip(f"io_uring cannot run here: {check.stderr.strip()}")
    server = start_axle.start(config)
    server.wait_for_log(r"admin listening on")
    addr = server.listeners[0]
    conns = []
    try:
        for _ in range(40):  # one after the other, each answered before the next connects
            c = harness.Conn(*addr)
            conns.append(c)
            assert c.request(harness.get("/ping")).status == 200
        with harness.Conn(*server.admin[0]) as c:
            doc = json.loads(c.request(harness.get("/generations", host="127.0.0.1")).body)
        counts = doc["generations"][0]["worker_connections"]
        assert len(counts) == 2 and sum(counts) == 40, doc
        assert min(counts) >= 5, f"one loop took nearly every connection: {counts}"
    finally:
        for c in conns:
            c.close()
