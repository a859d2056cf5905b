#include "validators.h"

#include "field_text.h"
#include "http_date.h"

namespace axle::static_handler {
namespace {

// Reads decimal digits into out, saturating at UINT64_MAX (a huge position is
// simply past the end). False if there is no digit or a non-digit follows.
bool parse_position(std::string_view s, uint64_t &out) {
  if (s.empty()) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    out = out > (UINT64_MAX - digit) / 10 ? UINT64_MAX : out * 10 + digit;
  }
  return true;
}

bool unit_is_bytes(std::string_view unit) {
  constexpr std::string_view kBytes = "bytes";
  if (unit.size() != kBytes.size()) return false;
  for (size_t i = 0; i < unit.size(); ++i)
    if ((unit[i] | 0x20) != kBytes[i]) return false;
  return true;
}

}  // namespace

bool etag_list_matches(std::string_view header, std::string_view etag, bool weak) {
  header = trim_ows(header);
  if (header == "*") return true;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = trim_ows(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    if (item.size() >= 2 && item[0] == 'W' && item[1] == '/') {
      if (!weak) continue;
      item.remove_prefix(2);
    }
    if (item == etag) return true;
  }
  return false;
}

bool if_range_matches(std::string_view header, std::string_view etag, int64_t mtime_sec) {
  header = trim_ows(header);
  if (!header.empty() && (header.front() == '"' || header.starts_with("W/")))
    return header == etag;  // strong comparison: a weak tag never matches
  int64_t date;
  return parse_http_date(header, date) && date == mtime_sec;
}

ByteRange parse_range(std::string_view header, uint64_t size) {
  ByteRange r;
  const size_t eq = header.find('=');
  if (eq == std::string_view::npos || !unit_is_bytes(trim_ows(header.substr(0, eq)))) return r;
  const std::string_view spec = trim_ows(header.substr(eq + 1));
  if (spec.find(',') != std::string_view::npos) return r;  // several ranges: serve it whole
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return r;
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);

  if (first_text.empty()) {  // suffix: the last n bytes
    uint64_t n;
    if (!parse_position(last_text, n)) return r;
    if (n == 0 || size == 0) {
      r.kind = ByteRange::kUnsatisfiable;
      return r;
    }
    r.kind = ByteRange::kSatisfiable;
    r.first = n >= size ? 0 : size - n;
    r.last = size - 1;
    return r;
  }

  uint64_t first, last = UINT64_MAX;
  if (!parse_position(first_text, first)) return r;
  if (!last_text.empty() && (!parse_position(last_text, last) || last < first)) return r;
  if (first >= size) {
    r.kind = ByteRange::kUnsatisfiable;
    return r;
  }
  r.kind = ByteRange::kSatisfiable;
  r.first = first;
  r.last = last >= size ? size - 1 : last;
  return r;
}

}  // namespace axle::static_handler
