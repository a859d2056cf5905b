"""The command line: --check, --list-modules, --version, --help,
--help-module, --help-config, --listen, option spellings and conflicts, the
error messages an operator meets first, the embedded default config, the
reload log line, and signals."""

import os
import re
import signal
import socket
import subprocess
import time

import pytest

import harness
from harness import Conn, get, run_axle


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def project_version():
    cmake = (harness.REPO_ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(axle VERSION ([0-9.]+)", cmake).group(1)


def built_modules():
    """(kind, name) of every module .so in the build tree."""
    found = []
    for path in sorted(harness.module_dir().glob("axle-*.so")):
        kind, _, name = path.stem[len("axle-"):].partition("-")
        found.append((kind, name))
    return found


def test_version():
    out = run_axle(["--version"])
    assert out.returncode == 0, out
    assert project_version() in out.stdout + out.stderr, out


def test_help_mentions_every_flag():
    out = run_axle(["--help"])
    assert out.returncode == 0, out
    text = out.stdout + out.stderr
    for flag in ("--config", "--check", "--listen", "--list-modules", "--version", "--help-module", "--help-config",
                 "--log-level"):
        assert flag in text, (flag, text)


def test_unknown_flag_fails_with_the_help_hint():
    out = run_axle(["--no-such-flag"])
    assert out.returncode == 2, out
    assert "unknown option --no-such-flag" in out.stderr and "axle --help" in out.stderr, out.stderr


def test_option_value_after_equals(tmp_path, static_root, start_axle):
    cfg = write(tmp_path, "ok.toml", harness.render_config(routes=harness.default_routes(static_root)))
    out = run_axle([f"--check={cfg}"])
    assert out.returncode == 0, out
    server = start_axle.start(listen=["[::1]:0"], routes=harness.default_routes(static_root),
                              args=["--listen=127.0.0.1:0", "--log-level=debug"])
    assert server.listeners[0][0] == "127.0.0.1", server.listeners
    with Conn(*server.listeners[0]) as c:
        assert c.request(get("/ping")).body == b"pong"


@pytest.mark.parametrize("args, message", [
    (["--check", "a.toml", "--config", "b.toml"], "--check FILE validates FILE; it cannot be combined with --config"),
    (["--config=b.toml", "--check=a.toml"], "--check FILE validates FILE; it cannot be combined with --config"),
    (["--check=a.toml", "--list-modules"], "--check and --list-modules cannot be combined"),
    (["--list-modules", "--listen=127.0.0.1:0"], "--listen applies only when serving"),
    (["--config=a.toml", "--config=b.toml"], "--config is given twice"),
    (["a.toml"], 'unexpected argument "a.toml"'),
    (["--version=2"], "option --version takes no value"),
], ids=["check-config", "config-check", "check-list", "list-listen", "config-twice", "positional", "flag-value"])
def test_conflicting_or_malformed_flags_are_refused(tmp_path, args, message):
    out = run_axle(args, cwd=tmp_path)
    assert out.returncode == 2, out
    assert f"axle: {message}" in out.stderr and "(try axle --help)" in out.stderr, out.stderr
    assert out.stdout == "", out.stdout


def test_bad_log_level_lists_the_levels():
    out = run_axle(["--log-level", "loud"])
    assert out.returncode == 2, out
    assert '"loud"' in out.stderr and "debug, info, warn, error" in out.stderr, out.stderr


def test_listen_with_a_host_name_asks_for_a_numeric_address():
    out = run_axle(["--listen", "localhost:0"])
    assert out.returncode == 2, out
    assert "localhost:0" in out.stderr and "numeric address" in out.stderr and "127.0.0.1:0" in out.stderr, out.stderr


def test_check_accepts_a_valid_config(tmp_path, static_root):
    cfg = write(tmp_path, "ok.toml", harness.render_config(routes=harness.default_routes(static_root)))
    out = run_axle(["--check", cfg])
    assert out.returncode == 0, out


def test_check_accepts_the_shipped_configs():
    configs = sorted((harness.REPO_ROOT / "configs").glob("*.toml"))
    assert configs, "no configs/*.toml"
    for cfg in configs:
        out = run_axle(["--check", cfg], cwd=cfg.parent)
        assert out.returncode == 0, (cfg, out.stderr)


def test_check_reports_toml_syntax_error_with_file_and_line(tmp_path):
    text = '[server]\nlisten = ["127.0.0.1:0"]\nworkers = = 2\n'
    cfg = write(tmp_path, "broken.toml", text)
    out = run_axle(["--check", cfg])
    assert out.returncode != 0, out
    assert f"{cfg.name}:3" in out.stderr, out.stderr


def test_check_reports_bad_value_with_file_line_and_key(tmp_path):
    text = '[server]\nlisten = ["127.0.0.1:0"]\n\n[limits]\nmax_headers = "lots"\n'
    cfg = write(tmp_path, "badvalue.toml", text)
    out = run_axle(["--check", cfg])
    assert out.returncode != 0, out
    assert f"{cfg.name}:5" in out.stderr and "max_headers" in out.stderr, out.stderr


def line_of(text, needle):
    """1-based number of the first line of text containing needle."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_check_reports_unknown_module_at_its_line_with_the_available_ones(tmp_path):
    text = harness.render_config(modules={"parser": "doesnotexist"})
    cfg = write(tmp_path, "nomod.toml", text)
    out = run_axle(["--check", cfg])
    assert out.returncode != 0, out
    assert f"{cfg}:{line_of(text, 'doesnotexist')}: modules.parser: no parser module 'doesnotexist'" in out.stderr, \
        out.stderr
    parsers = sorted(name for kind, name in built_modules() if kind == "parser")
    assert parsers and f"available parser modules: {', '.join(parsers)}" in out.stderr, (parsers, out.stderr)


def test_check_reports_unknown_handler_at_its_route_with_the_available_ones(tmp_path):
    text = harness.render_config(routes=[{"path": "/x", "handler": "nosuchhandler"}])
    cfg = write(tmp_path, "nohandler.toml", text)
    out = run_axle(["--check", cfg])
    assert out.returncode != 0, out
    route_line = line_of(text, "[[route]]")
    assert f"{cfg}:{route_line}: route /x: no handler module 'nosuchhandler'" in out.stderr, out.stderr
    handlers = sorted(name for kind, name in built_modules() if kind == "handler")
    assert handlers and f"available handler modules: {', '.join(handlers)}" in out.stderr, (handlers, out.stderr)


@pytest.mark.parametrize("flag", ["--check", "--config"])
@pytest.mark.parametrize("problem", ["value", "module"])
def test_an_error_names_its_file_once(tmp_path, flag, problem):
    if problem == "value":
        text = harness.render_config(limits={"max_headers": "lots"})
    else:
        text = harness.render_config(modules={"router": "doesnotexist"})
    cfg = write(tmp_path, "once.toml", text)
    out = run_axle([flag, cfg])
    assert out.returncode == 1, out
    assert out.stderr.count("once.toml") == 1, out.stderr


def test_check_reports_unknown_route_key(tmp_path, static_root):
    routes = [{"path": "/s/*", "handler": "static", "root": str(static_root), "no_such_key": 1}]
    cfg = write(tmp_path, "badkey.toml", harness.render_config(routes=routes))
    out = run_axle(["--check", cfg])
    assert out.returncode != 0, out
    assert "no_such_key" in out.stderr, out.stderr


def test_check_refuses_module_of_another_abi_major(tmp_path):
    fixture = harness.fixtures_dir() / "axle-parser-wrongmajor.so"
    if not fixture.exists():
        pytest.skip(f"fixture {fixture} not built")
    cfg = write(tmp_path, "wrongmajor.toml",
                harness.render_config(module_dirs=[harness.fixtures_dir()], modules={"parser": "wrongmajor"}))
    out = run_axle(["--check", cfg])
    assert out.returncode != 0, out
    assert fixture.name in out.stderr, out.stderr
    # Both majors appear: the host's and the module's.
    numbers = {int(n) for n in re.findall(r"(?<![\w.-])(\d+)(?:\.\d+)?(?![\w-])", out.stderr.replace(str(fixture), ""))}
    host = harness.host_abi_major()
    assert host in numbers and numbers - {host}, out.stderr


def test_list_modules_names_every_built_module():
    modules = built_modules()
    assert modules, f"no modules in {harness.module_dir()}"
    out = run_axle(["--list-modules"])
    assert out.returncode == 0, out
    for kind, name in modules:
        assert name in out.stdout, (kind, name, out.stdout)


def test_help_module_prints_its_keys():
    out = run_axle(["--help-module", "static"])
    assert out.returncode == 0, out
    assert "root" in out.stdout, out.stdout


def test_help_module_unknown_fails():
    out = run_axle(["--help-module", "nosuchmodule"])
    assert out.returncode != 0, out
    assert "nosuchmodule" in out.stderr, out.stderr


def test_listen_flag_overrides_config(start_axle, static_root):
    # The config asks for IPv6 loopback only; --listen moves it to IPv4.
    server = start_axle.start(listen=["[::1]:0"], routes=harness.default_routes(static_root),
                              args=["--listen", "127.0.0.1:0"])
    host, port = server.listeners[0]
    assert host == "127.0.0.1" and port != 0, server.listeners
    with Conn(host, port) as c:
        assert c.request(get("/ping")).body == b"pong"


def test_two_listeners(start_axle, static_root):
    server = start_axle.start(listen=["127.0.0.1:0", "127.0.0.1:0"], routes=harness.default_routes(static_root),
                              expected_listeners=2)
    ports = {port for _, port in server.listeners}
    assert len(ports) == 2, server.listeners
    for addr in server.listeners:
        with Conn(*addr) as c:
            assert c.request(get("/ping")).body == b"pong"


def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback")
def test_ipv6_listener(start_axle, static_root):
    server = start_axle.start(listen=["[::1]:0"], routes=harness.default_routes(static_root))
    host, port = server.listeners[0]
    assert host == "::1", server.listeners
    with Conn(host, port) as c:
        assert c.request(get("/ping")).body == b"pong"


def test_embedded_default_config(start_axle, tmp_path):
    # No --config: the embedded default (ping, echo, ./public or a welcome page).
    server = start_axle.start(args=["--listen", "127.0.0.1:0"], cwd=tmp_path)
    with Conn(*server.listeners[0]) as c:
        assert c.request(get("/ping")).body == b"pong"
        assert b"hi" in c.request(get("/echo/hi")).body
        welcome = c.request(get("/"))
        assert welcome.status == 200 and welcome.body, welcome


def test_embedded_default_serves_public_dir(start_axle, tmp_path):
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "index.html").write_text("<p>from public</p>\n")
    server = start_axle.start(args=["--listen", "127.0.0.1:0"], cwd=tmp_path)
    with Conn(*server.listeners[0]) as c:
        resp = c.request(get("/"))
        assert (resp.status, resp.body) == (200, b"<p>from public</p>\n"), resp


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def test_no_arguments_serves_on_8080(start_axle, tmp_path):
    if not port_free(8080):
        pytest.skip("127.0.0.1:8080 is busy")
    try:
        server = start_axle.start(cwd=tmp_path)
    except AssertionError as e:
        if "in use" in str(e):  # taken by someone else since the check
            pytest.skip("127.0.0.1:8080 is busy")
        raise
    assert server.listeners[0] == ("127.0.0.1", 8080), server.listeners
    with Conn("127.0.0.1", 8080) as c:
        assert c.request(get("/ping")).body == b"pong"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly_with_open_connections(start_axle, static_root, sig):
    server = start_axle.start(routes=harness.default_routes(static_root), timeouts={"drain_ms": 1000})
    idle = Conn(*server.listeners[0])
    try:
        assert idle.request(get("/ping")).body == b"pong"
        rc = server.stop(sig)
        assert rc == 0, server.log_tail()
        assert idle.wait_closed(), "idle keep-alive connection still open after shutdown"
    finally:
        idle.close()


def test_shutdown_finishes_a_request_in_flight(start_axle, static_root):
    server = start_axle.start(routes=harness.default_routes(static_root), timeouts={"drain_ms": 3000})
    with Conn(*server.listeners[0]) as c:
        body = b"z" * 1000
        req = harness.post("/echo/x", body)
        assert c.request(get("/ping")).body == b"pong"  # the connection is accepted
        c.send(req[:-500])  # the head and half the body are in
        time.sleep(0.2)  # ordering only: let the server read them before the signal
        server.send_signal(signal.SIGTERM)
        # Send the rest only once the server has taken the signal: a request
        # completed before that is an ordinary keep-alive one.
        server.wait_for_log("shutting down")
        time.sleep(0.2)  # ordering only: the workers see the drain right after the log line
        c.send(req[-500:])
        resp = c.read_response()
        assert (resp.status, resp.body) == (200, body), resp
        assert c.wait_closed(), "connection left open after the in-flight request during shutdown"
        # RFC 9112 9.6: a server that is about to close SHOULD say so.
        assert (resp.header("connection") or "").lower() == "close", resp
    rc = server.stop()
    assert rc == 0, server.log_tail()


def test_config_file_missing(tmp_path):
    out = run_axle(["--config", tmp_path / "missing.toml"])
    assert out.returncode != 0, out
    assert "missing.toml" in out.stderr, out.stderr


def test_port_in_use_fails_cleanly(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        cfg = write(tmp_path, "busy.toml", harness.render_config(listen=[f"127.0.0.1:{port}"]))
        out = run_axle(["--config", cfg])
    assert out.returncode != 0, out
    assert str(port) in out.stderr, out.stderr



def fixture_or_skip(kind, name):
    path = harness.fixtures_dir() / f"axle-{kind}-{name}.so"
    if not path.exists():
        pytest.skip(f"fixture {path} not built")
    return path


def test_out_of_tree_handler_from_module_dirs_serves(start_axle):
    fixture_or_skip("handler", "hello")
    routes = [{"path": "/hi", "handler": "hello", "greeting": "hi from a fixture"},
              {"path": "/future", "handler": "futureminor"},
              {"path": "/pinned", "handler": "pinned"}]
    server = start_axle.start(module_dirs=[harness.fixtures_dir()], routes=routes)
    with Conn(*server.listeners[0]) as c:
        assert c.request(get("/hi")).body == b"hi from a fixture"
        assert c.request(get("/future")).body == b"hello"  # a later ABI minor loads
        assert c.request(get("/pinned")).body == b"hello"


def test_module_path_environment_variable(start_axle, tmp_path):
    fixture_or_skip("handler", "hello")
    cfg = tmp_path / "env.toml"
    cfg.write_text(harness.render_config(routes=[{"path": "/hi", "handler": "hello"}]))
    out = subprocess.run([str(harness.axle_bin()), "--check", str(cfg)], capture_output=True, text=True,
                         timeout=10, env={**os.environ, "AXLE_MODULE_PATH": str(harness.fixtures_dir())})
    assert out.returncode == 0, out.stderr
    out = run_axle(["--check", cfg])  # and without it, not found
    assert out.returncode != 0 and "hello" in out.stderr, out


def test_check_refuses_a_module_whose_init_fails(tmp_path):
    fixture_or_skip("handler", "failinginit")
    cfg = tmp_path / "failing.toml"
    cfg.write_text(harness.render_config(module_dirs=[harness.fixtures_dir()],
                                         routes=[{"path": "/x", "handler": "failinginit"}]))
    out = run_axle(["--check", cfg])
    assert out.returncode != 0, out
    assert "fixture: init refused" in out.stderr, out.stderr


def test_serving_refuses_a_module_whose_init_fails(tmp_path):
    fixture_or_skip("handler", "failinginit")
    cfg = tmp_path / "failing.toml"
    cfg.write_text(harness.render_config(module_dirs=[harness.fixtures_dir()],
                                         routes=[{"path": "/x", "handler": "failinginit"}]))
    out = run_axle(["--config", cfg])
    assert out.returncode != 0, out
    assert "fixture: init refused" in out.stderr and "listening on" not in out.stderr, out.stderr


@pytest.mark.parametrize("name", ["noentry", "nulldescriptor", "missinghook", "undefined", "badkind",
                                  "smalldescriptor", "garbage"])
def test_check_refuses_broken_handler_fixtures(tmp_path, name):
    fixture = fixture_or_skip("handler", name)
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(harness.render_config(module_dirs=[harness.fixtures_dir()],
                                         routes=[{"path": "/x", "handler": name}]))
    out = run_axle(["--check", cfg])
    assert out.returncode != 0, out
    assert fixture.name in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr) < 4000, out.stderr


# ------------------------------------------------------- settings reference

def help_config_keys():
    """{section: [keys]} from axle --help-config."""
    out = run_axle(["--help-config"])
    assert out.returncode == 0, out
    keys, section = {}, None
    for line in out.stdout.splitlines():
        if re.fullmatch(r"\[\w+\]", line):
            section = line[1:-1]
            keys[section] = []
        elif section and line and not line.startswith(" "):
            keys[section].append(line.split()[0])
    assert keys, out.stdout
    return keys, out.stdout


def accepted_keys(tmp_path, section):
    """The keys the validator accepts in [section], from its own error message."""
    text = harness.render_config()
    if f"[{section}]\n" in text:
        text = text.replace(f"[{section}]\n", f"[{section}]\nno_such_key = 1\n", 1)
    else:
        text += f"\n[{section}]\nno_such_key = 1\n"
    cfg = write(tmp_path, f"{section}.toml", text)
    out = run_axle(["--check", cfg])
    found = re.search(rf"{section}\.no_such_key: unknown key \(expected one of: ([^)]*)\)", out.stderr)
    assert found, out.stderr
    return found.group(1).split(", ")


def test_help_config_lists_every_key_the_validator_accepts(tmp_path):
    documented, _ = help_config_keys()
    # The top level: every documented section is a table the validator knows.
    cfg = write(tmp_path, "top.toml", "no_such_table = 1\n" + harness.render_config())
    top = re.search(r"unknown key \(expected one of: ([^)]*)\)", run_axle(["--check", cfg]).stderr)
    assert top and set(documented) == set(top.group(1).split(", ")) - {"module", "route"}, (documented, top)
    for section, keys in documented.items():
        if section == "tls":
            continue  # every key but listen belongs to the transport module (test_transport.py)
        assert sorted(keys) == sorted(accepted_keys(tmp_path, section)), section
    assert documented["tls"] == ["listen"]


def test_help_config_defaults_are_accepted(tmp_path):
    _, text = help_config_keys()
    lines, section = [], None
    for line in text.splitlines():
        if re.fullmatch(r"\[\w+\]", line):
            lines.append(line)
            section = line[1:-1]
            if section == "server":
                lines.append('listen = ["127.0.0.1:0"]')
            elif section == "tls":  # no key has a default: [tls] comes only with a transport (test_transport.py)
                lines.pop()
                section = None
        elif section and line and not line.startswith(" "):
            default = line.rsplit("; default ", 1)[1]
            if default != "none":
                lines.append(f"{line.split()[0]} = {default}")
    cfg = write(tmp_path, "defaults.toml", "\n".join(lines) + "\n")
    out = run_axle(["--check", cfg])
    assert out.returncode == 0, (out.stderr, cfg.read_text())


def test_readme_settings_reference_is_the_help_config_output():
    readme = (harness.REPO_ROOT / "README.md").read_text()
    block = re.search(r"<!-- BEGIN axle --help-config -->\n```text\n(.*?)```\n<!-- END axle --help-config -->",
                      readme, re.S)
    assert block, "README.md has no settings reference block"
    _, text = help_config_keys()
    assert block.group(1) == text, "README's settings reference differs from `axle --help-config`: paste it again"


# --------------------------------------------------------- reload log line

def listed_versions():
    """{(kind, name): version} from axle --list-modules."""
    out = run_axle(["--list-modules"])
    assert out.returncode == 0, out
    rows = [line.split() for line in out.stdout.splitlines()[1:]]
    return {(row[0], row[1]): row[2] for row in rows if len(row) >= 3 and row[0] != "?"}


def test_serving_log_line_names_every_module_with_its_version(start_axle, static_root):
    versions = listed_versions()
    if ("metrics", "prometheus") not in versions:
        pytest.skip("metrics-prometheus not built")
    server = start_axle.start(routes=harness.default_routes(static_root), modules={"metrics": "prometheus"})
    first = server.wait_for_log(r"generation 1 serving")
    mark = server.log_mark()
    server.proc.send_signal(signal.SIGHUP)
    second = server.wait_for_log(r"generation 2 serving", start=mark)
    assert "generation 1 draining" in second, second
    chosen = harness.module_combination()
    # (label in the line, kind in --list-modules, name)
    expected = [("io", "io", chosen["io"]), ("allocator", "alloc", chosen["allocator"]),
                ("parser", "parser", chosen["parser"]), ("router", "router", chosen["router"]),
                ("metrics", "metrics", "prometheus"), ("handler", "handler", "ping"),
                ("handler", "handler", "echo"), ("handler", "handler", "static")]
    for line in (first, second):
        for label, kind, name in expected:
            assert f"{label}={name} {versions[(kind, name)]}" in line, (kind, name, line)


def test_a_refused_reload_names_the_config_file_once(start_axle, static_root):
    server = start_axle.start(routes=harness.default_routes(static_root))
    path = server.args[server.args.index("--config") + 1]
    with open(path, "w") as f:
        f.write(harness.render_config(routes=harness.default_routes(static_root), modules={"parser": "doesnotexist"}))
    mark = server.log_mark()
    server.proc.send_signal(signal.SIGHUP)
    line = server.wait_for_log(r"reload failed", start=mark)
    assert line.count(str(path)) == 1 and "modules.parser" in line and "available parser modules" in line, line
    with Conn(*server.listeners[0]) as c:
        assert c.request(get("/ping")).body == b"pong"
