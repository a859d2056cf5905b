"""The protocol edges of RFC 9110 / RFC 9112 (issue 12): 501 for methods no
route implements, "OPTIONS *" answered by the server, the exact shape of the
request line (400 vs 505), Transfer-Encoding whose final coding is not
chunked, '#' in the target, and an empty Host. Raw sockets only; the file
runs on every parser x router combination (integration.matrix.*)."""

import pytest

import harness
from conftest import ServerFactory
from harness import Conn, get

# Routes that list their methods: the server implements GET, HEAD (with GET),
# POST, DELETE (only for host h.test, still implemented), OPTIONS (for "*")
# and the extension methods PROPFIND, MKCOL and REPORT, named by routes.
STRICT_ROUTES = [
    {"path": "/ping", "handler": "ping", "methods": ["GET"]},
    {"path": "/echo/{msg}", "handler": "echo", "methods": ["POST"]},
    {"path": "/gone", "handler": "ping", "methods": ["DELETE"], "host": "h.test"},
    {"path": "/dav", "handler": "ping", "methods": ["GET"]},
    {"path": "/dav", "handler": "ping", "methods": ["PROPFIND", "MKCOL"]},
    {"path": "/report", "handler": "ping", "methods": ["REPORT"]},
]
STRICT_IMPLEMENTS = {"GET", "HEAD", "POST", "DELETE", "OPTIONS", "PROPFIND", "MKCOL", "REPORT"}


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    factory = ServerFactory(tmp_path_factory.mktemp("strict-methods"))
    proc = factory.start(routes=STRICT_ROUTES)
    yield proc.listeners[0]
    problems = factory.stop_all()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def allow_of(resp):
    value = resp.header("allow")
    assert value is not None, f"no Allow in {resp!r}"
    names = [m.strip() for m in value.split(",")]
    assert len(names) == len(set(names)), resp
    return set(names)


def refused_and_closed(addr, req: bytes, status: int):
    with Conn(*addr) as c:
        c.send(req)
        try:
            resp = c.read_response()
        except harness.PeerClosed as e:
            pytest.fail(f"server closed without an answer to {req!r}: {e}", pytrace=False)
        assert resp.status == status, f"request {req!r}: want {status}, got {resp!r}"
        assert resp.header("connection") == "close", resp
        assert c.wait_closed(), f"connection left open after {resp.status} to {req!r}"
    return resp


def answered_and_kept(c: Conn, req: bytes, status: int, method="GET"):
    resp = c.request(req, method=method)
    assert resp.status == status, f"request {req!r}: want {status}, got {resp!r}"
    assert resp.header("connection") is None, resp
    ping = c.request(get("/ping"))  # the connection is still usable
    assert (ping.status, ping.body) == (200, b"pong"), ping
    return resp


# ---- methods: 501 vs 405 ----

@pytest.mark.parametrize("method", [b"FOO", b"get", b"Get", b"M-SEARCH", b"PUT", b"PATCH", b"propfind", b"LOCK"])
def test_method_no_route_implements_is_501(strict, method):
    # Method names are case-sensitive: "get" is not GET, "propfind" not
    # PROPFIND. PUT and PATCH are known names, but no route here takes them;
    # LOCK is an extension method no route names.
    with Conn(*strict) as c:
        resp = answered_and_kept(c, get("/ping", method=method), 501)
        assert resp.header("allow") is None, resp
        assert resp.body == b"501 Not Implemented\n", resp


def test_unimplemented_method_is_501_on_any_path(strict):
    with Conn(*strict) as c:
        answered_and_kept(c, get("/nowhere", method=b"FOO"), 501)


@pytest.mark.parametrize("method", [b"POST", b"DELETE", b"OPTIONS"])
def test_implemented_method_a_route_does_not_allow_is_405_with_allow(strict, method):
    # DELETE is implemented (by h.test's route), so on /ping it is 405, not 501.
    req = get("/ping", method=method, extra=b"Content-Length: 0\r\n" if method == b"POST" else b"")
    with Conn(*strict) as c:
        resp = answered_and_kept(c, req, 405)
        assert allow_of(resp) == {"GET", "HEAD"}, resp


@pytest.mark.parametrize("method", [b"PROPFIND", b"MKCOL"])
def test_extension_method_a_route_lists_is_served(strict, method):
    with Conn(*strict) as c:
        resp = answered_and_kept(c, get("/dav", method=method), 200)
        assert resp.body == b"pong"


@pytest.mark.parametrize("path,method,allow", [
    # Implemented (by /dav's route), not on /ping: 405 with the path's methods.
    ("/ping", b"PROPFIND", {"GET", "HEAD"}),
    # /report's route names only REPORT: another extension method is 405.
    ("/report", b"PROPFIND", {"REPORT"}),
    # A standard method on a path whose routes name extension methods: Allow
    # lists them beside the standard ones.
    ("/dav", b"DELETE", {"GET", "HEAD", "PROPFIND", "MKCOL"}),
    ("/report", b"GET", {"REPORT"}),
])
def test_extension_methods_in_405_allow(strict, path, method, allow):
    with Conn(*strict) as c:
        resp = answered_and_kept(c, get(path, method=method), 405)
        assert allow_of(resp) == allow, resp


def test_head_is_implemented_wherever_get_is(strict):
    with Conn(*strict) as c:
        resp = answered_and_kept(c, get("/ping", method=b"HEAD"), 200, method="HEAD")
        assert resp.body == b""


def test_method_implemented_for_another_host_is_served_there(strict):
    with Conn(*strict) as c:
        resp = answered_and_kept(c, get("/gone", host="h.test", method=b"DELETE"), 200)
        assert resp.body == b"pong"


def test_a_route_without_methods_takes_extension_methods(axle):
    # The shared server's routes list no methods: they take every method,
    # extension ones included, so nothing there is 501.
    with Conn(*axle) as c:
        resp = answered_and_kept(c, get("/ping", method=b"FOO"), 200)
        assert resp.body == b"pong"


# ---- OPTIONS * ----

def test_options_asterisk_lists_what_the_server_implements(strict):
    with Conn(*strict) as c:
        resp = answered_and_kept(c, get("*", method=b"OPTIONS"), 200)
        assert allow_of(resp) == STRICT_IMPLEMENTS, resp
        assert resp.header("content-length") == "0" and resp.body == b"", resp


def test_options_asterisk_on_any_method_routes_lists_every_method(axle):
    with Conn(*axle) as c:
        resp = answered_and_kept(c, get("*", method=b"OPTIONS"), 200)
        assert allow_of(resp) == {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}, resp


def test_options_asterisk_over_http10_without_host(strict):
    with Conn(*strict) as c:
        c.send(b"OPTIONS * HTTP/1.0\r\n\r\n")
        resp = c.read_response()
        assert resp.status == 200 and allow_of(resp) == STRICT_IMPLEMENTS, resp
        assert c.wait_closed()  # HTTP/1.0 without keep-alive


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_options_asterisk_with_a_body_reads_and_ignores_it(strict, framing):
    # RFC 9110 9.3.7 defines no use for OPTIONS content: it is framed, read
    # and dropped; the next request on the connection is parsed after it.
    if framing == "content-length":
        req = b"OPTIONS * HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
    else:
        req = (b"OPTIONS * HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n0\r\n\r\n")
    with Conn(*strict) as c:
        resp = answered_and_kept(c, req, 200)
        assert allow_of(resp) == STRICT_IMPLEMENTS, resp


@pytest.mark.parametrize("method", [b"GET", b"HEAD", b"POST"])
def test_asterisk_form_with_another_method_is_400(strict, method):
    # RFC 9112 3.2.4: the asterisk-form is only for a server-wide OPTIONS.
    refused_and_closed(strict, get("*", method=method), 400)


# ---- the request line ----

MALFORMED_LINES = {
    "http09-no-version": b"GET /ping\r\n\r\n",
    "http09-then-fields": b"GET /ping\r\nHost: a\r\n\r\n",
    "missing-target": b"GET HTTP/1.1\r\nHost: a\r\n\r\n",
    "method-only": b"GET\r\nHost: a\r\n\r\n",
    "two-spaces-after-method": b"GET  /ping HTTP/1.1\r\nHost: a\r\n\r\n",
    "two-spaces-before-version": b"GET /ping  HTTP/1.1\r\nHost: a\r\n\r\n",
    "space-after-version": b"GET /ping HTTP/1.1 \r\nHost: a\r\n\r\n",
    "four-tokens": b"GET /ping HTTP/1.1 x\r\nHost: a\r\n\r\n",
    "leading-space": b" GET /ping HTTP/1.1\r\nHost: a\r\n\r\n",
    "tab-separator": b"GET\t/ping HTTP/1.1\r\nHost: a\r\n\r\n",
    "version-without-minor": b"GET /ping HTTP/2\r\nHost: a\r\n\r\n",
    "two-digit-major": b"GET /ping HTTP/11.1\r\nHost: a\r\n\r\n",
}


@pytest.mark.parametrize("req", MALFORMED_LINES.values(), ids=MALFORMED_LINES.keys())
def test_request_line_not_method_sp_target_sp_version_is_400(strict, req):
    refused_and_closed(strict, req, 400)


@pytest.mark.parametrize("version", [b"HTTP/2.0", b"HTTP/3.0", b"HTTP/0.9", b"HTTP/9.9"])
def test_well_formed_line_with_another_major_is_505(strict, version):
    refused_and_closed(strict, get("/ping", version=version), 505)


@pytest.mark.parametrize("version", [b"HTTP/1.2", b"HTTP/1.9"])
def test_higher_minor_version_is_served_as_11(strict, version):
    with Conn(*strict) as c:
        resp = c.request(get("/ping", version=version))
        assert (resp.version, resp.status, resp.body) == ("HTTP/1.1", 200, b"pong"), resp
        assert resp.header("connection") is None, resp  # 1.1 rules: persistent
        assert c.request(get("/ping", version=version)).status == 200


# ---- Transfer-Encoding ----

@pytest.mark.parametrize("coding", [b"gzip", b"chunked, gzip", b"identity", b"chunked, chunked", b"deflate,chunked,br"])
def test_final_coding_not_chunked_is_400_and_closes(strict, coding):
    req = (b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + coding + b"\r\n\r\n"
           b"0\r\n\r\nGET /ping HTTP/1.1\r\nHost: a\r\n\r\n")
    refused_and_closed(strict, req, 400)


@pytest.mark.parametrize("coding", [b"gzip, chunked", b"br,chunked"])
def test_unimplemented_coding_before_chunked_is_501_and_closes(strict, coding):
    req = (b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + coding + b"\r\n\r\n"
           b"0\r\n\r\nGET /ping HTTP/1.1\r\nHost: a\r\n\r\n")
    refused_and_closed(strict, req, 501)


def test_chunked_alone_is_served(strict):
    req = (b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
           b"5\r\nhello\r\n0\r\n\r\n")
    with Conn(*strict) as c:
        answered_and_kept(c, req, 200)


# ---- '#' in the request-target ----

@pytest.mark.parametrize("target", [b"/ping#frag", b"/ping#", b"/ping?a=b#c", b"http://a/ping#f", b"#"])
def test_fragment_in_target_is_400(strict, target):
    refused_and_closed(strict, b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n", 400)


def test_encoded_hash_is_a_path_byte_not_a_fragment(strict):
    # "%23" decodes to '#' inside the path: a 404 for a path, not a syntax error.
    with Conn(*strict) as c:
        answered_and_kept(c, get("/ping%23x"), 404)


# ---- empty Host ----

@pytest.mark.parametrize("host", [b"Host:", b"Host: ", b"Host:\t "])
def test_empty_host_with_an_authority_in_the_target_is_400(strict, host):
    # RFC 9110 7.2: Host may be empty only when the target has no authority.
    refused_and_closed(strict, b"GET http://a.test/ping HTTP/1.1\r\n" + host + b"\r\n\r\n", 400)


@pytest.mark.parametrize("host", [b"Host:", b"Host: "])
def test_empty_host_with_origin_form_is_served(strict, host):
    # Accepted (RFC 9110 7.2 allows it without an authority); routing by host
    # sees no host, so the unscoped routes answer.
    with Conn(*strict) as c:
        answered_and_kept(c, b"GET /ping HTTP/1.1\r\n" + host + b"\r\n\r\n", 200)
        answered_and_kept(c, b"DELETE /gone HTTP/1.1\r\n" + host + b"\r\n\r\n", 404)


def test_empty_host_with_asterisk_form_is_served(strict):
    with Conn(*strict) as c:
        resp = answered_and_kept(c, b"OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n", 200)
        assert allow_of(resp) == STRICT_IMPLEMENTS, resp


def test_absolute_form_authority_wins_over_a_nonempty_host(strict):
    # RFC 9112 3.2.2: the target's authority is used, the Host field ignored.
    with Conn(*strict) as c:
        answered_and_kept(c, b"DELETE http://h.test/gone HTTP/1.1\r\nHost: other\r\n\r\n", 200)
