"""metrics = "prometheus" through the real binary on 2 workers: after a known
set of requests, /metrics reports exactly that many per label (summed over
the workers), and promtool accepts the exposition."""

import re
import shutil
import subprocess
import time

import pytest

import harness
from harness import Conn, get, host_abi_version

PROMTOOL = shutil.which("promtool")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def unescape(value: str) -> str:
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), value)


def parse(text: str) -> dict:
    """{(name, frozenset(labels.items())): value} of every sample."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"malformed sample line {line!r}"
        labels = {}
        if m.group(2):
            consumed = 0
            for lm in LABEL_RE.finditer(m.group(2)):
                assert lm.start() == consumed, f"malformed labels in {line!r}"
                labels[lm.group(1)] = unescape(lm.group(2))
                consumed = lm.end()
            assert consumed == len(m.group(2)), f"malformed labels in {line!r}"
        key = (m.group(1), frozenset(labels.items()))
        assert key not in samples, f"duplicate series {line!r}"
        samples[key] = float(m.group(3))
    return samples


def value(samples, metric, /, **labels):
    return samples.get((metric, frozenset(labels.items())))


def scrape(server, path="/metrics"):
    with Conn(*server.listeners[0]) as c:
        resp = c.request(get(path))
    assert resp.status == 200, resp
    assert resp.header("content-type") == CONTENT_TYPE, resp
    return resp.body.decode("utf-8")


def requests_counted(samples):
    """Requests counted on every route but the metrics route itself."""
    return sum(v for (name, lbl), v in samples.items()
               if name == "axle_http_requests_total" and dict(lbl)["route"] != "/metrics")


def scrape_counted(server, n):
    """Scrapes until n requests are counted (bounded). A request is counted
    when its worker handles the completion of its last write, which can come
    just after the client has read the response; a scrape answered by the
    other worker in that moment sees one less. Returns the last scrape's
    text and how many scrapes (connections) it took."""
    for scrapes in range(1, 101):
        text = scrape(server)
        if requests_counted(parse(text)) >= n:
            break
        time.sleep(0.02)
    return text, scrapes


def metrics_server(start_axle, static_root, **kwargs):
    modules = {"metrics": "prometheus"}
    modules.update(kwargs.pop("modules", {}))
    return start_axle.start(workers=2, modules=modules, routes=harness.default_routes(static_root), **kwargs)


class Traffic:
    """Sends requests, each on its own connection so both workers take a
    share, and keeps what the server should have counted."""

    def __init__(self, server):
        self.addr = server.listeners[0]
        self.connections = 0
        self.requests = {}   # (route label, status class) -> n
        self.bytes_in = {}   # route label -> request bytes
        self.bytes_out = {}  # route label -> response bytes

    def send(self, route, raw: bytes, want_status: int):
        self.connections += 1
        with Conn(*self.addr) as c:
            resp = c.request(raw)
        assert resp.status == want_status, f"{raw!r} -> {resp!r}"
        key = (route, f"{want_status // 100}xx")
        self.requests[key] = self.requests.get(key, 0) + 1
        self.bytes_in[route] = self.bytes_in.get(route, 0) + len(raw)
        self.bytes_out[route] = self.bytes_out.get(route, 0) + len(resp.raw_head) + len(resp.body)

    def malformed(self, raw: bytes):
        """A request the parser refuses: a 400 counted as a parse error, not a request."""
        self.connections += 1
        with Conn(*self.addr) as c:
            resp = c.request(raw)
            assert resp.status == 400, resp
            assert c.wait_closed()


def test_counters_equal_the_requests_sent(start_axle, static_root):
    server = metrics_server(start_axle, static_root)
    t = Traffic(server)
    for _ in range(7):
        t.send("/ping", get("/ping"), 200)
    for i in range(5):
        t.send("/echo/{msg}", get(f"/echo/hello{i}"), 200)
    for _ in range(3):
        t.send("/static/*", get("/static/hello.txt"), 200)
    t.send("/static/*", get("/static/does-not-exist.txt"), 404)
    for i in range(4):
        t.send("none", get(f"/no/such/route/{i}"), 404)
    for _ in range(3):
        t.malformed(b"G@T /ping HTTP/1.1\r\nHost: a\r\n\r\n")

    text, scrapes = scrape_counted(server, sum(t.requests.values()))
    s = parse(text)
    for (route, cls), n in t.requests.items():
        assert value(s, "axle_http_requests_total", route=route, status_class=cls) == n, (route, cls, text)
    # Nothing counted that was not sent (a scrape counts itself only after rendering).
    assert requests_counted(s) == sum(t.requests.values()), text

    for route in ("/ping", "/echo/{msg}", "/static/*", "none"):
        n = sum(v for (r, _), v in t.requests.items() if r == route)
        assert value(s, "axle_http_request_duration_seconds_count", route=route) == n, (route, text)
        assert value(s, "axle_http_request_duration_seconds_bucket", route=route, le="+Inf") == n, (route, text)
        buckets = sorted(((float(dict(lbl)["le"]), v) for (name, lbl), v in s.items()
                          if name == "axle_http_request_duration_seconds_bucket" and dict(lbl)["route"] == route))
        counts = [v for _, v in buckets]
        assert counts == sorted(counts), f"buckets of {route} not cumulative: {buckets}"
        assert value(s, "axle_http_request_duration_seconds_sum", route=route) >= 0
        assert value(s, "axle_http_request_bytes_total", route=route) == t.bytes_in[route], (route, text)
    for route in ("/ping", "/echo/{msg}", "/static/*"):
        assert value(s, "axle_http_response_bytes_total", route=route) == t.bytes_out[route], (route, text)

    assert value(s, "axle_http_parse_errors_total", status="400") == 3, text
    # Every connection so far, plus the scrape's own, was accepted.
    accepted = value(s, "axle_connections_accepted_total")
    closed = value(s, "axle_connections_closed_total")
    assert accepted == t.connections + scrapes, text
    assert 1 <= value(s, "axle_connections_open") == accepted - closed, text
    assert value(s, "axle_workers") == 2
    kinds = sorted(dict(lbl)["kind"] for (name, lbl), _ in s.items() if name == "axle_module_info")
    assert kinds == ["alloc", "handler", "handler", "handler", "io", "metrics", "parser", "router"], text
    assert value(s, "axle_module_info", kind="metrics", name="prometheus", version="1.0.0", abi=host_abi_version()) == 1

    # The first scrape is counted after it rendered: the second one sees it.
    s2 = parse(scrape(server))
    assert value(s2, "axle_http_requests_total", route="/metrics", status_class="2xx") == 1


def test_timeouts_are_counted_by_kind(start_axle, static_root):
    server = metrics_server(start_axle, static_root, timeouts={"header_ms": 300, "idle_ms": 300})
    with Conn(*server.listeners[0]) as c:
        c.send(b"GET /ping HTTP/1.1\r\nHost: a\r\nX-Incompl")
        assert c.read_response().status == 408
    with Conn(*server.listeners[0]) as c:
        assert c.request(get("/ping")).status == 200
        assert c.wait_closed(), "idle keep-alive connection not closed"
    # The server counts a timeout before it closes; the clients saw both closes.
    s = parse(scrape(server))
    assert value(s, "axle_timeouts_total", kind="header") == 1
    assert value(s, "axle_timeouts_total", kind="idle") == 1
    assert value(s, "axle_timeouts_total", kind="body") == 0
    assert value(s, "axle_timeouts_total", kind="write") == 0


def test_metrics_path_is_configurable_and_off_by_default(start_axle, static_root):
    server = metrics_server(start_axle, static_root, modules={"metrics_path": "/internal/stats"})
    assert "axle_workers 2" in scrape(server, "/internal/stats")
    with Conn(*server.listeners[0]) as c:
        assert c.request(get("/metrics")).status == 404
    plain = start_axle.start(workers=2, routes=harness.default_routes(static_root))
    with Conn(*plain.listeners[0]) as c:
        assert c.request(get("/metrics")).status == 404


def test_counts_never_go_back_under_load(start_axle, static_root):
    """Scrapes while several clients hammer /ping: totals only grow, and the
    last scrape counts every request answered."""
    server = metrics_server(start_axle, static_root)
    clients = [Conn(*server.listeners[0]) for _ in range(4)]
    try:
        sent = 0
        last = 0
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            for c in clients:
                c.send(get("/ping") * 5)
            for c in clients:
                for _ in range(5):
                    assert c.read_response().status == 200
            sent += 5 * len(clients)
            seen = value(parse(scrape_counted(server, sent)[0]), "axle_http_requests_total", route="/ping",
                         status_class="2xx")
            assert seen == sent, f"after {sent} answered requests /metrics says {seen}"
            assert seen >= last
            last = seen
    finally:
        for c in clients:
            c.close()


@pytest.mark.skipif(not PROMTOOL, reason="promtool not installed (Debian package 'prometheus')")
def test_promtool_accepts_the_exposition(start_axle, static_root):
    server = metrics_server(start_axle, static_root)
    with Conn(*server.listeners[0]) as c:
        for path in ("/ping", "/echo/x", "/static/hello.txt", "/nope"):
            c.request(get(path))
    with Conn(*server.listeners[0]) as c:
        c.request(b"G@T / HTTP/1.1\r\n\r\n")
    text = scrape(server)
    out = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), \
        f"promtool check metrics: rc={out.returncode}\n{out.stdout}\n{out.stderr}\n--- exposition ---\n{text}"


# ---------------------------------------------------------------- module metrics (ABI 1.2)

RING_ENTRIES = 256
RING_BUFFERS = 128


def uring_pool_server(start_axle, static_root):
    """2 workers on io uring and alloc pool with known ring sizes; a skip when
    this machine cannot run io_uring."""
    kwargs = dict(modules={"io": "uring", "allocator": "pool"},
                  extra=f"[module.uring]\nentries = {RING_ENTRIES}\nbuffer_count = {RING_BUFFERS}")
    check = harness.run_axle(["--check", start_axle.write_config(
        harness.render_config(routes=harness.default_routes(static_root), **kwargs))])
    if check.returncode != 0 and "is not available" in check.stderr:
        pytest.skip(f"io_uring cannot run here: {check.stderr.strip()}")
    assert check.returncode == 0, check.stderr
    return metrics_server(start_axle, static_root, **{"modules": kwargs["modules"], "extra": kwargs["extra"]})


def module_total(samples, prefix, suffix, module):
    """Sum of every series of `module` whose name is prefix...suffix."""
    return sum(v for (name, lbl), v in samples.items()
               if name.startswith(prefix) and name.endswith(suffix) and dict(lbl).get("module") == module)


def echo_traffic(server, connections):
    """Each request on its own connection, so both workers allocate and submit."""
    for i in range(connections):
        with Conn(*server.listeners[0]) as c:
            assert c.request(get(f"/echo/m{i}")).status == 200


def scrape_until(server, done, what):
    """Scrapes until done(samples) holds: io-uring publishes once per tick
    (250 ms) and the pool every 64 allocations of a worker. Bounded."""
    for _ in range(40):
        text = scrape(server)
        s = parse(text)
        if done(s):
            return s, text
        time.sleep(0.1)
    pytest.fail(f"{what} never showed in /metrics:\n{text}")


def test_uring_and_pool_publish_their_figures_and_they_grow(start_axle, static_root):
    server = uring_pool_server(start_axle, static_root)
    echo_traffic(server, 200)

    def published(s):
        return (value(s, "axle_uring_sqes_submitted_total", module="uring") or 0) > 0 and \
            module_total(s, "axle_alloc_class_", "_allocations_total", "pool") > 0
    s, text = scrape_until(server, published, "uring SQE and pool allocation counters")

    # Sizes are exact: one ring per worker.
    assert value(s, "axle_uring_sq_entries", module="uring") == 2 * RING_ENTRIES, text
    assert value(s, "axle_uring_buffers", module="uring") == 2 * RING_BUFFERS, text
    assert 0 <= value(s, "axle_uring_buffers_in_use", module="uring") <= 2 * RING_BUFFERS, text
    for counter in ("axle_uring_submit_calls_total", "axle_uring_cqes_reaped_total",
                    "axle_uring_recv_enobufs_total", "axle_uring_stashed_bytes_total"):
        assert value(s, counter, module="uring") is not None, (counter, text)
    assert value(s, "axle_alloc_remote_frees_total", module="pool") is not None, text
    assert "# TYPE axle_uring_sqes_submitted_total counter" in text
    assert "# TYPE axle_uring_buffers gauge" in text
    assert "# TYPE axle_alloc_class_112_held_bytes gauge" in text

    before_sqes = value(s, "axle_uring_sqes_submitted_total", module="uring")
    before_cqes = value(s, "axle_uring_cqes_reaped_total", module="uring")
    before_allocs = module_total(s, "axle_alloc_class_", "_allocations_total", "pool")
    echo_traffic(server, 200)
    scrape_until(server, lambda s2:
                 value(s2, "axle_uring_sqes_submitted_total", module="uring") > before_sqes and
                 value(s2, "axle_uring_cqes_reaped_total", module="uring") > before_cqes and
                 module_total(s2, "axle_alloc_class_", "_allocations_total", "pool") > before_allocs,
                 "growth of the uring and pool counters")


@pytest.mark.skipif(not PROMTOOL, reason="promtool not installed (Debian package 'prometheus')")
def test_promtool_accepts_the_exposition_with_module_metrics(start_axle, static_root):
    server = uring_pool_server(start_axle, static_root)
    echo_traffic(server, 100)
    s, text = scrape_until(server, lambda s: (value(s, "axle_uring_cqes_reaped_total", module="uring") or 0) > 0,
                           "uring CQE counter")
    out = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), \
        f"promtool check metrics: rc={out.returncode}\n{out.stdout}\n{out.stderr}\n--- exposition ---\n{text}"
