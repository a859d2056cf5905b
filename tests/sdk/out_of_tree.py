#!/usr/bin/python3
"""sdk.out_of_tree: a module author's path, end to end.

Installs the build tree's `sdk` component into a temporary prefix, builds
sdk/examples/hello-handler (copied out of the source tree) against that prefix
only, checks it exports nothing but axle_module_entry, installs it, then
serves it with the real bin/axle on 127.0.0.1:0 and stops the server with
SIGTERM. Every step has a timeout.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

STEP_TIMEOUT = 240  # configure or build on a busy 2-core machine
START_TIMEOUT = 20
IO_TIMEOUT = 5
STOP_TIMEOUT = 15
LISTENING_RE = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


def run(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    res = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=STEP_TIMEOUT, **kw)
    if res.returncode != 0:
        sys.exit(f"FAILED ({res.returncode}): {' '.join(str(c) for c in cmd)}\n{res.stdout}")
    return res.stdout


def check(cond, message):
    if not cond:
        sys.exit(f"FAILED: {message}")


def http_get(port, path):
    """(status, body) of one GET over a fresh connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as s:
        s.settimeout(IO_TIMEOUT)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    check(length is not None, f"no Content-Length in {head!r}")
    return status, body[: int(length.group(1))].decode()


class Server:
    """bin/axle with its output collected by a thread (a full pipe would stall it)."""

    def __init__(self, axle, config):
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen([axle, "--config", config], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for raw in iter(self.proc.stdout.readline, b""):
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def log(self):
        with self.cond:
            return "\n".join(self.lines[-40:])

    def port(self):
        deadline = time.monotonic() + START_TIMEOUT
        with self.cond:
            while time.monotonic() < deadline and self.proc.poll() is None:
                for line in self.lines:
                    if m := LISTENING_RE.search(line):
                        return int(m.group(1))
                self.cond.wait(0.2)
        self.proc.kill()
        sys.exit(f"FAILED: axle did not start listening\n{self.log()}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            sys.exit(f"FAILED: axle did not exit within {STOP_TIMEOUT}s of SIGTERM\n{self.log()}")


def main():
    ap = argparse.ArgumentParser()
    for opt in ("build-dir", "example", "source-dir", "cmake", "generator", "cxx", "axle"):
        ap.add_argument(f"--{opt}", required=True)
    args = ap.parse_args()
    source_dir = str(Path(args.source_dir).resolve())

    with tempfile.TemporaryDirectory(prefix="axle-sdk-") as tmp:
        tmp = Path(tmp)
        prefix, src, build, installed = tmp / "prefix", tmp / "hello-handler", tmp / "build", tmp / "installed"

        run([args.cmake, "--install", args.build_dir, "--prefix", prefix, "--component", "sdk"])
        check((prefix / "include/axle/module.h").is_file(), "plugin-api headers not installed")
        check((prefix / "include/axle/sdk/handler.hpp").is_file(), "SDK headers not installed")

        # A copy, so no relative path can reach back into the source tree.
        shutil.copytree(args.example, src)
        run([args.cmake, "-S", src, "-B", build, "-G", args.generator,
             f"-DCMAKE_CXX_COMPILER={args.cxx}", f"-DCMAKE_PREFIX_PATH={prefix}",
             "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
             "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF", "-DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF"])
        cache = (build / "CMakeCache.txt").read_text()
        found = re.search(r"^axle-sdk_DIR:PATH=(.*)$", cache, re.M)
        check(found and found.group(1).startswith(str(prefix)),
              f"axle-sdk found outside the temporary prefix: {found.group(1) if found else None}")
        run([args.cmake, "--build", build])
        for entry in json.loads((build / "compile_commands.json").read_text()):
            check(source_dir not in entry["command"], f"the build reached into the source tree: {entry['command']}")

        module = build / "axle-handler-hello.so"
        check(module.is_file(), f"{module} not built")
        exported = [line.split()[-1] for line in run(["nm", "-D", "--defined-only", module]).splitlines()
                    if line.strip()]
        check(exported == ["axle_module_entry"], f"exports {exported}, want only axle_module_entry")

        run([args.cmake, "--install", build, "--prefix", installed])
        check((installed / "lib/axle/modules/axle-handler-hello.so").is_file(),
              "module not installed to lib/axle/modules")

        config = tmp / "hello.toml"
        config.write_text(f"""
[server]
listen = ["127.0.0.1:0"]
workers = 1
module_dirs = ["{build}"]

[modules]
io = "epoll"
allocator = "malloc"
parser = "scalar"
router = "linear"

[[route]]
path = "/hello/{{name}}"
handler = "hello"
greeting = "bonjour"

[[route]]
path = "/hi/{{name}}"
handler = "hello"
""")
        # An exception in route_init reaches the operator as a config error.
        bad = tmp / "bad.toml"
        bad.write_text(config.read_text().replace('greeting = "bonjour"', 'greeting = ""'))
        res = subprocess.run([args.axle, "--check", bad], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, timeout=STEP_TIMEOUT)
        check(res.returncode != 0 and "hello: greeting must not be empty" in res.stdout,
              f"axle --check with an empty greeting: rc {res.returncode}\n{res.stdout}")

        server = Server(args.axle, config)
        try:
            port = server.port()
            for path, want in (("/hello/ann", "bonjour, ann\n"), ("/hi/bob", "hello, bob\n")):
                status, body = http_get(port, path)
                check((status, body) == (200, want), f"GET {path}: {status} {body!r}, want 200 {want!r}")
        except BaseException:
            server.proc.kill()
            print(server.log())
            raise
        rc = server.stop()
        check(rc == 0, f"axle exited with {rc} after SIGTERM\n{server.log()}")
    print("ok: out-of-tree module built against the installed SDK and served")


if __name__ == "__main__":
    main()
