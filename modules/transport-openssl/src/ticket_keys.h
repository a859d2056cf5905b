// Session ticket keys of one instance: a current key that encrypts and the
// previous one that still decrypts for one more period. Keys live on a fixed
// grid of periods from the first one, so a ticket never outlives two periods
// whatever the traffic. Shared by every worker (a ticket issued by one worker
// resumes on another): a mutex, taken once per full or resumed handshake.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <mutex>

namespace axle::tls {

class TicketKeys {
 public:
  // period_ns: rotation period; clock: the host's monotonic clock.
  TicketKeys(uint64_t period_ns, uint64_t (*clock)()) : period_ns_(period_ns), clock_(clock) {}
  ~TicketKeys();
  // false when the random generator failed.
  bool init();

  // OpenSSL 3's ticket key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb); finds
  // the instance through SSL_CTX ex data slot `ex_index`.
  static int callback(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *mac,
                      int encrypt);
  static int ex_index();

 private:
  struct Key {
    unsigned char name[16], aes[32], hmac[32];
    uint64_t born_ns;
    bool valid = false;
  };
  bool fresh(Key *k, uint64_t born_ns);
  void rotate(uint64_t now);  // lock held
  int use(unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *mac, int encrypt);

  const uint64_t period_ns_;
  uint64_t (*const clock_)();
  std::mutex mutex_;
  Key current_{}, previous_{};
};

}  // namespace axle::tls
