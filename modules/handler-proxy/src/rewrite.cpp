#include "rewrite.h"

namespace axle::proxy {

namespace {

// "http://host:port/p?q" -> "/p?q"; origin form unchanged. A "?q" left
// without a path gets its '/' in rewrite_target.
std::string_view origin_form(std::string_view target) {
  size_t scheme = target.find("://");
  if (target.empty() || target[0] == '/' || scheme == std::string_view::npos) return target;
  size_t slash = target.find_first_of("/?", scheme + 3);
  if (slash == std::string_view::npos) return "/";
  return target.substr(slash);
}

// Percent-encodes what may not appear raw in a path segment (RFC 3986 pchar and '/').
void append_encoded_path(std::string &out, std::string_view path) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : path) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 std::string_view("-._~!$&'()*+,;=:@/").find(static_cast<char>(c)) != std::string_view::npos;
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
}

}  // namespace

std::string_view literal_prefix(std::string_view pattern) {
  return pattern.substr(0, pattern.find_first_of("*{"));
}

std::string rewrite_target(std::string_view target, std::string_view path, std::string_view query,
                           std::string_view prefix, std::string_view rewrite) {
  std::string_view origin = origin_form(target);
  std::string out(rewrite);
  if (rewrite.empty()) {
    out.assign(origin);
  } else if (origin.substr(0, prefix.size()) == prefix) {
    out.append(origin.substr(prefix.size()));
  } else {
    // The raw target spells the prefix differently (percent-encoded): rebuild it from the decoded path.
    append_encoded_path(out, path.substr(0, prefix.size()) == prefix ? path.substr(prefix.size()) : path);
    if (!query.empty()) {
      out.push_back('?');
      out.append(query);
    }
  }
  if (out.empty() || out[0] != '/') out.insert(0, 1, '/');
  return out;
}

}  // namespace axle::proxy
