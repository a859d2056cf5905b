// The rule for header fields a module hands the host (response headers,
// trailers, early hints): a token name, a value without CR, LF or NUL (no
// injected lines), and none of the fields the kernel writes itself.
#pragma once

#include "http/char_class.h"
#include "http/tokens.h"

#include <axle/module.h>

namespace axle::http {

// Names the kernel writes itself (framing, Date, Server, Connection).
inline bool reserved_field(axle_str_t name) {
  switch (name.len) {
    case 4: return iequals(name, "date");
    case 6: return iequals(name, "server");
    case 10: return iequals(name, "connection");
    case 14: return iequals(name, "content-length");
    case 17: return iequals(name, "transfer-encoding");
    default: return false;
  }
}

[[gnu::always_inline]] inline bool valid_module_field(axle_str_t name, axle_str_t value) {
  if (name.len == 0 || !name.ptr || (value.len && !value.ptr)) return false;
  for (size_t i = 0; i < name.len; ++i)
    if (!kTokenChar[static_cast<unsigned char>(name.ptr[i])]) return false;
  for (size_t i = 0; i < value.len; ++i) {
    unsigned char c = static_cast<unsigned char>(value.ptr[i]);
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return !reserved_field(name);
}

inline bool valid_module_fields(const axle_header_t *fields, uint32_t count) {
  if (count && !fields) return false;
  for (uint32_t i = 0; i < count; ++i)
    if (!valid_module_field(fields[i].name, fields[i].value)) return false;
  return true;
}

}  // namespace axle::http
