#!/usr/bin/python3
"""Socket activation without systemd, for test_operations.py: creates the
sockets described by $AXLE_ACTIVATE, puts them at descriptors 3.., sets
LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES as systemd does, and execs argv[1:].

AXLE_ACTIVATE         comma-separated kinds: "listen" (TCP on 127.0.0.1, a
                      free port, listening), "bound" (bound, not listening),
                      "udp" (a bound datagram socket), "file" (not a socket)
AXLE_ACTIVATE_NAMES   LISTEN_FDNAMES, when set
AXLE_ACTIVATE_PID     "self" (default); "other": LISTEN_PID names another
                      process, so the sockets are not the server's; "none":
                      LISTEN_PID is left unset
AXLE_ACTIVATE_REPORT  file that receives "HOST:PORT" per "listen" socket

Exits 2 on a spec it does not know, before anything is exec'd.
"""

import fcntl
import os
import socket
import sys

FIRST_FD = 3


def make(kind):
    if kind in ("listen", "bound"):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        addr = None
        if kind == "listen":
            s.listen(64)
            addr = "%s:%d" % s.getsockname()
        return s.detach(), addr
    if kind == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        return s.detach(), None
    if kind == "file":
        return os.open("/dev/null", os.O_RDONLY), None
    sys.exit(f"activation_launcher: unknown socket kind {kind!r}")


def main():
    kinds = [k for k in os.environ.get("AXLE_ACTIVATE", "").split(",") if k]
    if not kinds or len(sys.argv) < 2:
        sys.exit("usage: AXLE_ACTIVATE=listen[,...] activation_launcher.py PROGRAM [ARGS...]")
    made = [make(k) for k in kinds]
    # Park every descriptor above the target range first, so placing one at
    # 3+i never closes another still to be placed.
    parked = []
    for fd, _ in made:
        parked.append(fcntl.fcntl(fd, fcntl.F_DUPFD, 100))
        os.close(fd)
    for i, fd in enumerate(parked):
        os.dup2(fd, FIRST_FD + i)  # inheritable by default
        os.close(fd)
    report = os.environ.get("AXLE_ACTIVATE_REPORT")
    if report:
        with open(report, "w") as f:
            f.write("".join(addr + "\n" for _, addr in made if addr))
    os.environ["LISTEN_FDS"] = str(len(kinds))
    pid = os.environ.get("AXLE_ACTIVATE_PID", "self")
    if pid not in ("self", "other", "none"):
        sys.exit(f"activation_launcher: AXLE_ACTIVATE_PID={pid!r}: want self, other or none")
    if pid != "none":
        os.environ["LISTEN_PID"] = str(os.getpid() if pid == "self" else os.getppid())
    if "AXLE_ACTIVATE_NAMES" in os.environ:
        os.environ["LISTEN_FDNAMES"] = os.environ["AXLE_ACTIVATE_NAMES"]
    os.execvp(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    main()
