"""Generations: SIGHUP (or POST /reload on the admin endpoint) re-reads the
config and swaps modules under live traffic; old connections finish on the
old generation; a bad config leaves the running one serving."""

import functools
import json
import os
import signal
import tempfile
import threading
import time

import pytest

import harness
from harness import Conn, get, post

OTHER = {"io": {"epoll": "uring", "uring": "epoll"},
         "parser": {"scalar": "simd", "simd": "scalar"},
         "router": {"linear": "radix", "radix": "linear"},
         "allocator": {"malloc": "pool", "pool": "malloc", "hugepages": "malloc"}}


@functools.lru_cache(maxsize=None)
def usable(kind, name):
    """The module was built and starts here (io_uring may be disabled, e.g.
    by a container's seccomp profile): --check creates its instance."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "probe.toml")
        with open(cfg, "w") as f:
            f.write(harness.render_config(modules={kind: name}))
        return harness.run_axle(["--check", cfg]).returncode == 0


def swapped(kinds):
    """The env combination with each kind in `kinds` switched to its twin;
    skips the test when a twin cannot run on this machine."""
    combo = harness.module_combination()
    out = {kind: OTHER[kind].get(combo[kind], combo[kind]) for kind in kinds}
    for kind, name in out.items():
        if not usable(kind, name):
            pytest.skip(f"{kind} module {name!r} is not usable here (axle --check refuses it)")
    return out


def start(start_axle, static_root, modules=None, extra=""):
    text = harness.render_config(routes=harness.default_routes(static_root), modules=modules, extra=extra)
    server = start_axle.start(text)
    server.wait_for_log(r"generation 1 serving")
    return server


def rewrite(server, text):
    """Overwrites the config file the server was started with."""
    path = server.args[server.args.index("--config") + 1]
    with open(path, "w") as f:
        f.write(text)


def reload_and_wait(server, generation):
    mark = server.log_mark()
    server.proc.send_signal(signal.SIGHUP)
    return server.wait_for_log(rf"generation {generation} serving", start=mark)


def test_sighup_swaps_parser_and_router_and_old_connection_finishes(start_axle, static_root):
    server = start(start_axle, static_root)
    with Conn(*server.listeners[0]) as old:
        assert old.request(get("/ping")).body == b"pong"
        new_modules = swapped(["parser", "router", "allocator"])
        rewrite(server, harness.render_config(routes=harness.default_routes(static_root), modules=new_modules))
        line = reload_and_wait(server, 2)
        for kind, name in new_modules.items():
            assert f"{kind}={name}" in line, line
        with Conn(*server.listeners[0]) as fresh:
            assert fresh.request(post("/echo/x", b"on generation 2")).body == b"on generation 2"
        # The connection opened before the reload keeps working on generation 1.
        assert old.request(get("/echo/still")).status == 200
        mark = server.log_mark()
        assert "generation 1 retired" not in "\n".join(server.stderr_lines), "retired with a connection open"
    # Once its last connection is gone the old generation is unloaded.
    server.wait_for_log(r"generation 1 retired", start=mark)


def test_sighup_with_a_broken_config_keeps_serving(start_axle, static_root):
    server = start(start_axle, static_root)
    rewrite(server, "[server]\nlisten = [\"127.0.0.1:0\"\nworkers = 2\n")
    mark = server.log_mark()
    server.proc.send_signal(signal.SIGHUP)
    server.wait_for_log(r"reload failed, generation 1 keeps serving", start=mark)
    with Conn(*server.listeners[0]) as c:
        assert c.request(get("/ping")).body == b"pong"


def test_sighup_with_a_missing_module_keeps_serving(start_axle, static_root):
    server = start(start_axle, static_root)
    rewrite(server, harness.render_config(routes=harness.default_routes(static_root),
                                          modules={"parser": "nosuchparser"}))
    mark = server.log_mark()
    server.proc.send_signal(signal.SIGHUP)
    line = server.wait_for_log(r"reload failed", start=mark)
    assert "nosuchparser" in line, line
    with Conn(*server.listeners[0]) as c:
        assert c.request(get("/ping")).body == b"pong"


def test_io_backend_swaps_under_load_without_errors(start_axle, static_root):
    twin = swapped(["io"])  # skips before any traffic when the twin cannot run
    server = start(start_axle, static_root)
    addr = server.listeners[0]
    stop = threading.Event()
    errors, served = [], [0]

    def keep_alive_client():
        while not stop.is_set():
            try:
                with Conn(*addr) as c:
                    for i in range(20):
                        resp = c.request(get(f"/echo/k{i}"))
                        if resp.status != 200 or f"k{i}".encode() not in resp.body:
                            errors.append(resp)
                        served[0] += 1
            except harness.PeerClosed:
                # A keep-alive connection closed between requests by a draining
                # generation is legal; the client reconnects.
                pass
            except Exception as e:  # asserted below
                errors.append(repr(e))

    def one_shot_client():
        while not stop.is_set():
            try:
                with Conn(*addr) as c:
                    resp = c.request(get("/ping", extra=b"Connection: close\r\n"))
                    if resp.body != b"pong":
                        errors.append(resp)
                    served[0] += 1
            except Exception as e:  # a dropped queued connection shows up here
                errors.append(repr(e))

    threads = [threading.Thread(target=keep_alive_client) for _ in range(2)]
    threads += [threading.Thread(target=one_shot_client) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        combo = harness.module_combination()
        for generation in range(2, 6):
            modules = twin if generation % 2 == 0 else {"io": combo["io"]}
            rewrite(server, harness.render_config(routes=harness.default_routes(static_root), modules=modules))
            reload_and_wait(server, generation)
            # Let traffic run on each generation before the next swap.
            target = served[0] + 200
            deadline = time.monotonic() + harness.IO_TIMEOUT
            while served[0] < target and time.monotonic() < deadline and not errors:
                time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors[:5]
    assert served[0] > 0


def test_admin_endpoint_lists_generations_and_reloads(start_axle, static_root):
    server = start(start_axle, static_root, extra='[admin]\nlisten = "127.0.0.1:0"')
    server.wait_for_log(r"admin listening on")
    admin = server.admin[0]
    with Conn(*admin) as c:
        resp = c.request(get("/generations", host="127.0.0.1"))
    assert resp.status == 200, resp
    doc = json.loads(resp.body)
    assert [g["state"] for g in doc["generations"]] == ["serving"], doc
    names = {(m["kind"], m["name"]) for m in doc["generations"][0]["modules"]}
    combo = harness.module_combination()
    assert ("parser", combo["parser"]) in names, names

    new_parser = swapped(["parser"])["parser"]
    rewrite(server, harness.render_config(routes=harness.default_routes(static_root),
                                          modules={"parser": new_parser}, extra='[admin]\nlisten = "127.0.0.1:0"'))
    with Conn(*admin) as c:
        resp = c.request(b"POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
    assert resp.status == 200, resp
    with Conn(*admin) as c:
        doc = json.loads(c.request(get("/generations", host="127.0.0.1")).body)
    serving = [g for g in doc["generations"] if g["state"] == "serving"]
    assert len(serving) == 1 and ("parser", new_parser) in {(m["kind"], m["name"]) for m in serving[0]["modules"]}, doc
    with Conn(*server.listeners[0]) as c:
        assert c.request(get("/ping")).body == b"pong"
