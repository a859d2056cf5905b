"""Modules built against the older minors (1.0, 1.1, 1.2) and an imagined next
one (1.4) of this host's ABI (1.3) load and serve real requests (plugin-api/ABI.md,
"Versioning"). The modules come from tests/fixtures/abi-compat: parser-scalar
and router-linear sources and a small C handler, each compiled against the
other minor's headers under the name "oldminor" (1.0), "prevminor" (1.1),
"lastminor" (1.2) or "nextminor" (1.4).

The 1.4 parser and router get the host's request head and match struct, which
are smaller than the ones they were compiled with: before the AXLE_STRUCT_HAS
rule they refused them, and every request became a 500 or a 404. The older
handlers get a larger axle_request_t and host table than they know of, and the
1.2 descriptor ends before 1.3's config_sections, which the host must not read.
"""

import os
import re
import subprocess

import pytest

import harness
from harness import Conn, get

MINORS = {"oldminor": "1.0", "prevminor": "1.1", "lastminor": "1.2", "nextminor": "1.4"}


def fixture_paths(name):
    paths = [harness.fixtures_dir() / f"axle-{kind}-{name}.so" for kind in ("parser", "router", "handler")]
    missing = [str(p) for p in paths if not p.exists()]
    # Not a skip: a missing fixture would make this whole file pass without testing anything.
    assert not missing, f"ABI fixtures not built (cmake --build build --target axle-fixtures): {missing}"


def routes(handler):
    return [
        {"path": "/items/{id}", "handler": handler, "greeting": "item"},
        {"path": "/files/*", "handler": handler},
        {"path": "/ping", "handler": "ping", "methods": ["GET", "HEAD"]},
    ]


def start(start_axle, name, handler=None):
    fixture_paths(name)
    modules = {"parser": name, "router": name}
    return start_axle.start(module_dirs=[harness.fixtures_dir()], modules=modules, routes=routes(handler or name))


def built_abi(kind, name):
    """The ABI version a fixture module's descriptor declares, as `axle --list-modules` reads it."""
    out = subprocess.run([str(harness.axle_bin()), "--list-modules"], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "AXLE_MODULE_PATH": str(harness.fixtures_dir())})
    assert out.returncode == 0, out
    m = re.search(r"^%s\s+%s\s+\S+\s+(\d+\.\d+)\s" % (kind, name), out.stdout, re.M)
    assert m, f"{kind} {name} not listed:\n{out.stdout}{out.stderr}"
    return m.group(1)


def expected_body(greeting, minor, params, greeting_written=True):
    body = f"{greeting} abi={minor}" + "".join(f" {k}={v}" for k, v in params)
    if minor in ("1.2", "1.4"):  # this 1.3 host has request_id
        body += " request_id=present"
    if minor == "1.4":  # ... and config_position (1.3), and lacks the two 1.4 additions
        body += " config_position=" + ("key" if greeting_written else "table")
        body += " deadline=absent wall_clock=absent"
    return body.encode()


@pytest.mark.parametrize("name", sorted(MINORS))
def test_parser_router_and_handler_of_another_minor_serve(start_axle, name):
    minor = MINORS[name]
    for kind in ("parser", "router", "handler"):
        assert built_abi(kind, name) == minor
    server = start(start_axle, name)
    with Conn(*server.listeners[0]) as c:
        r = c.request(get("/items/42?x=1"))
        assert (r.status, r.body) == (200, expected_body("item", minor, [("id", "42")])), r
        # A wildcard keeps its slashes; a keep-alive pipelined pair parses as two requests.
        c.send(get("/files/a/b.txt") + get("/ping"))
        r1 = c.read_response()
        r2 = c.read_response()
        assert (r1.status, r1.body) == (200, expected_body(name, minor, [("*", "a/b.txt")], False)), r1
        assert (r2.status, r2.body) == (200, b"pong"), r2
        # A 404 is a 404, a 405 a 405 with Allow, a bad request a 400 (not a 500 from a refused struct).
        r = c.request(get("/nothing/here"))
        assert r.status == 404, r
        r = c.request(get("/ping", method=b"DELETE"))
        assert r.status == 405 and "GET" in (r.header("allow") or ""), r
    with Conn(*server.listeners[0]) as c:
        c.send(b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n")
        assert c.read_response().status == 400


def test_handlers_of_every_minor_beside_in_tree_modules(start_axle):
    """The in-tree (1.3) parser and router, with a 1.0, a 1.1, a 1.2 and a 1.4 handler in one generation."""
    for name in MINORS:
        fixture_paths(name)
    server = start_axle.start(module_dirs=[harness.fixtures_dir()], routes=[
        {"path": "/old/{a}/{b}", "handler": "oldminor", "greeting": "old"},
        {"path": "/prev/{a}/{b}", "handler": "prevminor", "greeting": "prev"},
        {"path": "/last/{a}/{b}", "handler": "lastminor", "greeting": "last"},
        {"path": "/new/{a}/{b}", "handler": "nextminor", "greeting": "new"},
    ])
    with Conn(*server.listeners[0]) as c:
        r = c.request(get("/old/x/y"))
        assert (r.status, r.body) == (200, expected_body("old", "1.0", [("a", "x"), ("b", "y")])), r
        r = c.request(get("/prev/x/y"))
        assert (r.status, r.body) == (200, expected_body("prev", "1.1", [("a", "x"), ("b", "y")])), r
        r = c.request(get("/last/x/y"))
        assert (r.status, r.body) == (200, expected_body("last", "1.2", [("a", "x"), ("b", "y")])), r
        r = c.request(get("/new/%7Eu/v"))  # params carry the decoded path
        assert (r.status, r.body) == (200, expected_body("new", "1.4", [("a", "~u"), ("b", "v")])), r
        assert c.request(get("/new/x")).status == 404
