// The [tls] options: the key tables (one place for names, defaults and docs)
// and their reading into plain values. No OpenSSL here.
#pragma once

#include <axle/module.h>

#include <cstdint>
#include <string>
#include <vector>

namespace axle::tls {

extern const axle_config_key_t kConfigKeys[];
extern const size_t kConfigKeyCount;
extern const axle_config_section_t kConfigSections[];
extern const size_t kConfigSectionCount;

// One certificate and key, as absolute paths, with where they were written.
struct CertificateFiles {
  std::string certificate, key;
  std::string certificate_position, key_position;  // "FILE:LINE: key" for messages
};

// One [tls.sni.NAME] table.
struct SniEntry {
  std::string name;                // NAME
  std::vector<std::string> hosts;  // lowercase; "*.example.com" matches one label
  CertificateFiles files;
};

struct Settings {
  CertificateFiles files;
  int min_version = 0, max_version = 0;  // TLS1_2_VERSION / TLS1_3_VERSION
  std::string ciphers, ciphersuites;
  std::vector<std::string> alpn;  // server preference order
  bool session_tickets = true;
  uint64_t ticket_key_rotation_s = 3600, session_timeout_s = 3600;
  uint64_t handshake_timeout_ms = 10000;
  uint32_t max_handshakes = 1024;
  bool kernel_tls = true;
  bool seal_records = true;
  std::vector<SniEntry> sni;
};

// Reads and checks every key. false with *error set (naming the key's position) on a bad value.
bool read_settings(const axle_host_api_t *host, const axle_config_t *cfg, Settings *out, std::string *error);

// "FILE:LINE: key" when the host knows it (ABI 1.3), else "tls.<key>".
std::string position_of(const axle_host_api_t *host, const axle_config_t *cfg, const char *key);

}  // namespace axle::tls
