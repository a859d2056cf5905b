#!/usr/bin/python3
"""Resident memory a server spends per idle keep-alive connection.

Opens COUNT connections to the server, sends one request on each and reads
its whole response (so the server has done the full per-connection work:
accepted, allocated, parsed, answered), then leaves them all open and idle.
Reads VmRSS of the server's processes before and after, prints one JSON
object:  {"connections": N, "rss_before_kb": .., "rss_after_kb": .., "bytes_per_connection": ..}

  idle_conns.py --port PORT --pids PID[,PID...] [--count 5000] [--path /ping]

RSS is summed over the pids given (e.g. nginx master + worker); only the
difference matters, so a process whose memory doesn't move adds nothing.
"""
import argparse
import json
import resource
import selectors
import socket
import sys
import time


def rss_kb(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def response_complete(data):
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    length = 0
    for line in data[:head_end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return len(data) >= head_end + 4 + length


def open_idle(port, path, count, timeout_s):
    """Returns the open sockets, each having completed one request."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    sel = selectors.DefaultSelector()
    done, received = [], {}
    deadline = time.monotonic() + timeout_s
    opened = 0
    # Connect in bursts well under the listen backlog so none is refused.
    while len(done) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(done)} of {count} connections answered in {timeout_s} s")
        while opened < count and opened - len(done) < 500:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            sel.register(s, selectors.EVENT_WRITE)
            received[s] = b""
            opened += 1
        for key, mask in sel.select(timeout=1.0):
            s = key.fileobj
            if mask & selectors.EVENT_WRITE:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise RuntimeError(f"connect failed: {err}")
                s.sendall(request)
                sel.modify(s, selectors.EVENT_READ)
                continue
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("server closed a connection before answering")
            received[s] += chunk
            if response_complete(received[s]):
                sel.unregister(s)
                done.append(s)
    return done


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pids", required=True, help="comma-separated server pids whose RSS is summed")
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--path", default="/ping")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds to wait before each RSS reading")
    args = ap.parse_args()
    pids = [int(p) for p in args.pids.split(",") if p]

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.count + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.count + 1000), hard))

    time.sleep(args.settle)
    before = rss_kb(pids)
    conns = open_idle(args.port, args.path, args.count, timeout_s=60)
    time.sleep(args.settle)
    after = rss_kb(pids)
    # Every connection must still be open: an idle timeout or a limit would
    # have closed some, and the figure would be wrong.
    for s in conns:
        try:
            if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                raise RuntimeError("server closed an idle connection during the measurement")
        except BlockingIOError:
            pass
    print(json.dumps({
        "connections": len(conns),
        "rss_before_kb": before,
        "rss_after_kb": after,
        "bytes_per_connection": round((after - before) * 1024 / len(conns)),
    }))
    for s in conns:
        s.close()


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, OSError) as e:
        print(f"idle_conns: {e}", file=sys.stderr)
        sys.exit(1)
