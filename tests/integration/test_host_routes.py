"""Routes scoped by Host (exact names and *.suffix) and the not_found /
method_not_allowed fallback handlers, on both router modules, plus the
config errors --check reports for them."""

import re

import pytest

import harness
from conftest import ServerFactory
from harness import Conn, run_axle

# The fixture handler "hello" sets no status, so an answer it gives as a
# fallback keeps the status the kernel preset (404 or 405, with Allow);
# "ping" sets 200, so a fallback may change the status.
ROUTES = [
    {"path": "/ping", "handler": "ping"},
    {"path": "/site", "handler": "hello", "greeting": "exact a.test", "host": "a.test"},
    {"path": "/site", "handler": "hello", "greeting": "wild example", "host": ["*.example.com", "b.test"]},
    {"path": "/site", "handler": "hello", "greeting": "deep", "host": "*.deep.example.com"},
    {"path": "/site", "handler": "hello", "greeting": "unscoped site"},
    {"path": "/post-only", "handler": "hello", "greeting": "posted a", "host": "a.test", "methods": ["POST"]},
    {"path": "/post-only", "handler": "hello", "greeting": "posted wild", "host": "*.example.com",
     "methods": ["POST"]},
    {"path": "/post-only", "handler": "hello", "greeting": "unscoped any"},
    {"path": "/only-get", "handler": "hello", "greeting": "got", "methods": ["GET"]},
    {"answers": "not_found", "handler": "hello", "greeting": "custom 404"},
    {"answers": "not_found", "handler": "ping", "host": "a.test"},
    {"answers": "method_not_allowed", "handler": "hello", "greeting": "custom 405", "host": "a.test"},
]


@pytest.fixture(scope="module", params=["linear", "radix"])
def server(request, tmp_path_factory):
    factory = ServerFactory(tmp_path_factory.mktemp(f"hosts-{request.param}"))
    proc = factory.start(routes=ROUTES, module_dirs=[harness.fixtures_dir()],
                         modules={"router": request.param})
    yield proc.listeners[0]
    problems = factory.stop_all()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def ask(addr, path, host=None, method="GET", target=None, version="HTTP/1.1", body=b""):
    head = f"{method} {target or path} {version}\r\n"
    if host is not None:
        head += f"Host: {host}\r\n"
    if body:
        head += f"Content-Length: {len(body)}\r\n"
    with Conn(*addr) as c:
        return c.request(head.encode() + b"\r\n" + body, method=method)


def test_exact_host(server):
    assert ask(server, "/site", "a.test").body == b"exact a.test"
    assert ask(server, "/site", "A.Test").body == b"exact a.test"
    assert ask(server, "/site", "other.test").body == b"unscoped site"


def test_wildcard_host_longest_suffix_wins(server):
    assert ask(server, "/site", "x.example.com").body == b"wild example"
    assert ask(server, "/site", "x.y.example.com").body == b"wild example"
    assert ask(server, "/site", "b.test").body == b"wild example"  # listed beside the wildcard
    assert ask(server, "/site", "q.deep.example.com").body == b"deep"
    assert ask(server, "/site", "deep.example.com").body == b"wild example"  # not below *.deep.example.com
    # *.example.com does not cover example.com itself.
    assert ask(server, "/site", "example.com").body == b"unscoped site"


def test_host_with_port_and_trailing_dot(server):
    assert ask(server, "/site", "a.test:8080").body == b"exact a.test"
    assert ask(server, "/site", "a.test.").body == b"exact a.test"
    assert ask(server, "/site", "X.Example.COM.:1").body == b"wild example"
    assert ask(server, "/site", "127.0.0.1:80").body == b"unscoped site"
    assert ask(server, "/site", "[::1]:80").body == b"unscoped site"


def test_absolute_form_target_names_the_host(server):
    # RFC 9112 3.2.2: the target's authority wins over the Host field.
    assert ask(server, "/site", "other.test", target="http://a.test/site").body == b"exact a.test"
    assert ask(server, "/site", "a.test", target="http://X.example.com:8080/site?q=1").body == b"wild example"


def test_no_host_is_unscoped(server):
    assert ask(server, "/site", None, version="HTTP/1.0").body == b"unscoped site"


def test_scope_falls_back_to_unscoped_routes(server):
    resp = ask(server, "/ping", "a.test")
    assert (resp.status, resp.body) == (200, b"pong")
    assert ask(server, "/site", "zzz.example.org").body == b"unscoped site"


def test_method_not_allowed_in_scope_stands(server):
    # The unscoped /post-only takes every method, but the scope's 405 stands.
    resp = ask(server, "/post-only", "x.example.com")
    assert resp.status == 405
    assert resp.header("allow") == "POST"
    assert resp.body == b"405 Method Not Allowed\n"
    assert ask(server, "/post-only", "x.example.com", method="POST", body=b"x").body == b"posted wild"
    assert ask(server, "/post-only", "nobody.test").body == b"unscoped any"


def test_not_found_fallback_handler(server):
    resp = ask(server, "/nothing/here", "nobody.test")
    assert (resp.status, resp.body) == (404, b"custom 404")
    head = ask(server, "/nothing/here", "nobody.test", method="HEAD")
    assert (head.status, head.body, head.header("content-length")) == (404, b"", "10")
    # A scope without its own not_found uses the unscoped one.
    resp = ask(server, "/nothing", "x.example.com")
    assert (resp.status, resp.body) == (404, b"custom 404")
    # A scope's own fallback answers for it, and may change the status.
    resp = ask(server, "/nothing", "a.test")
    assert (resp.status, resp.body) == (200, b"pong")


def test_method_not_allowed_fallback_handler(server):
    resp = ask(server, "/post-only", "a.test")
    assert (resp.status, resp.body) == (405, b"custom 405")
    assert resp.header("allow") == "POST"
    # A 405 from the unscoped routes for a scoped host: the scope's fallback, Allow from the route.
    resp = ask(server, "/only-get", "a.test", method="DELETE")
    assert (resp.status, resp.body) == (405, b"custom 405")
    assert resp.header("allow") == "GET, HEAD"
    # No method_not_allowed fallback for this host: the built-in answer.
    resp = ask(server, "/only-get", "nobody.test", method="DELETE")
    assert (resp.status, resp.body) == (405, b"405 Method Not Allowed\n")
    assert resp.header("allow") == "GET, HEAD"


def test_pipelined_requests_for_several_hosts_keep_order(server):
    hosts = ["a.test", "x.example.com", "nobody.test", "q.deep.example.com"] * 5
    want = {"a.test": b"exact a.test", "x.example.com": b"wild example", "nobody.test": b"unscoped site",
            "q.deep.example.com": b"deep"}
    with Conn(*server) as c:
        c.send(b"".join(f"GET /site HTTP/1.1\r\nHost: {h}\r\n\r\n".encode() for h in hosts))
        got = [c.read_response().body for _ in hosts]
    assert got == [want[h] for h in hosts]


# ---------------------------------------------------------------- --check

def check_error(tmp_path, routes):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(harness.render_config(routes=routes, module_dirs=[harness.fixtures_dir()]))
    out = run_axle(["--check", cfg])
    assert out.returncode != 0, out
    return out.stderr


@pytest.mark.parametrize("pattern, why", [
    ("a.*.test", "'*' is allowed only as a leading \"*.\""),
    ("a.test:8080", "no port"),
    ("", "empty host name"),
    ("a/b", "letters, digits"),
])
def test_check_refuses_a_bad_host_pattern(tmp_path, pattern, why):
    err = check_error(tmp_path, [{"path": "/", "handler": "ping", "host": pattern}])
    assert "route[0].host:" in err and why in err, err
    assert "bad.toml:" in err, err


def test_check_refuses_two_not_found_fallbacks_in_one_scope(tmp_path):
    err = check_error(tmp_path, [
        {"answers": "not_found", "handler": "ping", "host": ["a.test", "*.b.test"]},
        {"answers": "not_found", "handler": "hello", "host": "*.B.test"},
    ])
    assert "route[1].answers:" in err and 'fallback for host "*.b.test" is already configured' in err, err


def test_check_refuses_a_fallback_with_a_path(tmp_path):
    err = check_error(tmp_path, [{"path": "/x", "answers": "method_not_allowed", "handler": "ping"}])
    assert "route[0].path: a fallback route has no path" in err, err


def test_check_accepts_fallbacks_and_hosts(tmp_path):
    cfg = tmp_path / "ok.toml"
    cfg.write_text(harness.render_config(routes=ROUTES, module_dirs=[harness.fixtures_dir()]))
    out = run_axle(["--check", cfg])
    assert out.returncode == 0, out


def test_metrics_name_each_scoped_route_and_fallback(start_axle):
    """Routes with the same path in different scopes, and fallbacks, are
    distinct series (a label is the route's hosts, then its pattern)."""
    srv = start_axle.start(routes=ROUTES, module_dirs=[harness.fixtures_dir()], workers=1,
                           modules={"metrics": "prometheus"})
    addr = srv.listeners[0]
    for host, n in (("a.test", 1), ("x.example.com", 2), ("other.test", 3)):
        for _ in range(n):
            assert ask(addr, "/site", host).status == 200
    assert ask(addr, "/missing", "other.test").status == 404
    assert ask(addr, "/post-only", "a.test").status == 405
    text = ask(addr, "/metrics", "other.test").body.decode()
    counts = {}
    for m in re.finditer(r'^axle_http_requests_total\{route="([^"]*)",status_class="(\dxx)"\} (\d+)$', text, re.M):
        counts[(m.group(1), m.group(2))] = int(m.group(3))
    assert counts.get(("a.test /site", "2xx")) == 1, text
    assert counts.get(("*.example.com,b.test /site", "2xx")) == 2, text
    assert counts.get(("/site", "2xx")) == 3, text
    assert counts.get(("(not_found)", "4xx")) == 1, text
    assert counts.get(("a.test (method_not_allowed)", "4xx")) == 1, text
