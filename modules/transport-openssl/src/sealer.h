// Sealing TLS 1.3 AES-GCM records in this process after the handshake: the
// same takeover of the sending key as kernel TLS (ktls.h), where the kernel
// has no tls ULP. OpenSSL's own write path copies the plaintext into its
// record buffer and hands each sealed record to the BIO, which copies it again
// into the connection's queue; sealing here reads the plaintext where it is
// (the host's iovecs, the file buffer) and writes the record straight into the
// queue. Once a connection seals, OpenSSL must never write again (see
// Connection::drain_output): a peer's KeyUpdate request closes the connection,
// as with kernel TLS.
#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>

#include "bytes.h"

namespace axle::tls {

inline constexpr unsigned char kContentAlert = 21;
inline constexpr unsigned char kContentApplicationData = 23;

class Sealer {
 public:
  Sealer() = default;
  Sealer(const Sealer &) = delete;
  Sealer &operator=(const Sealer &) = delete;
  ~Sealer();

  // From the server's application traffic secret of a TLS 1.3 AES-GCM
  // connection (kernel_tx_suite), continuing at record `sequence`.
  bool init(const SSL *ssl, const unsigned char *secret, size_t secret_len, uint64_t sequence);
  bool active() const { return ctx_ != nullptr; }
  // Appends one record of `type` holding data[0, len) (len <= 16 KiB) to out.
  // false: a cipher failure, or the key's record limit (RFC 8446 5.5) reached.
  bool seal(unsigned char type, const char *data, size_t len, Bytes &out);

 private:
  EVP_CIPHER_CTX *ctx_ = nullptr;  // owns the key; freed (and cleansed) with the Sealer
  unsigned char iv_[12]{};
  uint64_t sequence_ = 0;
};

}  // namespace axle::tls
