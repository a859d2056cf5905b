"""Fixtures: a static tree, a shared server on the default test config, and a
factory for servers with special configs. Every server is stopped with
SIGTERM at teardown and must exit 0."""

import os

import pytest

import harness

STATIC_FILES = {
    "hello.txt": b"hello, static world\n",
    "index.html": b"<html><body>static index</body></html>\n",
    "sub/index.html": b"<html>sub index</html>\n",
    "sub/data.bin": bytes(range(256)) * 64,
    "space name.txt": b"file with a space\n",
}


def pytest_report_header(config):
    combo = " ".join(f"{k}={v}" for k, v in harness.module_combination().items())
    if harness.TLS:
        combo += " over TLS (transport openssl, AXLE_TLS=1)"
    return [f"axle binary: {harness.axle_bin()}", f"modules under test: {combo}"]


@pytest.fixture(scope="session", autouse=True)
def _binary_exists(tmp_path_factory):
    if not os.access(harness.axle_bin(), os.X_OK):
        pytest.fail(f"axle binary not found at {harness.axle_bin()} (set AXLE_BIN or AXLE_BUILD_DIR)")
    # A matrix combination this machine cannot run (io_uring disabled by the
    # kernel or a seccomp profile) skips as a whole, with axle's own reason;
    # any other refusal is a failure.
    cfg = tmp_path_factory.mktemp("combination") / "check.toml"
    cfg.write_text(harness.render_config())
    check = harness.run_axle(["--check", cfg])
    if check.returncode != 0:
        if "is not available" in check.stderr:
            pytest.skip(f"module combination cannot run here: {check.stderr.strip()}", allow_module_level=True)
        pytest.fail(f"axle --check refuses the module combination: {check.stderr.strip()}")


@pytest.fixture(scope="session")
def static_root(tmp_path_factory):
    """A document root, plus a secret beside it that must never be served."""
    base = tmp_path_factory.mktemp("static")
    root = base / "root"
    for rel, data in STATIC_FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("root:x:0:0:secret outside the document root\n")
    (root / "passwd-link").symlink_to("/etc/passwd")
    (root / "outside-link").symlink_to(outside)
    (root / "secret-link.txt").symlink_to(outside / "secret.txt")
    return root


class ServerFactory:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.running = []
        self.count = 0

    def write_config(self, text: str):
        self.count += 1
        path = self.tmp_path / f"axle-{self.count}.toml"
        path.write_text(text)
        return path

    def start(self, config_text=None, args=(), expected_listeners=1, cwd=None, **config_kwargs):
        """Starts axle on config_text (or render_config(**config_kwargs)) and
        waits for its listening lines. Returns the AxleProcess; .listeners
        holds (host, port) pairs."""
        if config_text is None and config_kwargs:
            config_text = harness.render_config(**config_kwargs)
        full_args = list(args)
        if config_text is not None:
            full_args = ["--config", self.write_config(config_text)] + full_args
        server = harness.AxleProcess(full_args, cwd=cwd, expected_listeners=expected_listeners)
        self.running.append(server)
        server.wait_listening()
        return server

    def stop_all(self):
        problems = []
        for server in self.running:
            if server.stopped:
                continue
            if not server.alive() and not server.signalled:
                problems.append(f"axle exited on its own with {server.proc.returncode}\n{server.log_tail()}")
                continue
            try:
                rc = server.stop()
            except AssertionError as e:
                problems.append(str(e))
                continue
            if rc != 0:
                problems.append(f"axle exited with {rc} after SIGTERM (want 0)\n{server.log_tail()}")
        self.running.clear()
        return problems


@pytest.fixture
def start_axle(tmp_path):
    factory = ServerFactory(tmp_path)
    yield factory
    problems = factory.stop_all()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def _shared_server(tmp_path_factory, static_root):
    factory = ServerFactory(tmp_path_factory.mktemp("shared"))
    server = factory.start(routes=harness.default_routes(static_root))
    yield server
    problems = factory.stop_all()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def axle(_shared_server):
    """(host, port) of the shared server; the test fails if the server died
    while it ran (so a crash is pinned on the request that caused it)."""
    if not _shared_server.alive():
        pytest.fail(f"shared axle already dead\n{_shared_server.log_tail()}", pytrace=False)
    yield _shared_server.listeners[0]
    if not _shared_server.alive():
        pytest.fail(f"axle died during this test (exit {_shared_server.proc.returncode})\n"
                    f"{_shared_server.log_tail()}", pytrace=False)


@pytest.fixture
def conn(axle):
    with harness.Conn(*axle) as c:
        yield c

