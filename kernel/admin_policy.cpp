#include "admin_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace axle {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool valid_port(std::string_view port) {
  return !port.empty() && port.size() <= 5 &&
         std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         std::stoul(std::string(port)) <= 65535;
}

bool is_loopback_v4(const std::string &host) {
  in_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

}  // namespace

bool admin_host_allowed(std::string_view host, const std::vector<std::string> &names) {
  std::string name;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    name = lower(host.substr(0, close + 1));
    host.remove_prefix(close + 1);
  } else {
    size_t colon = host.find(':');
    name = lower(host.substr(0, colon));
    host.remove_prefix(colon == std::string_view::npos ? host.size() : colon);
  }
  if (!host.empty() && (host.front() != ':' || !valid_port(host.substr(1)))) return false;
  if (name == "localhost" || name == "[::1]" || is_loopback_v4(name)) return true;
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool admin_token_matches(std::string_view presented, std::string_view token) {
  if (token.empty()) return false;
  // Every byte of `presented` is compared (against the token, repeated), so
  // the time says nothing about where the first difference is.
  unsigned diff = presented.size() == token.size() ? 0 : 1;
  for (size_t i = 0; i < presented.size(); ++i) {
    diff |= static_cast<unsigned char>(presented[i]) ^ static_cast<unsigned char>(token[i % token.size()]);
  }
  return diff == 0;
}

std::optional<AdminRefusal> check_caller(const AdminRequest &request, const AdminPolicy &policy) {
  const std::string *host = request.field("host");
  if (!host) {
    // HTTP/1.0 has no Host; every browser sends one.
    if (request.minor >= 1) return AdminRefusal{400, "missing Host header"};
  } else if (!admin_host_allowed(*host, policy.hosts)) {
    return AdminRefusal{403, "Host must be a loopback address, localhost or a name in [admin] hosts"};
  }
  // Browsers send Origin on every cross-origin request and on every POST;
  // command-line clients never do.
  if (request.field("origin")) return AdminRefusal{403, "requests with an Origin header are refused"};
  if (const std::string *site = request.field("sec-fetch-site")) {
    std::string s = lower(*site);
    if (s != "same-origin" && s != "none") return AdminRefusal{403, "Sec-Fetch-Site " + *site + " is refused"};
  }
  if (!policy.token.empty()) {
    const std::string *auth = request.field("authorization");
    std::string_view presented;
    if (auth && auth->size() > 7 && lower(auth->substr(0, 7)) == "bearer ") {
      presented = std::string_view(*auth).substr(7);
      while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
    }
    if (!admin_token_matches(presented, policy.token)) {
      return AdminRefusal{401, auth ? "bad bearer token" : "missing Authorization: Bearer token"};
    }
  }
  return std::nullopt;
}

}  // namespace axle
