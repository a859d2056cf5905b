"""Issue 10's scale-out promise on loopback: three backend axles behind an axle
proxy (modules/handler-proxy) under wrk load of idempotent GETs.

1. a backend is SIGKILLed: zero failed requests (retries plus ejection);
2. it is restarted on the same port: it gets requests again, and only after
   passing its health checks;
3. the proxy's upstream list is edited (one server out, a new one in) and the
   proxy gets SIGHUP: zero failed requests, the new server gets traffic and
   the removed one nothing (no request, no health check) once the old
   generation is retired.

Each backend answers `/who` with its own name (precompiled) and `/ping` (the
health checks); its metrics count the two routes apart, which is how traffic
is attributed. Failures are what wrk counts: socket errors (connect, read,
write, timeout) and non-2xx responses. Every wait is bounded.
"""

import re
import shutil
import signal
import subprocess
import time

import pytest

import harness

WRK = shutil.which("wrk")
pytestmark = [
    pytest.mark.skipif(not WRK, reason="wrk not installed (Debian package 'wrk')"),
    pytest.mark.skipif(not (harness.module_dir() / "axle-handler-proxy.so").exists(),
                       reason="the proxy module (modules/handler-proxy) is not built"),
]

RISE = 2  # passed checks that bring a server back
HEALTH = {"health_path": "/ping", "health_interval_ms": 100, "health_timeout_ms": 500, "rise": RISE, "fall": 2,
          "max_fails": 1, "eject_ms": 200, "eject_max_ms": 1000}
WRK_CONNECTIONS = 8
WAIT_S = 15.0 * harness.TIMEOUT_SCALE  # bound of each "until" loop


def backend_config(name, port=0):
    return harness.render_config(
        listen=(f"127.0.0.1:{port}",), workers=1, modules={"metrics": "prometheus"},
        routes=[{"path": "/ping", "handler": "ping"},
                {"path": "/who", "handler": "precompiled", "body": name}])


def proxy_config(ports):
    upstream = ["[module.proxy.upstream.app]",
                f"servers = {harness.toml_value([f'127.0.0.1:{p}' for p in ports])}",
                'balance = "round_robin"']
    upstream += [f"{k} = {harness.toml_value(v)}" for k, v in HEALTH.items()]
    return harness.render_config(
        workers=2, routes=[{"path": "/*", "handler": "proxy", "upstream": "app", "retries": 2}],
        extra="\n".join(upstream))


def counts(port):
    """(requests to /who, requests to /ping) a backend answered 2xx, from its metrics."""
    with harness.Conn("127.0.0.1", port) as c:
        resp = c.request(harness.get("/metrics"))
    assert resp.status == 200, resp
    found = {"/who": 0, "/ping": 0}
    for line in resp.body.decode().splitlines():
        m = re.match(r'axle_http_requests_total\{(.*)\} (\d+)$', line)
        if m and 'status_class="2xx"' in m.group(1):
            route = re.search(r'route="([^"]*)"', m.group(1)).group(1)
            if route in found:
                found[route] += int(m.group(2))
    return found["/who"], found["/ping"]


class Wrk:
    """wrk -t1 on the proxy's /who for `seconds`, in the background."""

    def __init__(self, port, seconds):
        self.seconds = seconds
        self.proc = subprocess.Popen([WRK, "-t1", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s",
                                      f"http://127.0.0.1:{port}/who"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def result(self):
        """(requests, failures, wrk's output); wrk must have run to its end."""
        try:
            out, err = self.proc.communicate(timeout=self.seconds + 30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise AssertionError(f"wrk did not finish within {self.seconds + 30}s")
        assert self.proc.returncode == 0, f"wrk failed ({self.proc.returncode}): {err}{out}"
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        failures = 0
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        if m:
            failures += sum(int(g) for g in m.groups())
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if m:
            failures += int(m.group(1))
        return requests, failures, out


def load_until(proxy_port, condition, what):
    """Short wrk runs until condition() holds (bounded); every run must be clean."""
    deadline = time.monotonic() + WAIT_S
    while True:
        requests, failures, out = Wrk(proxy_port, 1).result()
        assert requests > 0 and failures == 0, f"while waiting for {what}: {failures} failed\n{out}"
        if condition():
            return
        assert time.monotonic() < deadline, f"{what} did not happen within {WAIT_S}s"


def test_kill_restart_and_reload_fail_no_request(start_axle):
    backends = {name: start_axle.start(backend_config(name)) for name in ("b1", "b2", "b3")}
    ports = {name: server.listeners[0][1] for name, server in backends.items()}
    proxy = start_axle.start(proxy_config([ports["b1"], ports["b2"], ports["b3"]]))
    proxy_port = proxy.listeners[0][1]

    # Through the proxy, each backend's own answer comes back.
    with harness.Conn(*proxy.listeners[0]) as c:
        resp = c.request(harness.get("/who"))
    assert resp.status == 200 and resp.body in (b"b1", b"b2", b"b3"), resp
    load_until(proxy_port, lambda: all(counts(p)[0] > 0 for p in ports.values()), "traffic on all three backends")

    # 1. SIGKILL b2 under load: no failed request.
    run = Wrk(proxy_port, 4)
    time.sleep(1.5)
    backends["b2"].kill()
    requests, failures, out = run.result()
    assert requests > 0 and failures == 0, f"{failures} of {requests} requests failed around the kill\n{out}"
    assert proxy.alive(), proxy.log_tail()

    # 2. b2 back on the same port: traffic again, only after its health checks passed.
    backends["b2"] = start_axle.start(backend_config("b2", ports["b2"]))
    load_until(proxy_port, lambda: counts(ports["b2"])[0] > 0, "traffic on the restarted b2")
    who, pings = counts(ports["b2"])
    assert pings >= RISE, f"b2 took {who} requests after only {pings} health checks (rise = {RISE})"

    # 3. Reload: b3 out, b4 in, under load.
    backends["b4"] = start_axle.start(backend_config("b4"))
    ports["b4"] = backends["b4"].listeners[0][1]
    # The proxy re-reads the file it was started with on SIGHUP.
    config_path = proxy.args[proxy.args.index("--config") + 1]
    with open(config_path, "w") as f:
        f.write(proxy_config([ports["b1"], ports["b2"], ports["b4"]]))
    mark = proxy.log_mark()
    run = Wrk(proxy_port, 5)
    time.sleep(1.5)
    proxy.proc.send_signal(signal.SIGHUP)
    proxy.wait_for_log(r"generation 2 serving", timeout=WAIT_S, start=mark)
    requests, failures, out = run.result()
    assert requests > 0 and failures == 0, f"{failures} of {requests} requests failed around the reload\n{out}"
    # wrk has closed its connections: the old generation, its pools and its checks go.
    proxy.wait_for_log(r"generation 1 retired", timeout=WAIT_S, start=mark)

    b3_before, b4_before = counts(ports["b3"]), counts(ports["b4"])
    requests, failures, out = Wrk(proxy_port, 2).result()
    assert requests > 0 and failures == 0, f"{failures} of {requests} requests failed after the reload\n{out}"
    assert counts(ports["b4"])[0] > b4_before[0], "the added server got no request after the reload"
    assert counts(ports["b3"]) == b3_before, "the removed server still got requests or health checks"
    for name in ("b1", "b2"):
        assert backends[name].alive(), backends[name].log_tail()
