"""Malformed, oversized, unsupported and smuggling requests: each gets the
right status and, since the byte stream can no longer be trusted, the
server closes the connection after answering."""

import pytest

import harness
from harness import Conn, get


def expect_error_then_close(axle, req: bytes, statuses):
    statuses = (statuses,) if isinstance(statuses, int) else tuple(statuses)
    with Conn(*axle) as c:
        c.send(req)
        try:
            resp = c.read_response()
        except harness.PeerClosed as e:
            pytest.fail(f"server closed without an answer to {req[:300]!r}: {e}", pytrace=False)
        assert resp.status in statuses, f"request {req[:300]!r}\nwant {statuses}, got {resp!r}"
        assert c.wait_closed(), f"connection left open after {resp.status} to {req[:300]!r}"
    return resp


BAD_SYNTAX = {
    "invalid-method-char": b"G@T /ping HTTP/1.1\r\nHost: a\r\n\r\n",
    "double-space": b"GET  /ping HTTP/1.1\r\nHost: a\r\n\r\n",
    "lowercase-http-name": b"GET /ping http/1.1\r\nHost: a\r\n\r\n",
    "target-not-origin-form": b"GET ping HTTP/1.1\r\nHost: a\r\n\r\n",
    "binary-garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    "header-without-colon": b"GET /ping HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n",
    "empty-header-name": b"GET /ping HTTP/1.1\r\nHost: a\r\n: value\r\n\r\n",
    "nul-in-header-value": b"GET /ping HTTP/1.1\r\nHost: a\r\nX-A: a\x00b\r\n\r\n",
    "bare-lf-line-ends": b"GET /ping HTTP/1.1\nHost: a\n\n",
    "bare-lf-in-headers": b"GET /ping HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n",
    "bare-cr-in-headers": b"GET /ping HTTP/1.1\r\nHost: a\rX-A: b\r\n\r\n",
    "obs-fold": b"GET /ping HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n",
    "space-before-colon": b"GET /ping HTTP/1.1\r\nHost : a\r\n\r\n",
    "tab-before-colon": b"GET /ping HTTP/1.1\r\nHost\t: a\r\n\r\n",
    # RFC 9112 3.2: a 1.1 request without Host, or with two, MUST get 400.
    "missing-host": b"GET /ping HTTP/1.1\r\nX-A: b\r\n\r\n",
    "two-hosts": b"GET /ping HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
}


@pytest.mark.parametrize("req", BAD_SYNTAX.values(), ids=BAD_SYNTAX.keys())
def test_bad_syntax_is_400_and_closes(axle, req):
    expect_error_then_close(axle, req, 400)


SMUGGLING = {
    "cl-and-te": b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-and-cl-with-smuggled-request": b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                                       b"Content-Length: 4\r\n\r\n0\r\n\r\nGET /ping HTTP/1.1\r\nHost: a\r\n\r\n",
    "two-different-content-lengths": b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                                     b"Content-Length: 4\r\n\r\nabcd",
    "content-length-list": b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd",
    "content-length-plus-sign": b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc",
    "content-length-negative": b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
    "content-length-not-a-number": b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3x\r\n\r\nabc",
    "content-length-hex": b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc",
    "invalid-chunk-size": b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"zz\r\nhello\r\n0\r\n\r\n",
    "chunk-size-with-space-inside": b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    b"5 5\r\nhello\r\n0\r\n\r\n",
    "chunk-data-longer-than-size": b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   b"5\r\nhelloXX\r\n0\r\n\r\n",
    "chunk-size-bare-lf": b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"5\nhello\r\n0\r\n\r\n",
    "te-chunked-twice": b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"
                        b"0\r\n\r\n",
    "te-obfuscated-with-vertical-tab": b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0bchunked\r\n"
                                       b"\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("req", SMUGGLING.values(), ids=SMUGGLING.keys())
def test_ambiguous_framing_is_400_and_closes(axle, req):
    expect_error_then_close(axle, req, 400)


def test_chunk_size_overflow_is_rejected_and_closes(axle):
    req = (b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n")
    expect_error_then_close(axle, req, (400, 413))


def test_content_length_overflow_is_rejected_and_closes(axle):
    req = b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999999\r\n\r\n"
    expect_error_then_close(axle, req, (400, 413))


def test_final_coding_other_than_chunked_is_400(axle):
    # RFC 9112 6.3: without chunked last the body's length is unknown: 400 and close.
    req = b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nxxxx"
    expect_error_then_close(axle, req, 400)


def test_unsupported_coding_before_chunked_is_501(axle):
    req = (b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
           b"0\r\n\r\n")
    expect_error_then_close(axle, req, 501)


def test_chunked_not_last_is_400(axle):
    req = b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"
    expect_error_then_close(axle, req, 400)


def test_request_line_without_version_is_400(axle):
    # Not "method SP target SP version" (an HTTP/0.9 line): malformed, not 505.
    expect_error_then_close(axle, b"GET /ping\r\nHost: a\r\n\r\n", 400)


@pytest.mark.parametrize("version", [b"HTTP/2.0", b"HTTP/3.0", b"HTTP/0.9"])
def test_unsupported_http_version_is_505(axle, version):
    req = b"GET /ping " + version + b"\r\nHost: a\r\n\r\n"
    expect_error_then_close(axle, req, 505)


def test_uri_too_long_is_414(axle):
    req = get("/echo/" + "a" * 9000)  # default max_target_bytes = 8192
    expect_error_then_close(axle, req, 414)


def test_header_block_too_large_is_431(axle):
    many = b"".join(b"X-Filler-%02d: %s\r\n" % (i, b"v" * 1000) for i in range(20))  # ~20 KiB > 16 KiB
    expect_error_then_close(axle, get("/ping", extra=many), 431)


def test_single_huge_header_is_431(axle):
    expect_error_then_close(axle, get("/ping", extra=b"X-Huge: " + b"h" * 17000 + b"\r\n"), 431)


def test_too_many_headers_is_refused(axle):
    many = b"".join(b"X-H%03d: v\r\n" % i for i in range(150))  # default max_headers = 100
    expect_error_then_close(axle, get("/ping", extra=many), (400, 431))


def test_body_too_large_is_413(axle):
    req = b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n"  # > 1 MiB default
    expect_error_then_close(axle, req, 413)


def test_unknown_route_is_404(conn):
    req = get("/definitely/not/here")
    resp = conn.request(req)
    assert resp.status == 404, (req, resp)


def test_error_after_good_pipelined_request_keeps_the_good_answer(axle):
    req = get("/ping") + b"GET /ping HTTP/1.1\r\nHost : a\r\n\r\n"
    with Conn(*axle) as c:
        c.send(req)
        good = c.read_response()
        assert (good.status, good.body) == (200, b"pong"), good
        bad = c.read_response()
        assert bad.status == 400, bad
        assert c.wait_closed()


def test_wrong_method_is_405_with_allow(start_axle, static_root):
    routes = [{"path": "/ping", "handler": "ping", "methods": ["GET", "HEAD"]},
              {"path": "/echo/{msg}", "handler": "echo", "methods": ["POST"]}]
    server = start_axle.start(routes=routes)
    with Conn(*server.listeners[0]) as c:
        req = b"POST /ping HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
        resp = c.request(req)
        assert resp.status == 405, (req, resp)
        allow = {m.strip() for m in (resp.header("allow") or "").split(",")}
        assert allow == {"GET", "HEAD"}, resp
        # No route implements DELETE: 501 (RFC 9110 9.1), the connection stays.
        resp = c.request(b"DELETE /ping HTTP/1.1\r\nHost: a\r\n\r\n")
        assert resp.status == 501, resp
        assert resp.header("allow") is None, resp
        # 405 is not a framing error: the connection stays usable.
        resp = c.request(get("/echo/hi"))
        assert resp.status == 405, resp
        assert "POST" in (resp.header("allow") or ""), resp
        assert c.request(get("/ping")).body == b"pong"


def test_huge_extension_method_gets_a_clean_answer(axle):
    # Extension methods are legal tokens and an any-method route may take
    # them; the point is a complete, well-framed answer.
    with Conn(*axle) as c:
        resp = c.request(b"X" * 10000 + b" /ping HTTP/1.1\r\nHost: a\r\n\r\n")
        assert resp.status in (200, 400, 405, 414, 431, 501), resp
        if resp.status == 200:
            assert c.request(get("/ping")).body == b"pong"


def test_invalid_host_value_is_400(axle):
    # RFC 9112 3.2: "a Host header field with an invalid field value" MUST get 400.
    expect_error_then_close(axle, b"GET /ping HTTP/1.1\r\nHost: a b\r\n\r\n", 400)


def test_bare_lf_in_trailers_is_400(axle):
    req = (b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"1\r\na\r\n0\r\nX-T: v\n\r\n")
    expect_error_then_close(axle, req, 400)



def test_transfer_encoding_in_http10_is_not_trusted(axle):
    # RFC 9112 6.1: chunked framing from a 1.0 client is faulty; the server
    # may decode it but must close afterwards, or refuse with 400.
    req = b"POST /echo/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    with Conn(*axle) as c:
        resp = c.request(req)
        assert resp.status in (200, 400), (req, resp)
        if resp.status == 200:
            assert resp.body == b"abc", resp
        assert c.wait_closed()
