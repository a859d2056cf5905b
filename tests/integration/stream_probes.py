"""Tools for issue 9's attack-style tests (test_streams.py): a crowd of
event-stream clients on non-blocking sockets driven by one selector, the SSE
wire format, deterministic upload bytes, and the loopprobe counters.

Everything is bounded: every loop has a deadline, every buffer a limit.
"""

import fcntl
import hashlib
import re
import selectors
import socket
import termios
import time
from dataclasses import dataclass, field

import harness

# ---------------------------------------------------------------- SSE on the wire

STREAM_END = b"\r\n0\r\n\r\n"  # the last chunk of a chunked body (no trailers)
EVENT_RE = re.compile(rb"data: (\d+)\n\n")


def dechunk(raw: bytes) -> (bytes, bool):
    """The body bytes of a chunked response body read so far, and whether its
    last chunk came. Raises on a malformed framing."""
    body, pos = bytearray(), 0
    while True:
        eol = raw.find(b"\r\n", pos)
        if eol < 0:
            return bytes(body), False
        size = int(raw[pos:eol].split(b";")[0], 16)
        if size == 0:
            return bytes(body), raw.endswith(b"\r\n\r\n", eol)
        if len(raw) < eol + 2 + size + 2:
            body += raw[eol + 2:eol + 2 + size]
            return bytes(body), False
        body += raw[eol + 2:eol + 2 + size]
        if raw[eol + 2 + size:eol + 4 + size] != b"\r\n":
            raise AssertionError("chunk not followed by CRLF")
        pos = eol + 4 + size


def split_head(raw: bytes):
    """(status, head bytes, rest) of a response read so far, or None before its head ended."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = raw[:end + 4]
    return int(head.split(b" ", 2)[1]), head, raw[end + 4:]


def event_stamps(body: bytes):
    """The server timestamps (Unix ms) of the events in an SSE body, in order."""
    return [int(m) for m in EVENT_RE.findall(body)]


# ---------------------------------------------------------------- many streams, one selector

@dataclass
class Stream:
    sock: socket.socket
    raw: bytes = b""
    connected: bool = False
    ended: bool = False


@dataclass
class StreamCrowd:
    """COUNT clients on one event-stream path, non-blocking, all served by one
    selector in this thread (no thread per client). Each reads its whole
    stream; a stream is over when the last chunk arrived."""
    addr: tuple
    path: str
    count: int
    max_connecting: int = 500  # well under the listen backlog: no connect is refused
    streams: list = field(default_factory=list)

    def __post_init__(self):
        self.sel = selectors.DefaultSelector()
        self.request = f"GET {self.path} HTTP/1.1\r\nHost: t\r\n\r\n".encode()
        self.connecting = 0

    def _open_some(self):
        while len(self.streams) < self.count and self.connecting < self.max_connecting:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(self.addr)
            st = Stream(s)
            self.streams.append(st)
            self.sel.register(s, selectors.EVENT_WRITE, st)
            self.connecting += 1

    def started(self) -> int:
        """Streams whose first event came."""
        return sum(1 for st in self.streams if b"data: " in st.raw)

    def ended(self) -> int:
        return sum(1 for st in self.streams if st.ended)

    def run(self, timeout_s, until):
        """Connects (in bursts), sends, reads, until until(self) is true or
        timeout_s passed; returns until's last value."""
        deadline = time.monotonic() + timeout_s
        while not until(self):
            if time.monotonic() > deadline:
                return False
            self._open_some()
            for key, mask in self.sel.select(timeout=0.1):
                st = key.data
                if not st.connected:
                    err = st.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise AssertionError(f"connect failed: errno {err} after {len(self.streams)} clients")
                    st.connected = True
                    self.connecting -= 1
                    st.sock.send(self.request)  # a few bytes: a fresh socket always takes them
                    self.sel.modify(st.sock, selectors.EVENT_READ, st)
                    continue
                try:
                    chunk = st.sock.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"the server closed a stream after {len(st.raw)} bytes: {st.raw[-200:]!r}")
                st.raw += chunk
                if st.raw.endswith(STREAM_END):
                    st.ended = True
                    self.sel.unregister(st.sock)
        return True

    def close(self):
        for st in self.streams:
            try:
                self.sel.unregister(st.sock)
            except (KeyError, ValueError):
                pass
            st.sock.close()
        self.sel.close()


# ---------------------------------------------------------------- uploads

class Body:
    """SIZE deterministic bytes, made block by block (1 MiB: a fixed pseudo-random
    block with the block's index in its first 8 bytes) and hashed as they are
    produced, so a 1 GiB body never sits in memory."""

    BLOCK = 1 << 20

    def __init__(self, size):
        self.size = size
        self.sha = hashlib.sha256()
        seed = hashlib.sha256(b"axle upload").digest()
        base = bytearray()
        while len(base) < self.BLOCK:
            seed = hashlib.sha256(seed).digest()
            base += seed * 64
        self.base = bytearray(base[:self.BLOCK])

    def blocks(self):
        sent = 0
        index = 0
        while sent < self.size:
            n = min(self.BLOCK, self.size - sent)
            self.base[:8] = index.to_bytes(8, "little")
            block = bytes(self.base[:n])
            self.sha.update(block)
            yield block
            sent += n
            index += 1

    def hexdigest(self):
        return self.sha.hexdigest()


# ---------------------------------------------------------------- sockets and counters

def unread_bytes(sock) -> int:
    """Bytes waiting in this socket's receive queue (FIONREAD)."""
    buf = bytearray(4)
    fcntl.ioctl(sock.fileno(), termios.FIONREAD, buf)
    return int.from_bytes(buf, "little")


def probe_count(addr, path) -> int:
    """A loopprobe counter: /aborts or /live."""
    with harness.Conn(*addr) as c:
        r = c.request(harness.get(path))
        assert r.status == 200, r
        return int(r.body)


def wait_for(predicate, timeout_s, step_s=0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(step_s)
    return True
