"""deploy/scale-out (issue 10): the example's files are accepted by the tools
that will read them (promtool, haproxy -c, axle --check, systemd-analyze),
and they agree with each other on who listens where."""

import re
import shutil
import subprocess
import tomllib

import pytest

import harness

HERE = harness.REPO_ROOT / "deploy" / "scale-out"
BACKENDS = ["backend-1", "backend-2", "backend-3"]
PROMTOOL = shutil.which("promtool")
HAPROXY = shutil.which("haproxy") or shutil.which("/usr/sbin/haproxy")
ANALYZE = shutil.which("systemd-analyze")


def config(name):
    return tomllib.loads((HERE / f"{name}.toml").read_text())


def addresses(text):
    return set(re.findall(r"127\.0\.0\.1:(\d+)", text))


@pytest.mark.skipif(not PROMTOOL, reason="promtool not installed (Debian package 'prometheus')")
def test_promtool_accepts_the_scrape_config():
    res = subprocess.run([PROMTOOL, "check", "config", HERE / "prometheus.yml"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, f"rc={res.returncode}\n{res.stdout}{res.stderr}"
    assert "SUCCESS" in res.stdout + res.stderr


@pytest.mark.skipif(not HAPROXY, reason="haproxy not installed (Debian package 'haproxy')")
def test_haproxy_accepts_its_config_without_warnings():
    res = subprocess.run([HAPROXY, "-c", "-f", HERE / "haproxy.cfg"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, f"rc={res.returncode}\n{res.stdout}{res.stderr}"
    assert "WARNING" not in res.stdout + res.stderr, res.stdout + res.stderr


def checked_copy(tmp_path, name):
    """The config as shipped, on a free port and with the build's modules."""
    text = (HERE / f"{name}.toml").read_text()
    text = re.sub(r'listen = \["[^"]+"\]', 'listen = ["127.0.0.1:0"]', text)
    text = text.replace('workers = "auto"', "workers = 1")
    text = text.replace("[server]\n", f'[server]\nmodule_dirs = ["{harness.module_dir()}"]\n', 1)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", BACKENDS)
def test_backend_configs_pass_check(tmp_path, name):
    res = harness.run_axle(["--check", checked_copy(tmp_path, name)])
    assert res.returncode == 0, res.stderr


def test_proxy_config_passes_check(tmp_path):
    if not (harness.module_dir() / "axle-handler-proxy.so").exists():
        pytest.skip("the proxy module (modules/handler-proxy) is not built")
    res = harness.run_axle(["--check", checked_copy(tmp_path, "proxy")])
    assert res.returncode == 0, res.stderr


@pytest.mark.skipif(not ANALYZE, reason="systemd-analyze is not installed")
def test_template_unit_passes_systemd_analyze_verify(tmp_path):
    # verify wants the ExecStart binary to exist, and an instance name for %i.
    text = (HERE / "axle@.service").read_text().replace("/usr/bin/axle", str(harness.axle_bin()))
    (tmp_path / "axle@.service").write_text(text)
    unit = tmp_path / "axle@backend-1.service"
    unit.write_text(text)
    res = subprocess.run([ANALYZE, "verify", "--man=no", unit], capture_output=True, text=True, timeout=60)
    ours = [line for line in (res.stdout + res.stderr).splitlines() if str(tmp_path) in line]
    assert res.returncode == 0 and not ours, f"rc={res.returncode}\n{res.stdout}{res.stderr}"
    assert "/etc/axle/%i.toml" in text


def test_files_agree_on_ports():
    backend_ports = set()
    for name in BACKENDS:
        cfg = config(name)
        assert cfg["modules"]["metrics"] == "prometheus", f"{name} has no /metrics"
        assert any(r.get("path") == "/ping" for r in cfg["route"]), f"{name} has no /ping for the health checks"
        backend_ports |= addresses(" ".join(cfg["server"]["listen"]))
    assert backend_ports == {"9001", "9002", "9003"}

    proxy = config("proxy")
    app = proxy["module"]["proxy"]["upstream"]["app"]
    assert addresses(" ".join(app["servers"])) == backend_ports
    assert app["health_path"] == "/ping"
    assert proxy["modules"]["metrics"] == "prometheus"
    proxy_port = re.search(r":(\d+)$", proxy["server"]["listen"][0]).group(1)

    haproxy = (HERE / "haproxy.cfg").read_text()
    servers = set(re.findall(r"^\s*server \S+ 127\.0\.0\.1:(\d+)", haproxy, re.M))
    assert servers == backend_ports
    exporter = re.search(r"bind 127\.0\.0\.1:(\d+)\n\s*http-request use-service prometheus-exporter", haproxy).group(1)

    scraped = addresses((HERE / "prometheus.yml").read_text())
    assert scraped == backend_ports | {proxy_port, exporter}
