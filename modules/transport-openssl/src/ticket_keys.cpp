#include "ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

namespace axle::tls {

TicketKeys::~TicketKeys() {
  OPENSSL_cleanse(&current_, sizeof current_);
  OPENSSL_cleanse(&previous_, sizeof previous_);
}

bool TicketKeys::fresh(Key *k, uint64_t born_ns) {
  k->born_ns = born_ns;
  k->valid = RAND_bytes(k->name, sizeof k->name) == 1 && RAND_bytes(k->aes, sizeof k->aes) == 1 &&
             RAND_bytes(k->hmac, sizeof k->hmac) == 1;
  return k->valid;
}

bool TicketKeys::init() {
  std::lock_guard lock(mutex_);
  return fresh(&current_, clock_());
}

void TicketKeys::rotate(uint64_t now) {
  if (!current_.valid || now < current_.born_ns + period_ns_) return;
  const uint64_t periods = (now - current_.born_ns) / period_ns_;
  if (periods == 1)
    previous_ = current_;
  else
    previous_.valid = false;  // idle for two periods or more: nothing old still decrypts
  fresh(&current_, current_.born_ns + periods * period_ns_);
}

int TicketKeys::use(unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *mac,
                    int encrypt) {
  std::lock_guard lock(mutex_);
  rotate(clock_());
  const Key *key = nullptr;
  int found = 1;
  if (encrypt) {
    if (!current_.valid || RAND_bytes(iv, 16) != 1) return -1;
    key = &current_;
    std::memcpy(name, key->name, 16);
  } else if (current_.valid && std::memcmp(name, current_.name, 16) == 0) {
    key = &current_;
  } else if (previous_.valid && std::memcmp(name, previous_.name, 16) == 0) {
    key = &previous_;
    found = 2;  // decrypts, and the client gets a ticket under the current key
  } else {
    return 0;  // unknown or too old: a full handshake
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char *>(key->hmac), 32),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char *>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
  const int ok = encrypt ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes, iv)
                         : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes, iv);
  return ok == 1 ? found : -1;
}

int TicketKeys::ex_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int TicketKeys::callback(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cipher,
                         EVP_MAC_CTX *mac, int encrypt) {
  auto *keys = static_cast<TicketKeys *>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index()));
  return keys ? keys->use(name, iv, cipher, mac, encrypt) : -1;
}

}  // namespace axle::tls
