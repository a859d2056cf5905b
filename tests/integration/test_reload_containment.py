"""Reloads that fail can never take the server down: every failure while a
generation is built or started (an absurd limit, a bad module file, an io
module whose thread_init, loop_create or run() fails, the system refusing
threads or memory) is logged as "reload failed" and the old generation keeps
serving. Regression tests for the attacker-minded review of the reload path."""

import re
import resource
import shutil
import signal

import pytest

import harness
from harness import Conn, get

SERVE_PING = {"path": "/ping", "handler": "ping"}


def config(module_dirs=(), modules=None, limits=None, workers=2, routes=(SERVE_PING,), extra=""):
    return harness.render_config(module_dirs=module_dirs, modules=modules, limits=limits, workers=workers,
                                 routes=list(routes), extra=extra)


def config_path(server):
    return server.args[server.args.index("--config") + 1]


def rewrite(server, text):
    with open(config_path(server), "w") as f:
        f.write(text)


def sighup(server, expect):
    """Sends SIGHUP and returns the first new log line matching expect."""
    mark = server.log_mark()
    server.proc.send_signal(signal.SIGHUP)
    return server.wait_for_log(expect, start=mark)


def assert_serving(server, path="/ping", body=b"pong"):
    assert server.alive(), server.log_tail()
    for _ in range(3):  # several connections: every worker of the old generation answers
        with Conn(*server.listeners[0]) as c:
            resp = c.request(get(path))
            assert resp.status == 200 and resp.body == body, resp


def flaky_io(fail):
    """[module.flaky] for the fixture io module wrapping the real epoll module."""
    inner = harness.module_dir() / "axle-io-epoll.so"
    return f'[module.flaky]\ninner = "{inner}"\nfail = "{fail}"\n'


def test_absurd_limit_is_refused_by_check_and_by_reload(start_axle, tmp_path):
    # This value passed --check and a reload then aborted the server (bad_alloc).
    absurd = config(limits={"max_headers": 4000000000})
    cfg = tmp_path / "absurd.toml"
    cfg.write_text(absurd)
    check = harness.run_axle(["--check", cfg])
    assert check.returncode == 1, check
    assert re.search(r"absurd\.toml:\d+: limits\.max_headers: expected an integer from 1 to 4096", check.stderr), \
        check.stderr

    server = start_axle.start(config())
    rewrite(server, absurd)
    line = sighup(server, r"reload failed")
    assert "limits.max_headers" in line, line
    assert_serving(server)


def test_truncated_module_file_fails_the_reload_only(start_axle, tmp_path):
    mods = tmp_path / "mods"
    mods.mkdir()
    module = mods / "axle-handler-swap.so"
    shutil.copyfile(harness.fixtures_dir() / "swap-a" / "axle-handler-swap.so", module)
    text = config(module_dirs=[mods], routes=[SERVE_PING, {"path": "/swap", "handler": "swap"}])
    server = start_axle.start(text)
    assert_serving(server, "/swap", b"swap build a")

    size = module.stat().st_size
    with open(module, "r+b") as f:
        f.truncate(size // 2)
    line = sighup(server, r"reload failed")
    assert "axle-handler-swap.so: cannot load: truncated file" in line, line
    assert_serving(server, "/swap", b"swap build a")
    assert_serving(server)


@pytest.mark.parametrize("fail, reason", [
    ("loop_create", r"could not create its loop: flaky: loop_create fails as configured"),
    ("thread_init", r"failed to start worker \d+: flaky: thread_init fails as configured"),
])
def test_io_module_failing_to_start_its_workers_fails_the_reload_only(start_axle, fail, reason):
    server = start_axle.start(config())
    rewrite(server, config(module_dirs=[harness.fixtures_dir()], modules={"io": "flaky"}, extra=flaky_io(fail)))
    line = sighup(server, r"reload failed")
    assert re.search(reason, line), line
    assert_serving(server)
    # The workers the failed generation had started are gone again: a good
    # reload afterwards is generation 2 and nothing is left half-started.
    rewrite(server, config(module_dirs=[harness.fixtures_dir()], modules={"io": "flaky"}, extra=flaky_io("none")))
    sighup(server, r"generation 2 serving")
    assert_serving(server)


def test_first_start_with_a_failing_io_module_exits_1_with_the_reason(tmp_path):
    cfg = tmp_path / "fail.toml"
    cfg.write_text(config(module_dirs=[harness.fixtures_dir()], modules={"io": "flaky"},
                          extra=flaky_io("loop_create")))
    run = harness.run_axle(["--config", cfg], timeout=30)
    assert run.returncode == 1, run
    assert "flaky: loop_create fails as configured" in run.stderr, run.stderr


def test_io_loop_failing_with_connections_open_releases_them_and_is_reaped(start_axle):
    # One worker, three connections allowed in the whole process.
    flaky = config(module_dirs=[harness.fixtures_dir()], modules={"io": "flaky"}, extra=flaky_io("run"),
                   limits={"max_connections": 3}, workers=1)
    server = start_axle.start(flaky)
    addr = server.listeners[0]
    with Conn(*addr) as idle, Conn(*addr) as trigger:
        assert idle.request(get("/ping")).body == b"pong"
        mark = server.log_mark()
        trigger.send(b"FAIL-RUN")
        server.wait_for_log(r"worker 0: io loop failed: flaky: run fails as configured; closing its 2 connection",
                            start=mark)
        # Both connections were closed by the host, not left to a dead loop.
        assert idle.wait_closed() and trigger.wait_closed()
    rewrite(server, config(limits={"max_connections": 3}, workers=1))
    mark = server.log_mark()
    server.proc.send_signal(signal.SIGHUP)
    server.wait_for_log(r"generation 2 serving", start=mark)
    server.wait_for_log(r"generation 1 retired", start=mark)
    # The two connections the dead loop held were given back: all three of
    # the process-wide slots serve at once.
    conns = [Conn(*addr) for _ in range(3)]
    try:
        for c in conns:
            c.send(get("/ping"))
        for c in conns:
            assert c.read_response().body == b"pong"
    finally:
        for c in conns:
            c.close()


def vm_size_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmSize:\s+(\d+) kB", f.read()).group(1)) * 1024


def test_threads_or_memory_refused_by_the_system_fail_the_reload_only(start_axle):
    """We run as root, so RLIMIT_NPROC does not apply: the server's address
    space is capped instead (RLIMIT_AS, set on the running process), so the
    8 MiB stacks of 512 new worker threads cannot all be mapped and
    std::thread (or an allocation) fails inside the reload."""
    with open("/proc/self/maps") as f:
        if "libasan" in f.read() or harness.os.environ.get("AXLE_WRAPPER"):
            pytest.skip("address-space cap is meaningless under a sanitizer or wrapper")
    server = start_axle.start(config(workers=2))
    pid = server.proc.pid
    old = resource.prlimit(pid, resource.RLIMIT_AS)
    try:
        resource.prlimit(pid, resource.RLIMIT_AS, (vm_size_bytes(pid) + (64 << 20), old[1]))
        rewrite(server, config(workers=512))
        line = sighup(server, r"reload failed")
        assert re.search(r"cannot start the thread of worker \d+|bad_alloc|Cannot allocate memory|"
                         r"Resource temporarily unavailable", line), line
        assert_serving(server)
    finally:
        resource.prlimit(pid, resource.RLIMIT_AS, old)
    # Once the system allows it again, the same kind of reload works.
    rewrite(server, config(workers=3))
    sighup(server, r"generation 2 serving")
    assert_serving(server)
