"""Module files may change under a running server: it runs each generation's
modules from a private sealed copy, so overwriting, truncating or renaming
over a loaded file never touches running code, and a reload loads what the
file holds now (dlopen of the same path used to hand back the old object).
--check and --list-modules report a bad file instead of crashing."""

import os
import re
import shutil
import signal
import subprocess
import time

import pytest

import harness
from harness import Conn, get

BUILD_A = b"swap build a"
BUILD_B = b"swap build b"


def build(variant):
    return harness.fixtures_dir() / f"swap-{variant}" / "axle-handler-swap.so"


def setup_dir(tmp_path):
    mods = tmp_path / "mods"
    mods.mkdir()
    shutil.copyfile(build("a"), mods / "axle-handler-swap.so")
    cfg = tmp_path / "swap.toml"
    cfg.write_text(harness.render_config(module_dirs=[mods], workers=2, routes=[
        {"path": "/ping", "handler": "ping"}, {"path": "/swap", "handler": "swap"}]))
    return mods / "axle-handler-swap.so", cfg


def body(server, path="/swap"):
    with Conn(*server.listeners[0]) as c:
        resp = c.request(get(path))
        assert resp.status == 200, resp
        return resp.body


def reload(server, generation):
    """SIGHUP, then wait until the previous generation is gone: until its
    workers see the drain they may still accept a new connection."""
    mark = server.log_mark()
    server.proc.send_signal(signal.SIGHUP)
    server.wait_for_log(rf"generation {generation} serving", start=mark)
    server.wait_for_log(rf"generation {generation - 1} retired", start=mark)


def test_overwritten_truncated_and_renamed_files_never_touch_the_running_code(start_axle, tmp_path):
    module, cfg = setup_dir(tmp_path)
    server = start_axle.start(args=["--config", cfg])
    assert body(server) == BUILD_A

    # cp over the loaded file: same inode rewritten in place (this was SIGBUS).
    shutil.copyfile(build("b"), module)
    for _ in range(20):
        assert body(server) == BUILD_A

    # Truncated in place: still serving, and the tools name the bad file.
    with open(module, "r+b") as f:
        f.truncate(4096)
    for _ in range(20):
        assert body(server) == BUILD_A
    check = harness.run_axle(["--check", cfg])
    assert check.returncode == 1, check
    assert f"{module}: cannot load: truncated file" in check.stderr, check.stderr
    listing = harness.run_axle(["--config", cfg, "--list-modules"])
    assert listing.returncode == 0, listing
    assert re.search(rf"{re.escape(str(module))}\s+\(refused: .*truncated file", listing.stdout), listing.stdout

    # Garbage and an empty file: refused the same way.
    module.write_bytes(b"\x7fELF but not really" * 3)
    assert "cannot load: " in harness.run_axle(["--check", cfg]).stderr
    module.write_bytes(b"")
    check = harness.run_axle(["--check", cfg])
    assert check.returncode == 1 and "cannot load: empty file" in check.stderr, check.stderr
    assert body(server) == BUILD_A

    # Renamed over it (how packages install): a reload now loads the new code.
    staged = module.with_suffix(".new")
    shutil.copyfile(build("b"), staged)
    os.replace(staged, module)
    assert body(server) == BUILD_A
    assert harness.run_axle(["--check", cfg]).returncode == 0
    reload(server, 2)
    assert body(server) == BUILD_B
    assert body(server, "/ping") == b"pong"


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (.ci/setup installs it)")
def test_rebuilt_module_swaps_in_on_reload_under_load_without_a_failed_request(start_axle, tmp_path):
    module, cfg = setup_dir(tmp_path)
    server = start_axle.start(args=["--config", cfg])
    port = server.listeners[0][1]
    swaps = 6
    wrk = subprocess.Popen(["wrk", "-t1", "-c20", "-d8s", "--timeout", "5s", f"http://127.0.0.1:{port}/swap"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for generation in range(2, swaps + 2):
            time.sleep(0.5)
            variant = "b" if generation % 2 == 0 else "a"
            shutil.copyfile(build(variant), module)  # cp over the loaded file, under load
            reload(server, generation)
            # New connections get the new code.
            assert body(server) == (BUILD_B if variant == "b" else BUILD_A)
    finally:
        out, _ = wrk.communicate(timeout=60)
    assert wrk.returncode == 0, out
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    assert requests > 0, out
    assert "Socket errors" not in out, out
    assert "Non-2xx" not in out, out
    log = "\n".join(server.stderr_lines)
    assert "reload failed" not in log, log
    last_generation = swaps + 1
    assert body(server) == (BUILD_B if last_generation % 2 == 0 else BUILD_A)
