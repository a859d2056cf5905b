// Small text helpers shared by the engine's units: ASCII case-insensitive
// comparison and comma-separated header lists.
#pragma once

#include <axle/module.h>

#include <string_view>

namespace axle::http {

// `lower` must be lower case.
inline bool iequals(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != lower[i]) return false;
  }
  return true;
}
inline bool iequals(axle_str_t s, std::string_view lower) { return iequals(std::string_view(s.ptr, s.len), lower); }

inline std::string_view trim_ows(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Calls fn(token) for each comma-separated, trimmed, non-empty token.
template <class Fn>
void for_each_token(axle_str_t value, Fn fn) {
  std::string_view rest(value.ptr, value.len);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view token = trim_ows(rest.substr(0, comma));
    if (!token.empty()) fn(token);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
}

}  // namespace axle::http
