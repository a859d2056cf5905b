// The [tls] keys and their validation (what `axle --check` reports).
#include "settings.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>

namespace axle::tls {

// Modern ECDHE + AEAD only: forward secrecy, no CBC, no RSA key exchange.
#define AXLE_TLS_DEFAULT_CIPHERS                                                                        \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"           \
  "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define AXLE_TLS_DEFAULT_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

const axle_config_key_t kConfigKeys[] = {
    {"certificate", AXLE_CONFIG_STRING, nullptr, "PEM certificate chain (leaf first), relative to the config file"},
    {"key", AXLE_CONFIG_STRING, nullptr, "PEM private key of the certificate, relative to the config file"},
    {"protocols", AXLE_CONFIG_STRING_LIST, "TLSv1.2,TLSv1.3", "TLS versions offered: TLSv1.2 and/or TLSv1.3"},
    {"ciphers", AXLE_CONFIG_STRING, AXLE_TLS_DEFAULT_CIPHERS, "TLS 1.2 cipher list (OpenSSL syntax)"},
    {"ciphersuites", AXLE_CONFIG_STRING, AXLE_TLS_DEFAULT_SUITES, "TLS 1.3 cipher suites (OpenSSL syntax)"},
    // http/1.0 too: clients speaking 1.0 offer only it (curl -0), and the HTTP/1.1 engine serves 1.0.
    {"alpn", AXLE_CONFIG_STRING_LIST, "http/1.1,http/1.0",
     "application protocols selected by ALPN, in server preference; a client offering none of them is refused"},
    {"session_tickets", AXLE_CONFIG_BOOL, "true", "resume sessions with stateless tickets"},
    {"ticket_key_rotation_s", AXLE_CONFIG_INT, "3600",
     "seconds a ticket key encrypts; it still decrypts for one more period (keys are per instance: a reload makes new ones)"},
    {"session_timeout_s", AXLE_CONFIG_INT, "3600", "lifetime of a resumable session (ticket), seconds"},
    {"handshake_timeout_ms", AXLE_CONFIG_INT, "10000", "a handshake not finished by then is closed and counted"},
    {"max_handshakes", AXLE_CONFIG_INT, "1024", "concurrent handshakes per worker; connections beyond are refused"},
    {"kernel_tls", AXLE_CONFIG_BOOL, "true",
     "hand TLS 1.3 AES-GCM sending to the kernel (tls ULP) after the handshake, when the kernel offers it"},
    {"seal_records", AXLE_CONFIG_BOOL, "true",
     "without kTLS, seal TLS 1.3 AES-GCM records in the module (fewer copies per byte sent; costs OpenSSL's "
     "key log formatting, about 8% of a full handshake)"},
};
const size_t kConfigKeyCount = sizeof(kConfigKeys) / sizeof(kConfigKeys[0]);

const axle_config_key_t kSniKeys[] = {
    {"names", AXLE_CONFIG_STRING_LIST, nullptr, "host names served with this certificate; \"*.example.com\" = one label"},
    {"certificate", AXLE_CONFIG_STRING, nullptr, "PEM certificate chain for these names, relative to the config file"},
    {"key", AXLE_CONFIG_STRING, nullptr, "PEM private key of that certificate"},
};

const axle_config_section_t kConfigSections[] = {
    {"sni", "[tls.sni.NAME]: another certificate, chosen when the client asks for one of its names",
     kSniKeys, sizeof(kSniKeys) / sizeof(kSniKeys[0])},
};
const size_t kConfigSectionCount = sizeof(kConfigSections) / sizeof(kConfigSections[0]);

namespace {

bool has_13(const axle_host_api_t *host) {
  return AXLE_STRUCT_HAS(host, axle_host_api_t, config_position) && host->config_get_string_list &&
         host->config_section_count && host->config_section_at && host->config_position;
}

std::string absolute(const axle_host_api_t *host, const axle_config_t *cfg, const std::string &path) {
  if (!path.empty() && path[0] == '/') return path;
  const char *base = host->config_base_dir ? host->config_base_dir(cfg) : nullptr;
  return std::string(base && *base ? base : ".") + "/" + path;
}

bool get_string(const axle_host_api_t *host, const axle_config_t *cfg, const char *key, std::string *out,
                std::string *error) {
  axle_str_t s{};
  if (host->config_get_string(cfg, key, &s) != AXLE_OK) {
    *error = position_of(host, cfg, key) + ": cannot be read";
    return false;
  }
  out->assign(s.ptr ? s.ptr : "", s.len);
  return true;
}

bool get_list(const axle_host_api_t *host, const axle_config_t *cfg, const char *key, std::vector<std::string> *out,
              std::string *error) {
  const axle_str_t *items = nullptr;
  size_t count = 0;
  if (host->config_get_string_list(cfg, key, &items, &count) != AXLE_OK) {
    *error = position_of(host, cfg, key) + ": cannot be read";
    return false;
  }
  out->clear();
  for (size_t i = 0; i < count; ++i) out->emplace_back(items[i].ptr ? items[i].ptr : "", items[i].len);
  return true;
}

bool get_int(const axle_host_api_t *host, const axle_config_t *cfg, const char *key, int64_t lo, int64_t hi,
             int64_t *out, std::string *error) {
  if (host->config_get_int(cfg, key, out) != AXLE_OK || *out < lo || *out > hi) {
    *error = position_of(host, cfg, key) + ": must be an integer in [" + std::to_string(lo) + ", " +
             std::to_string(hi) + "]";
    return false;
  }
  return true;
}

bool get_bool(const axle_host_api_t *host, const axle_config_t *cfg, const char *key, bool *out, std::string *error) {
  int v = 0;
  if (host->config_get_bool(cfg, key, &v) != AXLE_OK) {
    *error = position_of(host, cfg, key) + ": cannot be read";
    return false;
  }
  *out = v != 0;
  return true;
}

bool read_files(const axle_host_api_t *host, const axle_config_t *cfg, CertificateFiles *out, std::string *error) {
  std::string cert, key;
  if (!get_string(host, cfg, "certificate", &cert, error) || !get_string(host, cfg, "key", &key, error)) return false;
  for (auto [value, name] : {std::pair{&cert, "certificate"}, std::pair{&key, "key"}})
    if (value->empty()) {
      *error = position_of(host, cfg, name) + ": a file name is required";
      return false;
    }
  out->certificate = absolute(host, cfg, cert);
  out->key = absolute(host, cfg, key);
  out->certificate_position = position_of(host, cfg, "certificate");
  out->key_position = position_of(host, cfg, "key");
  return true;
}

bool read_protocols(const axle_host_api_t *host, const axle_config_t *cfg, Settings *out, std::string *error) {
  std::vector<std::string> list;
  if (!get_list(host, cfg, "protocols", &list, error)) return false;
  for (const std::string &p : list) {
    int v = p == "TLSv1.2" ? TLS1_2_VERSION : p == "TLSv1.3" ? TLS1_3_VERSION : 0;
    if (v == 0) {
      *error = position_of(host, cfg, "protocols") + ": \"" + p + "\" is not one of TLSv1.2, TLSv1.3";
      return false;
    }
    out->min_version = out->min_version ? std::min(out->min_version, v) : v;
    out->max_version = std::max(out->max_version, v);
  }
  if (list.empty()) {
    *error = position_of(host, cfg, "protocols") + ": at least one protocol is required";
    return false;
  }
  return true;
}

bool read_alpn(const axle_host_api_t *host, const axle_config_t *cfg, Settings *out, std::string *error) {
  if (!get_list(host, cfg, "alpn", &out->alpn, error)) return false;
  for (const std::string &p : out->alpn)
    if (p.empty() || p.size() > 255) {
      *error = position_of(host, cfg, "alpn") + ": a protocol name is 1 to 255 bytes";
      return false;
    }
  return true;
}

// "example.com" or "*.example.com": letters, digits, '-', '.'; stored lowercase.
bool valid_host_pattern(std::string *name) {
  std::transform(name->begin(), name->end(), name->begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view rest = *name;
  if (rest.substr(0, 2) == "*.") rest.remove_prefix(2);
  if (rest.empty() || rest.front() == '.' || rest.back() == '.') return false;
  return std::all_of(rest.begin(), rest.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; });
}

bool read_sni(const axle_host_api_t *host, const axle_config_t *cfg, Settings *out, std::string *error) {
  const size_t count = host->config_section_count(cfg, "sni");
  for (size_t i = 0; i < count; ++i) {
    axle_str_t name{};
    const axle_config_t *table = nullptr;
    if (host->config_section_at(cfg, "sni", i, &name, &table) != AXLE_OK || !table) {
      *error = position_of(host, cfg, nullptr) + ": cannot read tls.sni table " + std::to_string(i);
      return false;
    }
    SniEntry entry;
    entry.name.assign(name.ptr ? name.ptr : "", name.len);
    if (!get_list(host, table, "names", &entry.hosts, error) || !read_files(host, table, &entry.files, error))
      return false;
    if (entry.hosts.empty()) {
      *error = position_of(host, table, "names") + ": at least one host name is required";
      return false;
    }
    for (std::string &h : entry.hosts)
      if (!valid_host_pattern(&h)) {
        *error = position_of(host, table, "names") + ": \"" + h + "\" is not a host name or *.domain wildcard";
        return false;
      }
    out->sni.push_back(std::move(entry));
  }
  return true;
}

}  // namespace

std::string position_of(const axle_host_api_t *host, const axle_config_t *cfg, const char *key) {
  if (AXLE_STRUCT_HAS(host, axle_host_api_t, config_position) && host->config_position) {
    const char *p = host->config_position(cfg, key);
    if (p && *p) return p;
  }
  return key ? std::string("tls.") + key : std::string("tls");
}

bool read_settings(const axle_host_api_t *host, const axle_config_t *cfg, Settings *out, std::string *error) {
  if (!has_13(host)) {
    *error = "the openssl transport needs a host of ABI 1.3 or later (string lists, sections)";
    return false;
  }
  int64_t rotation = 0, timeout = 0, handshake_ms = 0, max_handshakes = 0;
  if (!read_files(host, cfg, &out->files, error) || !read_protocols(host, cfg, out, error) ||
      !get_string(host, cfg, "ciphers", &out->ciphers, error) ||
      !get_string(host, cfg, "ciphersuites", &out->ciphersuites, error) || !read_alpn(host, cfg, out, error) ||
      !get_bool(host, cfg, "session_tickets", &out->session_tickets, error) ||
      !get_int(host, cfg, "ticket_key_rotation_s", 1, 7 * 86400, &rotation, error) ||
      !get_int(host, cfg, "session_timeout_s", 1, 7 * 86400, &timeout, error) ||
      !get_int(host, cfg, "handshake_timeout_ms", 1, 600000, &handshake_ms, error) ||
      !get_int(host, cfg, "max_handshakes", 1, 1000000, &max_handshakes, error) ||
      !get_bool(host, cfg, "kernel_tls", &out->kernel_tls, error) ||
      !get_bool(host, cfg, "seal_records", &out->seal_records, error) || !read_sni(host, cfg, out, error))
    return false;
  out->ticket_key_rotation_s = static_cast<uint64_t>(rotation);
  out->session_timeout_s = static_cast<uint64_t>(timeout);
  out->handshake_timeout_ms = static_cast<uint64_t>(handshake_ms);
  out->max_handshakes = static_cast<uint32_t>(max_handshakes);
  return true;
}

}  // namespace axle::tls
