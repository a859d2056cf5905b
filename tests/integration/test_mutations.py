"""Mutated requests through the real server: whatever the bytes, every
answer is a well-formed response, the connection ends once the client has
sent everything, and the server survives. Deterministic (fixed seed), so a
failure replays."""

import random
import socket

import pytest

import harness
from harness import Conn

SEED_REQUESTS = [
    b"GET /ping HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /echo/hello?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nUser-Agent: t\r\n\r\n",
    b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: v\r\n\r\n",
    b"GET /ping HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo/y HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok",
    b"GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
]
INTERESTING = b"\r\n\x00 :\t\x7f\xff;,0-9aF%/.\"\\"
CASES = 2000


def mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:  # flip bits of one byte
            buf[min(pos, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:  # insert a byte that parsers care about
            buf.insert(pos, INTERESTING[rng.randrange(len(INTERESTING))])
        elif op == 2 and buf:  # delete a run
            del buf[pos:pos + rng.randint(1, 3)]
        elif op == 3:  # duplicate a slice somewhere else
            start = rng.randrange(len(buf) + 1)
            piece = buf[start:start + rng.randint(1, 12)]
            buf[pos:pos] = piece
        elif op == 4:  # truncate
            del buf[pos:]
        else:  # swap in a big decimal or hex number
            buf[pos:pos] = rng.choice([b"99999999999999999999", b"ffffffffffffffff", b"-1", b"+0", b"0x10"])
    return bytes(buf)


def responses_until_close(c: Conn):
    """Every response the server sends before it closes. They must parse."""
    out = []
    while True:
        try:
            out.append(c.read_response())
        except harness.PeerClosed as e:
            if c.buf:
                raise AssertionError(f"truncated or malformed bytes before close: {c.buf!r}") from e
            return out


@pytest.mark.parametrize("chunk", range(4), ids=lambda i: f"cases{i * CASES // 4}-{(i + 1) * CASES // 4 - 1}")
def test_mutated_requests_get_well_formed_answers(axle, chunk):
    rng = random.Random(20261126)
    cases = [mutate(rng, rng.choice(SEED_REQUESTS)) for _ in range(CASES)]
    for i in range(chunk * CASES // 4, (chunk + 1) * CASES // 4):
        req = cases[i]
        with Conn(*axle) as c:
            try:
                c.send(req)
                c.sock.shutdown(socket.SHUT_WR)  # end of input: nothing more is coming
            except (BrokenPipeError, ConnectionResetError):
                continue  # refused early; the survival check below still runs
            try:
                answers = responses_until_close(c)
            except socket.timeout:
                raise AssertionError(f"case {i}: server neither answered nor closed after EOF; request {req!r}")
            except AssertionError as e:
                raise AssertionError(f"case {i}: request {req!r}: {e}") from None
            for resp in answers:
                assert 100 <= resp.status <= 599, (i, req, resp)
    with Conn(*axle) as c:
        assert c.request(harness.get("/ping")).body == b"pong"
