// Test certificates made at test time with the OpenSSL API (ECDSA P-256):
// a CA, leaves for several names, an expired one, a not-yet-valid one, a
// chain file, a key that matches nothing, and a file that is not PEM.
#pragma once

#include <string>

namespace certs {

struct Pki {
  std::string dir;  // a fresh temp dir, removed by ~Pki
  std::string ca;   // CA certificate (what clients trust)
  // <name>.crt / <name>.key in dir: "default", "a", "b", "expired", "future";
  // "a-chain.crt" (leaf + CA), "other.key" (matches nothing), "garbage.pem".
  std::string path(const std::string &file) const { return dir + "/" + file; }
  Pki();
  ~Pki();
};

// CN of a leaf: default → default.test, a → a.example.test, b → *.b.example.test.
const Pki &pki();  // made once per process

}  // namespace certs
