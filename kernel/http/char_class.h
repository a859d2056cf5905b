// Byte classes from RFC 9110, as lookup tables (one load per byte on the
// request path instead of a strchr).
#pragma once

#include <array>
#include <string_view>

namespace axle::http {

constexpr std::array<bool, 256> make_class(std::string_view extra, bool alnum) {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[c] = alnum && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
  for (char c : extra) t[static_cast<unsigned char>(c)] = true;
  return t;
}

// tchar: header field names.
inline constexpr std::array<bool, 256> kTokenChar = make_class("!#$%&'*+-.^_`|~", true);
// uri-host [":" port]: reg-name, IP-literal and port bytes.
inline constexpr std::array<bool, 256> kHostChar = make_class("-._~%!$&'()*+,;=:[]", true);

}  // namespace axle::http
