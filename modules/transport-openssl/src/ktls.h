// Kernel TLS (TX only): whether the kernel offers the tls ULP, and handing a
// TLS 1.3 AES-GCM connection's sending to it after the handshake.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace axle::tls {

// True when this kernel attaches the "tls" ULP to a TCP socket (probed once
// on a loopback socket pair; /proc/sys/net/ipv4/tcp_available_ulp first).
bool kernel_tls_available(std::string *why_not);

// True for the suites the kernel can take over: TLS 1.3 with AES-128/256-GCM.
bool kernel_tx_suite(const SSL *ssl);

// Counts the TLS records in a byte stream written by us (headers may be
// split across calls), for the record sequence number the kernel continues.
class RecordCounter {
 public:
  void feed(const unsigned char *p, size_t n);
  uint64_t records() const { return records_; }

 private:
  uint64_t records_ = 0;
  size_t header_have_ = 0;   // bytes of the current 5-byte header seen
  unsigned char header_[5]{};
  size_t body_left_ = 0;     // bytes of the current record's body still to skip
};

// HKDF-Expand-Label(secret, "key"/"iv") of RFC 8446 7.3: the record key
// (key_len bytes) and the 12-byte IV of a TLS 1.3 traffic secret.
bool tls13_traffic_key(const EVP_MD *md, const unsigned char *secret, size_t secret_len, unsigned char *key,
                       size_t key_len, unsigned char iv[12]);

// The next traffic secret after a KeyUpdate (RFC 8446 7.2):
// HKDF-Expand-Label(secret, "traffic upd", "", secret_len) into out.
bool tls13_next_secret(const EVP_MD *md, const unsigned char *secret, size_t secret_len, unsigned char *out);

// Attaches the ULP to fd and sets TLS_TX from the server's application traffic
// secret (HKDF-Expand-Label "key"/"iv"), continuing at record `sequence`.
// false with *error when the kernel refused: the caller stays in user space
// (the socket passes plaintext through until TLS_TX is set, so nothing is lost).
bool kernel_tx_install(int fd, const SSL *ssl, const unsigned char *secret, size_t secret_len, uint64_t sequence,
                       std::string *error);

}  // namespace axle::tls
