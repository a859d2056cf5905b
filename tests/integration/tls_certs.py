"""Test certificates made at test time with the `openssl` command: a test CA
and ECDSA P-256 server certificates signed by it, in a temp dir made once per
pytest session (process) and removed at exit.

    certs = tls_certs.get()
    certs.ca                      # the CA certificate clients trust
    certs.default / a / b         # Pair(crt, key): "localhost" + 127.0.0.1, "a.test", "b.test"
    certs.expired                 # a "localhost" certificate whose notAfter has passed
    certs.mismatched_key          # a key that matches no certificate
    certs.issue("name", ...)      # another one (e.g. a renewal with a new serial)
"""

import atexit
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CURVE = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]


@dataclass(frozen=True)
class Pair:
    crt: Path
    key: Path


def openssl(*args, stdin=None) -> str:
    done = subprocess.run(["openssl", *[str(a) for a in args]], input=stdin, capture_output=True, text=True,
                          timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(map(str, args))} failed: {done.stderr.strip()}")
    return done.stdout


def serial_of(crt: Path) -> str:
    """The certificate's serial as openssl prints it (hex, upper case)."""
    return openssl("x509", "-in", crt, "-noout", "-serial").strip().partition("=")[2]


class TestCerts:
    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path):
        self.dir = directory
        self._serials = set()
        self.ca = directory / "ca.crt"
        self._ca_key = directory / "ca.key"
        openssl("req", "-x509", *CURVE, "-nodes", "-keyout", self._ca_key, "-out", self.ca, "-days", "365",
                "-subj", "/CN=axle test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self.default = self.issue("localhost", ["DNS:localhost", "IP:127.0.0.1"])
        self.a = self.issue("a.test", ["DNS:a.test"])
        self.b = self.issue("b.test", ["DNS:b.test"])
        self.expired = self.issue("localhost", ["DNS:localhost", "IP:127.0.0.1"], stem="expired", days=-1)
        self.mismatched_key = directory / "mismatched.key"
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", self.mismatched_key)

    def issue(self, cn, sans, stem=None, days=90) -> Pair:
        """A server certificate for cn signed by the CA, with a serial never used
        before; days=-1 makes one that expired yesterday. Shaped like a real one
        (random 128-bit serial, a CRL address) so testssl judges the server, not
        the test certificate."""
        serial = secrets.randbits(127) | 1 << 126
        assert serial not in self._serials
        self._serials.add(serial)
        stem = stem or f"{cn}-{serial:x}"[:40]
        crt, key, csr, ext = (self.dir / f"{stem}.{s}" for s in ("crt", "key", "csr", "ext"))
        ext.write_text(f"subjectAltName={','.join(sans)}\nbasicConstraints=CA:FALSE\n"
                       "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                       "crlDistributionPoints=URI:http://127.0.0.1/axle-test-ca.crl\n")
        openssl("req", "-new", *CURVE, "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={cn}")
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self._ca_key, "-set_serial", serial,
                "-days", days, "-extfile", ext, "-out", crt)
        return Pair(crt, key)


_certs = None


def get() -> TestCerts:
    """The session's certificates, made on first use."""
    global _certs
    if _certs is None:
        directory = Path(tempfile.mkdtemp(prefix="axle-tls-certs-"))
        atexit.register(shutil.rmtree, directory, True)
        _certs = TestCerts(directory)
    return _certs


if __name__ == "__main__":
    # python3 tls_certs.py DIR: makes the set in DIR (kept) for scripts such as
    # tests/tls/testssl_check.sh, and prints "ca crt key" of the default certificate.
    import sys
    Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)
    made = TestCerts(Path(sys.argv[1]))
    print(made.ca, made.default.crt, made.default.key)
