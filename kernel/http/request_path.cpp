#include "http/request_path.h"

#include <vector>

namespace axle::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view raw, std::string &out) {
  out.clear();
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out.push_back(raw[i]);
      continue;
    }
    if (i + 2 >= raw.size()) return false;  // "%" or "%x" at the end
    int hi = hex_value(raw[i + 1]), lo = hex_value(raw[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

}  // namespace

bool normalize_request_path(std::string_view raw, std::string &out) {
  if (raw.empty()) {
    out = "/";
    return true;
  }
  if (raw.front() != '/') return false;
  // Most paths need no work: no escapes, no dot segments, no empty segments.
  bool clean = true;
  for (size_t i = 0; i < raw.size() && clean; ++i) {
    char c = raw[i];
    if (c == '%') clean = false;
    else if (c == '/' && i + 1 < raw.size() && (raw[i + 1] == '/' || raw[i + 1] == '.')) clean = false;
  }
  if (clean) {
    out.assign(raw);
    return true;
  }
  std::string decoded;
  if (!percent_decode(raw, decoded)) return false;

  // Resolve dot segments; empty segments ("//") merge into one slash.
  std::vector<std::string_view> kept;
  bool trailing_slash = false;
  std::string_view rest(decoded);
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the '/'
    size_t end = rest.find('/');
    std::string_view seg = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    bool last = rest.empty();
    if (seg == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (!seg.empty() && seg != ".") {
      kept.push_back(seg);
    }
    if (last) trailing_slash = seg.empty() || seg == "." || seg == "..";
  }
  out.clear();
  for (std::string_view seg : kept) {
    out.push_back('/');
    out.append(seg);
  }
  if (out.empty() || trailing_slash) out.push_back('/');
  return true;
}

}  // namespace axle::http
