"""The admin endpoint's rules (issue 12): browser requests (Origin,
Sec-Fetch-Site) and foreign Host values are refused, a token from
[admin] token_file is required when set, reload is a POST that a page cannot
send as a simple request, one slow client blocks nobody, clients past the
bound get 503, and the JSON stays valid with bytes that are not UTF-8."""

import json
import os
import shutil
import socket
import subprocess

import pytest

import harness
from harness import Conn

TOKEN = "s3cr3t-T0ken_for.admin~tests+/="
BOUND = 16  # AdminServer::kMaxClients


def start(start_axle, tmp_path, admin_extra="", routes=True):
    extra = '[admin]\nlisten = "127.0.0.1:0"\n' + admin_extra
    server = start_axle.start(harness.render_config(extra=extra, workers=1))
    server.wait_for_log(r"admin listening on")
    server.wait_for_log(r"generation 1 serving")
    return server


def ask(server, method, path, host="127.0.0.1", extra=b"", body=b"") -> harness.Response:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n".encode() + extra
    if body or method == "POST":
        head += b"Content-Length: %d\r\n" % len(body)
    with Conn(*server.admin[0]) as c:
        return c.request(head + b"\r\n" + body)


def json_of(resp) -> dict:
    """The body as strict UTF-8 JSON, with the headers every answer carries."""
    assert resp.header("content-type") == "application/json", resp
    assert resp.header("connection") == "close", resp
    return json.loads(resp.body.decode("utf-8"))


def refused(resp, status):
    assert resp.status == status, resp
    doc = json_of(resp)
    assert isinstance(doc.get("error"), str) and doc["error"], doc
    return doc


def generations(server, **kw):
    resp = ask(server, "GET", "/generations", **kw)
    assert resp.status == 200, resp
    return json_of(resp)["generations"]


def not_reloaded(server):
    """No refused request reached the reload: generation 1 still serves alone."""
    assert [g["id"] for g in generations(server)] == [1]
    assert "generation 2" not in "\n".join(server.stderr_lines)


@pytest.mark.parametrize("header", [b"Origin: http://evil.example\r\n", b"Origin: null\r\n",
                                    b"Origin: http://127.0.0.1\r\n", b"Sec-Fetch-Site: cross-site\r\n",
                                    b"Sec-Fetch-Site: same-site\r\n"])
def test_browser_requests_are_refused(start_axle, tmp_path, header):
    server = start(start_axle, tmp_path)
    refused(ask(server, "POST", "/reload", extra=header), 403)
    refused(ask(server, "GET", "/generations", extra=header), 403)
    not_reloaded(server)


@pytest.mark.parametrize("value", [b"same-origin", b"none"])
def test_sec_fetch_site_of_a_direct_request_passes(start_axle, tmp_path, value):
    server = start(start_axle, tmp_path)
    resp = ask(server, "GET", "/generations", extra=b"Sec-Fetch-Site: " + value + b"\r\n")
    assert resp.status == 200, resp


def test_host_must_be_loopback_or_a_configured_name(start_axle, tmp_path):
    server = start(start_axle, tmp_path, 'hosts = ["ops.example"]\n')
    port = server.admin[0][1]
    for host in ("evil.example", f"evil.example:{port}", "localhost.evil.example", "10.0.0.1", "ops.example.evil"):
        refused(ask(server, "POST", "/reload", host=host), 403)
    for host in ("127.0.0.1", f"127.0.0.1:{port}", f"localhost:{port}", "[::1]", "ops.example", f"OPS.example:{port}"):
        assert ask(server, "GET", "/generations", host=host).status == 200, host
    with Conn(*server.admin[0]) as c:  # HTTP/1.1 without Host
        refused(c.request(b"GET /generations HTTP/1.1\r\n\r\n"), 400)
    with Conn(*server.admin[0]) as c:
        refused(c.request(b"GET /generations HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n"), 400)
    not_reloaded(server)


def write_token(tmp_path, mode=0o600):
    path = tmp_path / "admin.token"
    path.write_text(TOKEN + "\n")
    path.chmod(mode)
    return path


def test_token_is_required_when_token_file_is_set(start_axle, tmp_path):
    write_token(tmp_path)
    # Relative to the config file, which the factory writes into tmp_path.
    server = start(start_axle, tmp_path, 'token_file = "admin.token"\n')
    for extra in (b"", b"Authorization: Bearer wrong\r\n", b"Authorization: Bearer " + TOKEN[:-1].encode() + b"\r\n",
                  b"Authorization: Basic " + TOKEN.encode() + b"\r\n"):
        for method, path in (("GET", "/generations"), ("POST", "/reload"), ("GET", "/nowhere")):
            resp = ask(server, method, path, extra=extra)
            refused(resp, 401)
            assert resp.header("www-authenticate").startswith("Bearer"), resp
    assert "generation 2" not in "\n".join(server.stderr_lines)
    good = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
    assert ask(server, "GET", "/generations", extra=good).status == 200

    # The README's curl line.
    port = server.admin[0][1]
    mark = server.log_mark()
    out = subprocess.run(["sh", "-c", f'curl -s -X POST -H "Authorization: Bearer $(cat {tmp_path}/admin.token)" '
                                      f'http://127.0.0.1:{port}/reload'],
                         capture_output=True, timeout=harness.IO_TIMEOUT * 4)
    assert json.loads(out.stdout) == {"reloaded": True}, out
    server.wait_for_log(r"generation 2 serving", start=mark)

    # A reload applies a new token: the old one stops working.
    new_token = TOKEN[::-1].lstrip("=") + "x"
    (tmp_path / "new.token").write_text(new_token)
    (tmp_path / "new.token").chmod(0o600)
    cfg = server.args[server.args.index("--config") + 1]
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write(text.replace('token_file = "admin.token"', 'token_file = "new.token"'))
    assert ask(server, "POST", "/reload", extra=good).status == 200
    refused(ask(server, "GET", "/generations", extra=good), 401)
    assert ask(server, "GET", "/generations", extra=b"Authorization: Bearer " + new_token.encode() + b"\r\n").status == 200


def test_world_readable_token_file_is_refused_at_load(tmp_path):
    write_token(tmp_path, 0o644)
    cfg = tmp_path / "axle.toml"
    cfg.write_text(harness.render_config(extra='[admin]\nlisten = "127.0.0.1:0"\ntoken_file = "admin.token"\n'))
    check = harness.run_axle(["--check", cfg])
    assert check.returncode != 0
    assert "admin.token_file" in check.stderr and "readable by every user" in check.stderr, check.stderr


def test_reload_is_a_post_without_a_simple_request_content_type(start_axle, tmp_path):
    server = start(start_axle, tmp_path)
    for ctype in (b"text/plain", b"text/plain;charset=UTF-8", b"application/x-www-form-urlencoded",
                  b"multipart/form-data; boundary=x"):
        refused(ask(server, "POST", "/reload", extra=b"Content-Type: " + ctype + b"\r\n", body=b"x"), 415)
        refused(ask(server, "POST", "/reload", extra=b"Content-Type: " + ctype + b"\r\n"), 415)
    refused(ask(server, "POST", "/reload", body=b"{}"), 415)  # a body needs a type
    resp = ask(server, "GET", "/reload")
    refused(resp, 405)
    assert resp.header("allow") == "POST", resp
    refused(ask(server, "POST", "/generations"), 405)
    refused(ask(server, "GET", "/reload/"), 404)
    not_reloaded(server)

    resp = ask(server, "POST", "/reload")
    assert (resp.status, json_of(resp)) == (200, {"reloaded": True}), resp
    resp = ask(server, "POST", "/reload", extra=b"Content-Type: application/json\r\n", body=b"{}")
    assert (resp.status, json_of(resp)) == (200, {"reloaded": True}), resp
    with Conn(*server.admin[0]) as c:  # curl's bare form: no Content-Length at all
        resp = c.request(b"POST /reload HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert resp.status == 200, resp
    server.wait_for_log(r"generation 4 serving")


def test_malformed_requests_get_a_json_error(start_axle, tmp_path):
    server = start(start_axle, tmp_path)
    for raw, status in ((b"GET /generations HTTP/1.1\nHost: 127.0.0.1\n\n", 400),
                        (b"GET /generations\r\n\r\n", 400),
                        (b"GET /generations HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505),
                        (b"POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
                        (b"POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n", 413),
                        (b"GET /generations HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431)):
        with Conn(*server.admin[0]) as c:
            refused(c.request(raw), status)
    not_reloaded(server)


def test_a_slow_client_blocks_no_other(start_axle, tmp_path):
    server = start(start_axle, tmp_path)
    slow = Conn(*server.admin[0])
    try:
        slow.send(b"GET /generations HTTP/1.1\r\nHo")  # and then nothing, for now
        assert ask(server, "GET", "/generations").status == 200
        resp = ask(server, "POST", "/reload")
        assert (resp.status, json_of(resp)) == (200, {"reloaded": True}), resp
        # The slow client was held open all along and is answered once it finishes.
        resp = slow.request(b"st: 127.0.0.1\r\n\r\n")
        assert resp.status == 200 and json_of(resp)["generations"][0]["id"] == 2, resp
    finally:
        slow.close()


def test_a_silent_client_gets_408_and_frees_its_slot(start_axle, tmp_path):
    server = start(start_axle, tmp_path)
    with Conn(*server.admin[0], timeout=harness.IO_TIMEOUT + 10) as c:
        c.send(b"GET /gen")
        refused(c.read_response(), 408)
        assert c.wait_closed()


def test_clients_past_the_bound_get_503_and_the_others_are_served(start_axle, tmp_path):
    server = start(start_axle, tmp_path)
    held = []
    try:
        for i in range(BOUND):
            c = Conn(*server.admin[0])
            c.send(b"GET /generations HTTP/1.1\r\n")  # the request line only
            held.append(c)
        for _ in range(3):
            with Conn(*server.admin[0]) as extra:
                resp = extra.read_response()
                refused(resp, 503)
                assert resp.header("retry-after") == "1", resp
                assert extra.wait_closed()
        # Every held client still has its slot and is answered.
        for c in held:
            resp = c.request(b"Host: 127.0.0.1\r\n\r\n")
            assert resp.status == 200, resp
    finally:
        for c in held:
            c.close()
    # Their slots are free again.
    resp = harness.eventually_served(server.admin[0], harness.get("/generations", host="127.0.0.1"))
    assert resp.status == 200, resp


def test_json_is_valid_utf8_with_latin1_paths(start_axle, tmp_path):
    """A config in a directory named caf\\xe9 (Latin-1): its path shows in the
    module file names and in a reload error, as U+FFFD in valid JSON."""
    base = os.fsencode(tmp_path) + b"/caf\xe9"
    mods = base + b"/mods"
    os.makedirs(mods)
    io = harness.module_combination()["io"]
    shutil.copy(os.fsencode(harness.module_dir()) + f"/axle-io-{io}.so".encode(), mods)
    cfg = base + b"/axle.toml"
    text = harness.render_config(extra='[admin]\nlisten = "127.0.0.1:0"\n', workers=1)
    text = text.replace("module_dirs = []", 'module_dirs = ["mods"]')
    assert 'module_dirs = ["mods"]' in text
    with open(cfg, "w") as f:
        f.write(text)
    server = start_axle.start(args=["--config", os.fsdecode(cfg)])
    server.wait_for_log(r"admin listening on")
    files = [m["file"] for m in generations(server)[0]["modules"]]
    assert any("caf\ufffd/mods/axle-io-" in f for f in files), files

    with open(cfg, "w") as f:
        f.write("[server\n")  # a reload of this fails and names the file
    resp = ask(server, "POST", "/reload")
    assert resp.status == 409, resp
    doc = json_of(resp)
    assert doc["reloaded"] is False and "caf\ufffd/axle.toml" in doc["error"], doc


def test_ipv6_loopback_listener_takes_its_own_host_form(start_axle, tmp_path):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    server = start_axle.start(harness.render_config(extra='[admin]\nlisten = "[::1]:0"\n', workers=1))
    server.wait_for_log(r"admin listening on http://\[::1\]:")
    host, port = server.admin[0]
    assert host == "::1"
    assert ask(server, "GET", "/generations", host=f"[::1]:{port}").status == 200
    refused(ask(server, "GET", "/generations", host=f"[::2]:{port}"), 403)
