// What the kTLS handover hands the kernel, checked without the kernel: the
// key and IV derived from the server's traffic secret must open the server's
// next record at the sequence number the transport counts (the records sent
// since the handshake: its session tickets), and the record counter must
// count records whatever the split.
#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <cstring>
#include <string>

#include "harness.h"
#include "ktls.h"

namespace {

std::string g_server_secret;  // hex, from the client's keylog

void keylog(const SSL *, const char *line) {
  static const char kLabel[] = "SERVER_TRAFFIC_SECRET_0 ";
  if (std::strncmp(line, kLabel, sizeof kLabel - 1) == 0) g_server_secret = std::strrchr(line, ' ') + 1;
}

std::string unhex(const std::string &hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

// AES-128-GCM open of one TLS 1.3 record at `seq`; the inner plaintext, or "" when it does not authenticate.
std::string open_record(const std::string &record, const unsigned char key[16], const unsigned char iv[12],
                        uint64_t seq) {
  unsigned char nonce[12];
  std::memcpy(nonce, iv, 12);
  for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<unsigned char>(seq >> (8 * i));
  const auto *p = reinterpret_cast<const unsigned char *>(record.data());
  const int body = static_cast<int>(record.size()) - 5 - 16;
  std::string out(static_cast<size_t>(body), '\0');
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n = 0, fin = 0;
  EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), nullptr, key, nonce);
  EVP_DecryptUpdate(c, nullptr, &n, p, 5);  // the record header is the additional data
  EVP_DecryptUpdate(c, reinterpret_cast<unsigned char *>(out.data()), &n, p + 5, body);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, const_cast<unsigned char *>(p + 5 + body));
  const bool ok = EVP_DecryptFinal_ex(c, nullptr, &fin) == 1;
  EVP_CIPHER_CTX_free(c);
  return ok ? out : std::string();
}

}  // namespace

TEST_CASE("kTLS keys: the derived key and IV open the next record at the counted sequence") {
  fake::reset();
  axle_config_t cfg = harness::Server::config();
  cfg.strings["ciphersuites"] = "TLS_AES_128_GCM_SHA256";
  harness::Server server(cfg);
  harness::ClientOptions o;
  o.keylog = keylog;
  harness::Link l(server, o);
  l.run();
  REQUIRE(l.client_handshake_done());
  REQUIRE_FALSE(g_server_secret.empty());
  const size_t before = l.lower.wire.size();
  REQUIRE(l.send("abc") == AXLE_OK);
  l.run();
  const std::string record = l.lower.wire.substr(before);
  REQUIRE(record.size() == 5 + 3 + 1 + 16);  // one record: "abc", its inner type, the tag

  const std::string secret = unhex(g_server_secret);
  unsigned char key[16], iv[12];
  REQUIRE(axle::tls::tls13_traffic_key(EVP_sha256(), reinterpret_cast<const unsigned char *>(secret.data()),
                                       secret.size(), key, sizeof key, iv));
  int opened_at = -1;
  for (int seq = 0; seq < 8 && opened_at < 0; ++seq)
    if (open_record(record, key, iv, static_cast<uint64_t>(seq)) == std::string("abc\x17", 4)) opened_at = seq;
  CHECK(opened_at == 2);  // after the two session tickets (OpenSSL's default count)
}

TEST_CASE("kTLS record counter: headers and bodies split anywhere") {
  std::string stream;
  for (int len : {0, 1, 300, 16401})
    stream += std::string("\x17\x03\x03", 3) + static_cast<char>(len >> 8) + static_cast<char>(len & 0xff) +
              std::string(static_cast<size_t>(len), 'x');
  for (size_t step : {size_t{1}, size_t{2}, size_t{5}, size_t{7}, size_t{4096}, stream.size()}) {
    CAPTURE(step);
    axle::tls::RecordCounter counter;
    for (size_t i = 0; i < stream.size(); i += step)
      counter.feed(reinterpret_cast<const unsigned char *>(stream.data()) + i, std::min(step, stream.size() - i));
    CHECK(counter.records() == 4);
  }
}
