#include "ktls.h"

#include <arpa/inet.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

namespace axle::tls {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool probe_socket_pair(std::string *why_not) {
  Fd listener{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)}, client{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener.fd < 0 || client.fd < 0 || ::bind(listener.fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 ||
      ::listen(listener.fd, 1) != 0 || ::getsockname(listener.fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0 ||
      ::connect(client.fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
    *why_not = std::string("loopback probe failed: ") + std::strerror(errno);
    return false;
  }
  Fd server{::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC)};
  if (server.fd < 0 || ::setsockopt(server.fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls") != 0) {
    *why_not = std::string("setsockopt(TCP_ULP, \"tls\"): ") + std::strerror(errno);
    return false;
  }
  return true;
}

// HKDF-Expand-Label(secret, label, "", length) of RFC 8446 7.1.
bool expand_label(const EVP_MD *md, const unsigned char *secret, size_t secret_len, const char *label,
                  unsigned char *out, size_t out_len) {
  unsigned char info[2 + 1 + 255 + 1];
  const size_t label_len = 6 + std::strlen(label);
  info[0] = static_cast<unsigned char>(out_len >> 8);
  info[1] = static_cast<unsigned char>(out_len);
  info[2] = static_cast<unsigned char>(label_len);
  std::memcpy(info + 3, "tls13 ", 6);
  std::memcpy(info + 9, label, label_len - 6);
  info[3 + label_len] = 0;  // empty context
  // Fetched once per process: a fetch per derivation (two per connection) takes
  // the provider store's lock and a name lookup on every handshake.
  static EVP_KDF *const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
  if (!kctx) return false;
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char *>(EVP_MD_get0_name(md)), 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<unsigned char *>(secret), secret_len),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, 4 + label_len), OSSL_PARAM_construct_end()};
  const bool ok = EVP_KDF_derive(kctx, out, out_len, params) == 1;
  EVP_KDF_CTX_free(kctx);
  return ok;
}

template <class Info>
bool install(int fd, const Info &info_in, std::string *error) {
  Info info = info_in;
  bool ok = ::setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls") == 0 &&
            ::setsockopt(fd, SOL_TLS, TLS_TX, &info, sizeof info) == 0;
  if (!ok) *error = std::string("kernel refused TLS_TX: ") + std::strerror(errno);
  OPENSSL_cleanse(&info, sizeof info);
  return ok;
}

}  // namespace

bool kernel_tls_available(std::string *why_not) {
  std::ifstream ulps("/proc/sys/net/ipv4/tcp_available_ulp");
  std::string list((std::istreambuf_iterator<char>(ulps)), std::istreambuf_iterator<char>());
  if (list.find("tls") == std::string::npos) {
    *why_not = "kernel tls ULP not available";
    return false;
  }
  return probe_socket_pair(why_not);
}

bool kernel_tx_suite(const SSL *ssl) {
  if (SSL_version(ssl) != TLS1_3_VERSION) return false;
  const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
  const uint16_t id = c ? SSL_CIPHER_get_protocol_id(c) : 0;
  return id == 0x1301 || id == 0x1302;  // TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384
}

void RecordCounter::feed(const unsigned char *p, size_t n) {
  while (n > 0) {
    if (body_left_ > 0) {
      const size_t k = std::min(body_left_, n);
      body_left_ -= k;
      p += k;
      n -= k;
      continue;
    }
    header_[header_have_++] = *p++;
    --n;
    if (header_have_ == 5) {
      header_have_ = 0;
      body_left_ = (size_t{header_[3]} << 8) | header_[4];
      ++records_;
    }
  }
}

bool tls13_traffic_key(const EVP_MD *md, const unsigned char *secret, size_t secret_len, unsigned char *key,
                       size_t key_len, unsigned char iv[12]) {
  return expand_label(md, secret, secret_len, "key", key, key_len) &&
         expand_label(md, secret, secret_len, "iv", iv, 12);
}

bool tls13_next_secret(const EVP_MD *md, const unsigned char *secret, size_t secret_len, unsigned char *out) {
  return expand_label(md, secret, secret_len, "traffic upd", out, secret_len);
}

bool kernel_tx_install(int fd, const SSL *ssl, const unsigned char *secret, size_t secret_len, uint64_t sequence,
                       std::string *error) {
  const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
  const EVP_MD *md = cipher ? SSL_CIPHER_get_handshake_digest(cipher) : nullptr;
  const bool aes256 = cipher && SSL_CIPHER_get_protocol_id(cipher) == 0x1302;
  unsigned char key[32], iv[12], seq[8];
  const size_t key_len = aes256 ? 32 : 16;
  if (!md || !tls13_traffic_key(md, secret, secret_len, key, key_len, iv)) {
    *error = "deriving the traffic key failed";
    return false;
  }
  for (int i = 7; i >= 0; --i, sequence >>= 8) seq[i] = static_cast<unsigned char>(sequence);
  bool ok;
  // The kernel's 12-byte nonce base is salt (4) || iv (8).
  if (aes256) {
    tls12_crypto_info_aes_gcm_256 info{};
    info.info.version = TLS_1_3_VERSION;
    info.info.cipher_type = TLS_CIPHER_AES_GCM_256;
    std::memcpy(info.key, key, 32);
    std::memcpy(info.salt, iv, 4);
    std::memcpy(info.iv, iv + 4, 8);
    std::memcpy(info.rec_seq, seq, 8);
    ok = install(fd, info, error);
    OPENSSL_cleanse(&info, sizeof info);
  } else {
    tls12_crypto_info_aes_gcm_128 info{};
    info.info.version = TLS_1_3_VERSION;
    info.info.cipher_type = TLS_CIPHER_AES_GCM_128;
    std::memcpy(info.key, key, 16);
    std::memcpy(info.salt, iv, 4);
    std::memcpy(info.iv, iv + 4, 8);
    std::memcpy(info.rec_seq, seq, 8);
    ok = install(fd, info, error);
    OPENSSL_cleanse(&info, sizeof info);
  }
  OPENSSL_cleanse(key, sizeof key);
  OPENSSL_cleanse(iv, sizeof iv);
  return ok;
}

}  // namespace axle::tls
