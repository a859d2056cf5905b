"""The operator's kit (issue 12, "Operations"): the systemd unit in deploy/,
socket activation (LISTEN_FDS), sd_notify state messages, and [server]
user/group with the privileged-port hint."""

import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import harness
from harness import Conn

DEPLOY = harness.REPO_ROOT / "deploy"
LAUNCHER = Path(__file__).resolve().parent / "activation_launcher.py"
PING = [{"path": "/ping", "handler": "ping"}]


def get(path):
    return f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode()


def unit_settings(path):
    """{key: [values]} of a unit file (comments and sections dropped)."""
    out = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        out.setdefault(key.strip(), []).append(value.strip())
    return out


# ---------------------------------------------------------------- the unit

def test_service_unit_has_what_issue_12_and_10_require():
    s = unit_settings(DEPLOY / "axle.service")
    assert s["Type"] in (["notify"], ["exec"])
    assert s["ExecStart"] == ["/usr/bin/axle --config /etc/axle/axle.toml"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert s.get("DynamicUser") == ["yes"] or "User" in s
    assert s["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"]
    assert s["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"]
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices"):
        assert s[key] == ["yes"], key
    assert s["ProtectSystem"] == ["strict"]
    assert set(s["RestrictAddressFamilies"][0].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert int(s["LimitNOFILE"][0]) > 10000  # above the default [limits] max_connections
    sock = unit_settings(DEPLOY / "axle.socket")
    assert sock["ListenStream"] and sock.get("Accept", ["no"]) == ["no"]


def test_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    # verify wants the ExecStart binary to exist: point the copies at the build's.
    for name in ("axle.service", "axle.socket"):
        text = (DEPLOY / name).read_text().replace("/usr/bin/axle", str(harness.axle_bin()))
        (tmp_path / name).write_text(text)
    res = subprocess.run([analyze, "verify", "--man=no", tmp_path / "axle.socket", tmp_path / "axle.service"],
                         capture_output=True, text=True, timeout=60)
    ours = [line for line in (res.stdout + res.stderr).splitlines() if str(tmp_path) in line]
    assert res.returncode == 0 and not ours, f"rc={res.returncode}\n{res.stdout}{res.stderr}"


def test_packaged_config_passes_check(tmp_path):
    # The conffile as shipped, with the build's modules and a free port.
    text = (DEPLOY / "axle.toml").read_text().replace('"0.0.0.0:80"', '"127.0.0.1:0"')
    text = text.replace('workers = "auto"', f'workers = 1\nmodule_dirs = ["{harness.module_dir()}"]')
    cfg = tmp_path / "axle.toml"
    cfg.write_text(text)
    res = harness.run_axle(["--check", cfg])
    assert res.returncode == 0, res.stderr


# ---------------------------------------------------------------- socket activation

@pytest.fixture
def activation(monkeypatch, tmp_path):
    """Runs the next started axle through activation_launcher.py with the
    given socket kinds; returns the file listing the "listen" sockets."""
    report = tmp_path / "activated.txt"

    def arm(kinds, pid="self", names=None):
        wrapper = f"{sys.executable} {LAUNCHER} " + os.environ.get("AXLE_WRAPPER", "")
        monkeypatch.setenv("AXLE_WRAPPER", wrapper)
        monkeypatch.setenv("AXLE_ACTIVATE", ",".join(kinds))
        monkeypatch.setenv("AXLE_ACTIVATE_REPORT", str(report))
        monkeypatch.setenv("AXLE_ACTIVATE_PID", pid)
        if names is not None:
            monkeypatch.setenv("AXLE_ACTIVATE_NAMES", names)
        return report

    return arm


def occupied_port():
    """A listening socket axle could not bind: held for the test."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s


def test_activated_sockets_replace_configured_listen_and_survive_reloads(start_axle, activation):
    report = activation(["listen", "listen"], names="http:http-alt")
    # The configured address is taken by this test: binding it would fail the start.
    with occupied_port() as held:
        configured = "%s:%d" % held.getsockname()
        server = start_axle.start(listen=[configured], workers=2, routes=PING, expected_listeners=2)
        passed = report.read_text().split()
        assert len(passed) == 2
        assert sorted(f"{h}:{p}" for h, p in server.listeners) == sorted(passed)
        assert server.wait_for_log(r"socket activation: 2 listening socket\(s\)")
        for host, port in server.listeners:
            with Conn(host, port) as c:
                assert c.request(get("/ping")).body == b"pong"

        # server.listen does not matter while sockets are inherited: a reload
        # that changes it still swaps, and both sockets keep serving.
        path = server.args[server.args.index("--config") + 1]
        Path(path).write_text(harness.render_config(listen=["127.0.0.1:0"], workers=1, routes=PING))
        mark = server.log_mark()
        server.proc.send_signal(signal.SIGHUP)
        server.wait_for_log(r"generation 2 serving", start=mark)
        for host, port in server.listeners:
            with Conn(host, port) as c:
                assert c.request(get("/ping")).body == b"pong"


def test_activated_socket_survives_an_io_swap(start_axle, activation):
    other = "uring" if harness.module_combination()["io"] == "epoll" else "epoll"
    if not (harness.module_dir() / f"axle-io-{other}.so").exists():
        pytest.skip(f"io module {other} is not built")
    activation(["listen"])
    server = start_axle.start(workers=1, routes=PING)
    path = server.args[server.args.index("--config") + 1]
    text = harness.render_config(workers=1, routes=PING, modules={"io": other})
    Path(path).write_text(text)
    mark = server.log_mark()
    server.proc.send_signal(signal.SIGHUP)
    line = server.wait_for_log(r"generation 2 serving|reload failed", start=mark)
    if "is not available" in line:
        pytest.skip(f"io {other} cannot run here: {line}")
    assert "generation 2 serving" in line and f"io={other}" in line, line
    with Conn(*server.listeners[0]) as c:
        assert c.request(get("/ping")).body == b"pong"


@pytest.mark.parametrize("kind,why", [("bound", "is not listening"), ("udp", "is not a TCP stream socket"),
                                      ("file", "is not a socket")])
def test_activation_refuses_what_it_cannot_serve(tmp_path, activation, kind, why):
    activation(["listen", kind])
    cfg = tmp_path / "a.toml"
    cfg.write_text(harness.render_config(workers=1, routes=PING))
    server = harness.AxleProcess(["--config", cfg], expected_listeners=0)
    rc = server.proc.wait(harness.START_TIMEOUT)
    server.stop()
    log = "\n".join(server.stderr_lines)
    assert rc == 1, log
    assert f"descriptor 4 {why}" in log, log
    assert "listening on" not in log


@pytest.mark.parametrize("pid", ["other", "none"])
def test_activation_not_addressed_to_this_process_is_ignored(start_axle, activation, pid):
    report = activation(["listen"], pid=pid)
    server = start_axle.start(workers=1, routes=PING)
    assert "%s:%d" % server.listeners[0] not in report.read_text().split()
    notes = [line for line in server.stderr_lines if "socket activation" in line]
    if pid == "other":
        assert notes == [], notes
    else:
        assert len(notes) == 1 and "LISTEN_FDS is set without LISTEN_PID; ignored" in notes[0], notes


# ---------------------------------------------------------------- sd_notify

def test_notify_socket_gets_ready_reloading_stopping(start_axle, monkeypatch):
    directory = tempfile.mkdtemp(prefix="axle-notify-")
    path = os.path.join(directory, "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as manager:
        manager.bind(path)
        manager.settimeout(harness.IO_TIMEOUT)
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        server = start_axle.start(workers=1, routes=PING)

        def message():
            return dict(line.split("=", 1) for line in manager.recv(4096).decode().splitlines())

        first = message()
        assert first["READY"] == "1" and "generation 1 serving" in first["STATUS"], first
        server.proc.send_signal(signal.SIGHUP)
        reloading = message()
        assert reloading["RELOADING"] == "1" and int(reloading["MONOTONIC_USEC"]) > 0, reloading
        again = message()
        assert again["READY"] == "1" and "generation 2 serving" in again["STATUS"], again
        assert server.stop() == 0
        assert message() == {"STOPPING": "1"}
        manager.settimeout(0)
        with pytest.raises(BlockingIOError):
            manager.recv(4096)  # nothing more than those four
    shutil.rmtree(directory)


# ---------------------------------------------------------------- privileges

def world_readable_config(text):
    """A config file an unprivileged user can read (pytest's tmp dirs are 0700)."""
    directory = tempfile.mkdtemp(prefix="axle-ops-")
    os.chmod(directory, 0o755)
    cfg = Path(directory) / "axle.toml"
    cfg.write_text(text)
    cfg.chmod(0o644)
    return cfg


def proc_ids(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    ids = {k: v.split() for k, v in re.findall(r"^(Uid|Gid|Groups):\s*(.*)$", status, re.M)}
    return ids


def free_port_below(limit):
    """A port under `limit` nothing listens on now (None if all are taken)."""
    for port in range(limit - 1, limit // 2, -1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    return None


def test_unknown_user_or_group_is_refused_at_check(tmp_path):
    for key in ("user", "group"):
        cfg = tmp_path / f"{key}.toml"
        cfg.write_text(harness.render_config(routes=PING).replace(
            "[server]\n", f'[server]\n{key} = "axle-no-such-{key}"\n'))
        res = harness.run_axle(["--check", cfg])
        assert res.returncode == 1
        assert f"{cfg}:2: server.{key}: no such {key} \"axle-no-such-{key}\"" in res.stderr, res.stderr


def test_root_drops_to_server_user_after_binding(start_axle):
    if os.geteuid() != 0:
        pytest.skip("dropping privileges needs a server started as root")
    nobody = pwd.getpwnam("nobody")
    group = "nogroup"
    # A privileged port shows the bind happened before the drop.
    first_free = int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    port = free_port_below(min(first_free, 1024))
    if port is None:
        pytest.skip(f"no free port below {first_free} on 127.0.0.1")
    cfg = world_readable_config(harness.render_config(listen=[f"127.0.0.1:{port}"], workers=2,
                                                      module_dirs=[harness.module_dir()], routes=PING)
                                .replace("[server]\n", f'[server]\nuser = "nobody"\ngroup = "{group}"\n'))
    server = harness.AxleProcess(["--config", cfg])
    start_axle.running.append(server)
    assert server.wait_listening() == [("127.0.0.1", port)]
    ids = proc_ids(server.proc.pid)
    gid = str(grp.getgrnam(group).gr_gid)
    assert ids["Uid"] == [str(nobody.pw_uid)] * 4, ids
    assert ids["Gid"] == [gid] * 4, ids
    assert "0" not in ids.get("Groups", []), ids
    with Conn(*server.listeners[0]) as c:
        assert c.request(get("/ping")).body == b"pong"
    # A reload runs as nobody too and still finds its modules and config.
    mark = server.log_mark()
    server.proc.send_signal(signal.SIGHUP)
    server.wait_for_log(r"generation 2 serving", start=mark)
    shutil.rmtree(cfg.parent)


def as_nobody():
    if os.geteuid() != 0:
        pytest.skip("needs root to become nobody with setpriv")
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("setpriv (util-linux) is not installed")
    return [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def test_privileged_port_as_non_root_names_cap_net_bind_service():
    prefix = as_nobody()
    first_free = int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    if first_free <= 80:
        pytest.skip(f"net.ipv4.ip_unprivileged_port_start={first_free}: port 80 needs no privilege here")
    cfg = world_readable_config(harness.render_config(listen=["127.0.0.1:80"], workers=1, routes=PING,
                                                      module_dirs=[harness.module_dir()]))
    res = subprocess.run(prefix + [str(harness.axle_bin()), "--config", str(cfg)], capture_output=True,
                         text=True, timeout=30, stdin=subprocess.DEVNULL)
    shutil.rmtree(cfg.parent)
    assert res.returncode == 1, res.stderr
    assert "listen 127.0.0.1:80: bind: Permission denied" in res.stderr, res.stderr
    assert "CAP_NET_BIND_SERVICE" in res.stderr and "AmbientCapabilities" in res.stderr, res.stderr


def test_non_root_cannot_switch_to_another_user():
    prefix = as_nobody()
    cfg = world_readable_config(harness.render_config(workers=1, routes=PING, module_dirs=[harness.module_dir()])
                                .replace("[server]\n", '[server]\nuser = "root"\n'))
    res = subprocess.run(prefix + [str(harness.axle_bin()), "--config", str(cfg)], capture_output=True,
                         text=True, timeout=30, stdin=subprocess.DEVNULL)
    shutil.rmtree(cfg.parent)
    assert res.returncode == 1, res.stderr
    assert "switching to user root needs root" in res.stderr, res.stderr
