// Sealing TLS 1.3 AES-GCM records in this process after the handshake: the
// same takeover of the sending key as kernel TLS (ktls.h), where the kernel
// has no tls ULP. OpenSSL's own write path copies the plaintext into its
// record buffer and hands each sealed record to the BIO, which copies it again
// into the connection's queue; sealing here reads the plaintext where it is
// (the host's iovecs, the file buffer) and writes the record straight into the
// queue. Once a connection seals, OpenSSL must never write again (see
// Connection::drain_output): the sealer answers a peer's KeyUpdate request
// itself (its own KeyUpdate under the old key, then the next key), where
// kernel TLS has to close the connection.
#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>

#include "bytes.h"

namespace axle::tls {

inline constexpr unsigned char kContentAlert = 21;
inline constexpr unsigned char kContentHandshake = 22;
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
  // Answers a peer's KeyUpdate request (RFC 8446 4.6.3): appends our
  // KeyUpdate (update_not_requested) sealed under the current key, then moves
  // to the next traffic secret, from sequence 0. false: a derivation or cipher failure.
  bool update_key(Bytes &out);

 private:
  bool set_key();

  EVP_CIPHER_CTX *ctx_ = nullptr;  // owns the key; freed (and cleansed) with the Sealer
  const EVP_MD *md_ = nullptr;     // the suite's hash, for the next secret
  const EVP_CIPHER *aead_ = nullptr;
  size_t key_len_ = 0;
  unsigned char secret_[64]{};     // the current traffic secret (cleansed with the Sealer)
  size_t secret_len_ = 0;
  unsigned char iv_[12]{};
  uint64_t sequence_ = 0;
};

}  // namespace axle::tls
