#include "sealer.h"

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <cstring>

#include "ktls.h"

namespace axle::tls {
namespace {

constexpr size_t kTag = 16;
constexpr size_t kMaxPlain = 16 * 1024;
// RFC 8446 5.5: at most 2^24.5 full records under one AES-GCM key. OpenSSL 3.0
// does not update its key by itself either; we stop well before (256 GiB).
constexpr uint64_t kMaxRecords = uint64_t{1} << 24;

// Fetched once per process: an implicit fetch per connection would cost every handshake.
const EVP_CIPHER *cipher(bool aes256) {
  static EVP_CIPHER *const aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  static EVP_CIPHER *const aes256_ = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return aes256 ? aes256_ : aes128;
}

}  // namespace

Sealer::~Sealer() {
  EVP_CIPHER_CTX_free(ctx_);
  OPENSSL_cleanse(iv_, sizeof iv_);
  OPENSSL_cleanse(secret_, sizeof secret_);
}

bool Sealer::init(const SSL *ssl, const unsigned char *secret, size_t secret_len, uint64_t sequence) {
  const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
  md_ = c ? SSL_CIPHER_get_handshake_digest(c) : nullptr;
  const bool aes256 = c && SSL_CIPHER_get_protocol_id(c) == 0x1302;
  aead_ = cipher(aes256);
  key_len_ = aes256 ? 32 : 16;
  bool ok = md_ && aead_ && kernel_tx_suite(ssl) && secret_len <= sizeof secret_;
  if (ok) {
    std::memcpy(secret_, secret, secret_len);
    secret_len_ = secret_len;
    ctx_ = EVP_CIPHER_CTX_new();
    ok = ctx_ && set_key();
  }
  if (!ok) {
    EVP_CIPHER_CTX_free(ctx_);
    ctx_ = nullptr;
    ERR_clear_error();
  }
  sequence_ = sequence;
  return ok;
}

// The record key and IV of secret_ into the cipher context.
bool Sealer::set_key() {
  unsigned char key[32];
  const bool ok = tls13_traffic_key(md_, secret_, secret_len_, key, key_len_, iv_) &&
                  EVP_EncryptInit_ex(ctx_, aead_, nullptr, key, nullptr) == 1;
  OPENSSL_cleanse(key, sizeof key);
  return ok;
}

bool Sealer::update_key(Bytes &out) {
  // KeyUpdate: msg_type 24, length 1, request_update = update_not_requested (0).
  static constexpr char kKeyUpdate[] = {24, 0, 0, 1, 0};
  unsigned char next[sizeof secret_];
  if (!seal(kContentHandshake, kKeyUpdate, sizeof kKeyUpdate, out) ||
      !tls13_next_secret(md_, secret_, secret_len_, next)) {
    ERR_clear_error();
    return false;
  }
  std::memcpy(secret_, next, secret_len_);
  OPENSSL_cleanse(next, sizeof next);
  sequence_ = 0;
  if (set_key()) return true;
  ERR_clear_error();
  EVP_CIPHER_CTX_free(ctx_);  // no key: nothing more can be sealed
  ctx_ = nullptr;
  return false;
}

bool Sealer::seal(unsigned char type, const char *data, size_t len, Bytes &out) {
  if (!ctx_ || len > kMaxPlain || sequence_ >= kMaxRecords) return false;
  unsigned char nonce[12];  // RFC 8446 5.3: the IV xor the 64-bit sequence, left-padded
  std::memcpy(nonce, iv_, sizeof nonce);
  for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<unsigned char>(sequence_ >> (8 * i));
  const size_t body = len + 1 + kTag;  // TLSInnerPlaintext: content, type; then the tag
  const size_t at = out.size();
  auto *p = reinterpret_cast<unsigned char *>(out.extend(5 + body));
  p[0] = kContentApplicationData;  // the outer type is always application_data in TLS 1.3
  p[1] = 0x03;
  p[2] = 0x03;
  p[3] = static_cast<unsigned char>(body >> 8);
  p[4] = static_cast<unsigned char>(body);
  int n = 0;
  const bool ok = EVP_EncryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce) == 1 &&
                  EVP_EncryptUpdate(ctx_, nullptr, &n, p, 5) == 1 &&  // the header is the additional data
                  EVP_EncryptUpdate(ctx_, p + 5, &n, reinterpret_cast<const unsigned char *>(data),
                                    static_cast<int>(len)) == 1 &&
                  EVP_EncryptUpdate(ctx_, p + 5 + len, &n, &type, 1) == 1 &&
                  EVP_EncryptFinal_ex(ctx_, p + 5 + len + 1, &n) == 1 &&
                  EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, kTag, p + 5 + len + 1) == 1;
  if (!ok) {
    ERR_clear_error();
    out.truncate(at);  // nothing half-sealed goes out: the caller fails the send
    return false;
  }
  ++sequence_;
  return true;
}

}  // namespace axle::tls
