// The BIO between OpenSSL and the connection's bytes, in place of two memory
// BIOs: records OpenSSL writes go straight to a sink (the connection's send
// queue) with no intermediate buffer, and OpenSSL reads the ciphertext lent by
// the current lower_data call in place; only what a call leaves unread (a
// partial record, or records held while the host paused reading) is copied,
// and that copy is freed once read, so an idle connection holds no buffer.
#pragma once

#include <openssl/bio.h>

#include <cstddef>
#include <string>

namespace axle::tls {

struct WireIo {
  // Where written records go. Called from inside SSL_* calls.
  void (*write)(void *arg, const char *data, size_t len) = nullptr;
  void *arg = nullptr;

  // Read side: `kept` (older) then `lent` (the current lower_data's bytes).
  const char *lent = nullptr;
  size_t lent_len = 0;
  std::string kept;
  size_t kept_pos = 0;

  size_t unread() const { return kept.size() - kept_pos + lent_len; }
  void lend(const char *data, size_t len) {
    lent = data;
    lent_len = len;
  }
  // End of the lower_data call: copies what OpenSSL left of the lent bytes.
  void keep_rest();
};

// A BIO over io (which must outlive it), for both directions: SSL_set_bio(ssl, b, b).
BIO *wire_bio_new(WireIo *io);

}  // namespace axle::tls
