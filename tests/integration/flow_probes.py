"""Tools for the flow-control attack tests: a crowd of clients that pipeline
requests and never read, a /ping prober, and what /proc says about the server
(descriptors, resident memory, per-socket kernel queues).

Everything is bounded: sockets are non-blocking, every loop has a deadline.
"""

import os
import resource
import selectors
import socket
import time
from dataclasses import dataclass, field

import harness


# ---------------------------------------------------------------- /proc

def open_fds(pid) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def under_asan(pid) -> bool:
    """The server runs under AddressSanitizer (its quarantine inflates RSS)."""
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


def rss_bytes(pid) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


def sysctl_max(path) -> int:
    """The last (maximum) figure of a sysctl such as tcp_wmem."""
    with open(path) as f:
        return int(f.read().split()[-1])


def server_send_queues(server_port, client_ports) -> dict:
    """{client port: bytes the server's socket holds unsent} for the server side
    of each given connection (/proc/net/tcp, IPv4). A connection missing from
    the table is missing from the result."""
    wanted = set(client_ports)
    queues = {}
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            local_port = int(fields[1].split(":")[1], 16)
            remote_port = int(fields[2].split(":")[1], 16)
            if local_port == server_port and remote_port in wanted:
                queues[remote_port] = int(fields[4].split(":")[0], 16)
    return queues


def raise_nofile(needed):
    """This test process may need thousands of sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise AssertionError(f"the test needs {needed} descriptors; RLIMIT_NOFILE hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def limit_server_nofile(pid, limit):
    """Gives the server a descriptor limit close to what it should need, so
    that a server holding descriptors without bound runs out of them inside
    the test's scale, as it would at production scale."""
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))


# ---------------------------------------------------------------- the attackers

@dataclass
class Attacker:
    sock: socket.socket
    port: int  # the client's own port, to find the server side in /proc/net/tcp
    sent: int = 0


@dataclass
class Crowd:
    """COUNT connections, each sending the same pipelined PAYLOAD and never
    reading. A small receive buffer keeps the kernel from absorbing the
    responses on the client side."""
    addr: tuple
    count: int
    payload: bytes
    rcvbuf: int = 4096
    conns: list = field(default_factory=list)

    def open(self, timeout=harness.IO_TIMEOUT):
        for _ in range(self.count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)  # before connect: sets the window
            s.settimeout(timeout)
            s.connect(self.addr)
            s.setblocking(False)
            self.conns.append(Attacker(s, s.getsockname()[1]))

    def pump(self, budget_s, hold=False):
        """Sends as much of the payload as the kernel takes, for at most
        budget_s seconds (exactly budget_s with hold). True when every
        connection sent all of it."""
        view = memoryview(self.payload)
        deadline = time.monotonic() + budget_s
        with selectors.DefaultSelector() as sel:
            for a in self.conns:
                if a.sent < len(self.payload):
                    sel.register(a.sock, selectors.EVENT_WRITE, a)
            while sel.get_map() and time.monotonic() < deadline:
                for key, _ in sel.select(timeout=min(0.05, max(0.0, deadline - time.monotonic()))):
                    a = key.data
                    try:
                        a.sent += a.sock.send(view[a.sent:a.sent + (1 << 20)])
                    except BlockingIOError:
                        continue
                    except OSError:  # reset or refused by the server: it stops taking, which is allowed
                        sel.unregister(a.sock)
                        continue
                    if a.sent >= len(self.payload):
                        sel.unregister(a.sock)
        done = self.total_sent() == self.count * len(self.payload)
        if hold:
            time.sleep(max(0.0, deadline - time.monotonic()))
        return done

    def total_sent(self) -> int:
        return sum(a.sent for a in self.conns)

    def ports(self):
        return [a.port for a in self.conns]

    def answered(self, prefix=b"HTTP/1.1 ") -> int:
        """Connections on which the server has started a response, looked at
        without reading it (MSG_PEEK), so nothing is drained."""
        n = 0
        for a in self.conns:
            try:
                if a.sock.recv(len(prefix), socket.MSG_PEEK) == prefix:
                    n += 1
            except (BlockingIOError, OSError):
                pass
        return n

    def close(self):
        for a in self.conns:
            a.sock.close()
        self.conns.clear()


# ---------------------------------------------------------------- the bystander

@dataclass
class PingLog:
    ok: int = 0
    failures: list = field(default_factory=list)

    @property
    def total(self):
        return self.ok + len(self.failures)


def ping_once(addr, log: PingLog):
    """One fresh connection, one GET /ping, answered within the harness IO timeout."""
    start = time.monotonic()
    try:
        with harness.Conn(*addr) as c:
            resp = c.request(harness.get("/ping"))
        if resp.status == 200 and resp.body == b"pong":
            log.ok += 1
        else:
            log.failures.append(f"status {resp.status} body {resp.body[:40]!r}")
    except (OSError, harness.PeerClosed, AssertionError) as e:
        log.failures.append(f"{type(e).__name__} after {time.monotonic() - start:.1f}s: {e}"[:200])


@dataclass
class Peak:
    """The largest value seen of one server figure, against its bound."""
    bound: int
    value: int = 0

    def see(self, v) -> bool:
        """Records v; True once the peak is over four times the bound."""
        self.value = max(self.value, v)
        return self.value > 4 * self.bound


SAMPLE_S = 0.1


def hold_and_probe(crowd: Crowd, addr, pid, probes, interval_s, on_sample, max_failures=3):
    """Keeps the crowd pushing while a bystander pings up to PROBES times, one
    every interval_s. on_sample(pid) runs before each probe to record figures;
    it returns True when the figures are so far over their bound that going on
    would only load the machine. Stops then, after max_failures failed pings
    (each may take the whole IO timeout), or if the server dies."""
    log = PingLog()
    for _ in range(probes):
        over = gone = False
        for _ in range(max(1, round(interval_s / SAMPLE_S))):  # sampled often: a peak can be short
            crowd.pump(SAMPLE_S, hold=True)
            gone = not os.path.exists(f"/proc/{pid}")
            over = gone or on_sample(pid)
            if over:
                break
        if gone:
            log.failures.append("server process gone")
        if over:
            break
        ping_once(addr, log)
        if len(log.failures) >= max_failures:
            break
    return log


def wait_until(predicate, timeout_s, step_s=0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step_s)
