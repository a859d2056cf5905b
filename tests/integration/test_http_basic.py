"""Well-formed HTTP/1.1 traffic: keep-alive, pipelining, HEAD, bodies,
100-continue, HTTP/1.0 and Connection: close."""

import re
import socket
import struct
import threading
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import harness
from harness import Conn, get, post

IMF_FIXDATE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
                         r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT")


def test_ping_returns_pong(conn):
    req = get("/ping")
    resp = conn.request(req)
    assert resp.status == 200, (req, resp)
    assert resp.body == b"pong", (req, resp)
    assert resp.version == "HTTP/1.1", resp


def test_keep_alive_serves_several_requests_on_one_connection(conn):
    for i in range(5):
        req = get("/ping")
        resp = conn.request(req)
        assert (resp.status, resp.body) == (200, b"pong"), (i, req, resp)
        assert (resp.header("connection") or "").lower() != "close", (i, resp)


def test_three_pipelined_requests_in_one_send_answer_in_order(conn):
    req = get("/echo/one", extra=b"") + post("/echo/two", b"second") + get("/ping")
    conn.send(req)
    first, second, third = (conn.read_response() for _ in range(3))
    assert (first.status, second.status, third.status) == (200, 200, 200), (req, first, second, third)
    assert b"one" in first.body, first
    assert second.body == b"second", second
    assert third.body == b"pong", third


def test_sixteen_deep_pipeline(conn):
    req = b"".join(get("/echo/m%02d" % i) for i in range(16))
    conn.send(req)
    for i in range(16):
        resp = conn.read_response()
        assert resp.status == 200, (i, resp)
        assert b"m%02d" % i in resp.body, (i, resp)
    # The connection is still usable after the pipeline drained.
    assert conn.request(get("/ping")).body == b"pong"


def test_date_header_is_an_imf_fixdate_near_now(conn):
    resp = conn.request(get("/ping"))
    dates = resp.all("date")
    assert len(dates) == 1, resp
    assert IMF_FIXDATE.fullmatch(dates[0]), dates[0]
    stamp = parsedate_to_datetime(dates[0])
    # Loose bound: proves it is the current clock in GMT, not a timing check.
    assert abs((stamp - datetime.now(timezone.utc)).total_seconds()) < 300, dates[0]


def test_head_has_content_length_and_no_body(conn):
    full = conn.request(get("/ping"))
    req = get("/ping", method=b"HEAD")
    head = conn.request(req, method="HEAD")
    assert head.status == 200, (req, head)
    assert head.header("content-length") == str(len(full.body)), (req, head)
    # A following request must parse cleanly: proves no body bytes were sent.
    after = conn.request(get("/ping"))
    assert after.body == b"pong", after


def test_post_echo_returns_the_body(conn):
    body = b"the quick brown fox"
    req = post("/echo/x", body)
    resp = conn.request(req)
    assert resp.status == 200, (req, resp)
    assert resp.body == body, (req, resp)


def test_get_echo_returns_the_path_parameter(conn):
    resp = conn.request(get("/echo/hello"))
    assert resp.status == 200, resp
    assert b"hello" in resp.body, resp


def test_large_body_echo_round_trips(conn):
    body = bytes((i * 7) % 251 for i in range(512 * 1024))
    resp = conn.request(post("/echo/big", body))
    assert resp.status == 200, resp
    assert len(resp.body) == len(body) and resp.body == body, len(resp.body)


def test_chunked_body_with_extensions_and_trailers_is_decoded(conn):
    req = (b"POST /echo/c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5;name=value\r\nhello\r\n"
           b"1\r\n,\r\n"
           b"6;a;b=\"q\"\r\n world\r\n"
           b"0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n")
    resp = conn.request(req)
    assert resp.status == 200, (req, resp)
    assert resp.body == b"hello, world", (req, resp)
    assert conn.request(get("/ping")).body == b"pong"


def test_chunked_body_split_across_sends(conn):
    parts = [b"POST /echo/c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r",
             b"\nabcd\r\n", b"3\r\nefg", b"\r\n0\r\n", b"\r\n"]
    for part in parts:
        conn.send(part)
        time.sleep(0.02)
    resp = conn.read_response()
    assert (resp.status, resp.body) == (200, b"abcdefg"), resp


def test_request_sent_one_byte_at_a_time(conn):
    req = post("/echo/slow", b"drip")
    for i in range(len(req)):
        conn.send(req[i:i + 1])
        time.sleep(0.002)
    resp = conn.read_response()
    assert (resp.status, resp.body) == (200, b"drip"), resp


def test_expect_100_continue_gets_interim_response_before_body(conn):
    head = (b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
            b"Expect: 100-continue\r\n\r\n")
    conn.send(head)
    interim = conn.read_response()
    assert interim.status == 100, (head, interim)
    assert interim.raw_head.startswith(b"HTTP/1.1 100 Continue\r\n"), interim
    conn.send(b"abcde")
    final = conn.read_response()
    assert (final.status, final.body) == (200, b"abcde"), final


def test_expect_100_continue_not_sent_for_a_rejected_body(axle):
    with Conn(*axle) as c:
        head = (b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n"
                b"Expect: 100-continue\r\n\r\n")
        resp = c.request(head)
        # A 100 here is allowed by RFC 9110 but wasteful; the final answer must be 413.
        if resp.status == 100:
            resp = c.read_response()
        assert resp.status == 413, (head, resp)


def test_http10_closes_after_response(conn):
    req = b"GET /ping HTTP/1.0\r\n\r\n"
    resp = conn.request(req)
    assert (resp.status, resp.body) == (200, b"pong"), (req, resp)
    assert conn.wait_closed(), "HTTP/1.0 connection without keep-alive left open"


def test_http10_keep_alive_when_asked(conn):
    req = b"GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    first = conn.request(req)
    assert (first.status, first.body) == (200, b"pong"), (req, first)
    assert (first.header("connection") or "").lower() == "keep-alive", first
    second = conn.request(req)
    assert (second.status, second.body) == (200, b"pong"), second


def test_connection_close_is_honoured(conn):
    req = get("/ping", extra=b"Connection: close\r\n")
    resp = conn.request(req)
    assert resp.status == 200, (req, resp)
    assert (resp.header("connection") or "").lower() == "close", resp
    assert conn.wait_closed(), "server kept the connection after Connection: close"


def test_pipeline_stops_at_connection_close(conn):
    req = get("/echo/a", extra=b"Connection: close\r\n") + get("/echo/b")
    conn.send(req)
    resp = conn.read_response()
    assert resp.status == 200 and b"a" in resp.body, resp
    assert conn.wait_closed(), "server answered past a Connection: close request"


def test_absolute_form_target_is_accepted(conn):
    # RFC 9112 3.2.2: a server MUST accept absolute-form.
    req = b"GET http://a/ping HTTP/1.1\r\nHost: a\r\n\r\n"
    resp = conn.request(req)
    assert (resp.status, resp.body) == (200, b"pong"), (req, resp)


def test_query_string_does_not_change_the_route(conn):
    resp = conn.request(get("/ping?x=1&y=%20"))
    assert (resp.status, resp.body) == (200, b"pong"), resp


def test_not_found_keeps_the_connection(conn):
    req = get("/no/such/route")
    resp = conn.request(req)
    assert resp.status == 404, (req, resp)
    assert conn.request(get("/ping")).body == b"pong"


def test_many_concurrent_clients(axle):
    errors = []

    def client(n):
        try:
            with Conn(*axle) as c:
                for i in range(20):
                    resp = c.request(get(f"/echo/c{n}r{i}"))
                    if resp.status != 200 or f"c{n}r{i}".encode() not in resp.body:
                        errors.append((n, i, resp))
                        return
        except Exception as e:  # collected and asserted below
            errors.append((n, repr(e)))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors[:5]


def test_clients_that_vanish_do_not_hurt_the_server(axle):
    for i in range(50):
        s = socket.create_connection(axle, timeout=harness.IO_TIMEOUT)
        if i % 2:
            s.sendall(post("/echo/x", b"y" * 10000)[:3000])
        else:
            s.sendall(get("/static/sub/data.bin"))
        # RST instead of FIN on every other one.
        if i % 3 == 0:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    with Conn(*axle) as c:
        assert c.request(get("/ping")).body == b"pong"


def test_two_hundred_deep_pipeline_beyond_the_queue_limit(conn):
    # More than max_pipelined (64): reading pauses and resumes, nothing is lost.
    conn.send(b"".join(get("/echo/p%03d" % i) for i in range(200)))
    for i in range(200):
        resp = conn.read_response()
        assert resp.status == 200 and b"p%03d" % i in resp.body, (i, resp)


def test_pipelined_large_responses_with_a_client_that_reads_late(conn):
    # ~800 KiB of responses queue up before the client reads anything.
    conn.send(get("/static/sub/data.bin") * 50)
    for i in range(50):
        resp = conn.read_response()
        assert resp.status == 200 and len(resp.body) == 16384, (i, resp)


def test_pipeline_split_at_every_awkward_boundary(conn):
    stream = (get("/echo/a") + post("/echo/b", b"body-b")
              + b"POST /echo/c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
              + get("/ping"))
    sizes = [1, 7, 2, 13, 3, 31, 5, 17]  # deterministic, uneven cuts
    pos, k = 0, 0
    while pos < len(stream):
        conn.send(stream[pos:pos + sizes[k % len(sizes)]])
        pos += sizes[k % len(sizes)]
        k += 1
        time.sleep(0.001)
    bodies = [conn.read_response().body for _ in range(4)]
    assert bodies[1:] == [b"body-b", b"abc", b"pong"] and b"a" in bodies[0], bodies


def test_chunked_request_followed_by_pipelined_get(conn):
    req = (b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"2\r\nok\r\n0\r\n\r\n" + get("/ping"))
    conn.send(req)
    assert conn.read_response().body == b"ok"
    assert conn.read_response().body == b"pong"


def test_chunk_sizes_in_upper_case_hex_with_leading_zeros(conn):
    req = (b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
           b"000A\r\n0123456789\r\n00\r\n\r\n")
    resp = conn.request(req)
    assert (resp.status, resp.body) == (200, b"0123456789"), (req, resp)


def test_binary_body_with_every_byte_value(conn):
    body = bytes(range(256)) * 4
    resp = conn.request(post("/echo/bin", body))
    assert resp.body == body, resp


def test_body_of_exactly_the_limit_is_accepted(conn):
    body = b"L" * (1024 * 1024)  # default max_body_bytes
    resp = conn.request(post("/echo/limit", body))
    assert resp.status == 200 and resp.body == body, resp


def test_header_values_with_obs_text_and_odd_spacing_are_accepted(conn):
    req = get("/ping", extra=b"X-Latin: caf\xe9\r\nX-Empty:\r\nX-Spaced: \t padded \t\r\n")
    resp = conn.request(req)
    assert (resp.status, resp.body) == (200, b"pong"), (req, resp)


def test_exactly_max_headers_is_accepted(conn):
    extra = b"".join(b"X-H%02d: v\r\n" % i for i in range(99))  # + Host = 100
    resp = conn.request(get("/ping", extra=extra))
    assert (resp.status, resp.body) == (200, b"pong"), resp


def test_connection_header_tokens_are_case_insensitive_lists(axle):
    for value in (b"Close", b"keep-alive, close", b"close, TE"):
        with Conn(*axle) as c:
            resp = c.request(get("/ping", extra=b"Connection: " + value + b"\r\n"))
            assert resp.status == 200, resp
            assert c.wait_closed(), f"Connection: {value!r} did not close"


def test_expect_100_continue_with_body_already_sent(conn):
    req = post("/echo/x", b"eager", extra=b"Expect: 100-continue\r\n")
    conn.send(req + get("/ping"))
    resp = conn.read_response()
    if resp.status == 100:  # allowed, but then the final answer follows
        resp = conn.read_response()
    assert (resp.status, resp.body) == (200, b"eager"), resp
    assert conn.read_response().body == b"pong"


def test_no_100_continue_for_http10(conn):
    # RFC 9110 10.1.1: never send 100 to an HTTP/1.0 client.
    conn.send(b"POST /echo/x HTTP/1.0\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    time.sleep(0.2)  # ordering only: give a wrong 100 the chance to arrive first
    conn.send(b"body")
    resp = conn.read_response()
    assert (resp.status, resp.body) == (200, b"body"), resp


def test_http10_post_with_content_length(conn):
    resp = conn.request(b"POST /echo/x HTTP/1.0\r\nContent-Length: 3\r\n\r\nold")
    assert (resp.status, resp.body) == (200, b"old"), resp
    assert conn.wait_closed()


def test_hundreds_of_simultaneous_connections(axle):
    conns = []
    try:
        for _ in range(300):
            conns.append(Conn(*axle))
        for c in conns:
            c.send(get("/ping"))
        for c in conns:
            assert c.read_response().body == b"pong"
    finally:
        for c in conns:
            c.close()
