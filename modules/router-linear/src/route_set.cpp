#include "route_set.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_map>

namespace axle_router {
namespace {

// snprintf rather than std::to_string / std::unordered_map<std::string, std::vector>:
// those instantiate std templates with default visibility, which would leak
// weak symbols out of the module next to its one entry point.
std::string decimal(size_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%zu", value);
  return buf;
}

std::string hex(uint32_t value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", value);
  return buf;
}

// Pattern bytes as they appear in messages: non-printable bytes escaped so a
// stray control character in a config file is visible in the log.
std::string printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

// "route #3 (id 7) "/a/{x}"" — 1-based, as an operator counts [[route]] tables.
std::string describe(size_t index, uint32_t id, std::string_view pattern) {
  return "route #" + decimal(index + 1) + " (id " + decimal(id) + ") " + printable(pattern);
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Splits and validates one pattern. Returns "" on success, else the problem.
std::string parse_pattern(Route &route) {
  const std::string_view p = route.pattern;
  if (p.empty()) return "is empty";
  if (p[0] != '/') return "must start with '/'";
  if (p.find('\0') != std::string_view::npos) return "contains a NUL byte";

  uint32_t params = 0;
  size_t seg_start = 1;
  for (;;) {
    size_t seg_end = p.find('/', seg_start);
    const bool last = seg_end == std::string_view::npos;
    if (last) seg_end = p.size();
    const std::string_view seg = p.substr(seg_start, seg_end - seg_start);
    const auto offset = static_cast<uint32_t>(seg_start);

    if (route.segments.size() == kMaxSegments)
      return "has more than " + decimal(kMaxSegments) + " segments";

    if (seg.empty()) {
      // Only the last segment may be empty: "/" and "/dir/" are exact paths.
      if (!last) return "has an empty segment (\"//\")";
      route.segments.push_back({SegmentKind::Literal, offset, 0});
    } else if (seg == "*") {
      if (!last) return "has '*' before the end ('*' must be the last segment)";
      route.segments.push_back({SegmentKind::Wildcard, offset, 1});
      ++route.capture_count;
    } else if (seg.find('*') != std::string_view::npos) {
      return "has '*' inside a segment ('*' must be a whole last segment, as in \"/static/*\")";
    } else if (seg[0] == '{') {
      const size_t close = seg.find('}');
      if (close == std::string_view::npos) return "has '{' without a closing '}' in segment " + printable(seg);
      const std::string_view name = seg.substr(1, close - 1);
      if (name.empty()) return "has an empty parameter name \"{}\"";
      for (char c : name)
        if (!is_name_char(c))
          return "has parameter name " + printable(name) + " with a character outside [A-Za-z0-9_]";
      if (close + 1 != seg.size())
        return seg[close + 1] == '{' ? "has two parameters in one segment " + printable(seg)
                                     : "has text after a parameter in segment " + printable(seg) +
                                           " (a parameter must be a whole segment)";
      for (const Segment &s : route.segments)
        if (s.kind == SegmentKind::Param && route.text(s) == name)
          return "uses parameter name " + printable(name) + " twice";
      if (++params > kMaxParams) return "has more than " + decimal(kMaxParams) + " parameters";
      route.segments.push_back({SegmentKind::Param, offset + 1, static_cast<uint32_t>(name.size())});
      ++route.capture_count;
    } else if (seg.find('{') != std::string_view::npos) {
      return "has text before a parameter in segment " + printable(seg) + " (a parameter must be a whole segment)";
    } else if (seg.find('}') != std::string_view::npos) {
      return "has '}' without '{' in segment " + printable(seg);
    } else {
      route.segments.push_back({SegmentKind::Literal, offset, static_cast<uint32_t>(seg.size())});
    }

    if (last) return "";
    seg_start = seg_end + 1;
  }
}

// The pattern with parameter names blanked: two routes of the same shape
// match exactly the same paths with the same precedence.
std::string shape_of(const Route &route) {
  std::string shape;
  shape.reserve(route.pattern.size());
  for (const Segment &s : route.segments) {
    shape += '/';
    if (s.kind == SegmentKind::Param)
      shape += "{}";
    else
      shape += route.text(s);
  }
  return shape;
}

// Indices into the parsed routes of the routes sharing one shape.
struct SameShape {
  std::vector<size_t> indices;
};

}  // namespace

std::string method_names(uint32_t mask) {
  static constexpr const char *kNames[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "OTHER"};
  std::string out;
  for (unsigned bit = 0; bit < 8; ++bit) {
    if (!(mask & (1u << bit))) continue;
    if (!out.empty()) out += '|';
    out += kNames[bit];
  }
  return out;
}

ParseResult parse_routes(const axle_route_spec_t *routes, size_t count, std::vector<Route> &out) {
  ParseResult result;
  auto fail = [&](std::string message) {
    result.status = AXLE_ERR_INVALID;
    result.error = std::move(message);
    return result;
  };
  out.clear();
  if (count == 0) return result;
  if (!routes) return fail("route list is NULL but count is " + decimal(count));

  const uint32_t stride = routes[0].struct_size;
  if (stride < kRouteSpec_1_0)
    return fail("route #1: struct_size " + decimal(stride) + " is smaller than a 1.0 axle_route_spec_t (" +
                decimal(kRouteSpec_1_0) + ")");

  out.reserve(count);
  std::unordered_map<std::string, SameShape> by_shape;
  const auto *base = reinterpret_cast<const unsigned char *>(routes);
  for (size_t i = 0; i < count; ++i) {
    // Copy only what the entry holds; a field it lacks keeps its zero default.
    axle_route_spec_t spec{};
    std::memcpy(&spec, base + i * stride, std::min<size_t>(stride, sizeof spec));
    if (spec.struct_size != stride)
      return fail("route #" + decimal(i + 1) + ": struct_size " + decimal(spec.struct_size) +
                  " differs from route #1's " + decimal(stride));
    if (!spec.pattern.ptr && spec.pattern.len)
      return fail("route #" + decimal(i + 1) + ": pattern pointer is NULL");

    Route route;
    route.id = spec.route_id;
    route.method_mask = spec.method_mask;
    route.pattern.assign(spec.pattern.ptr ? spec.pattern.ptr : "", spec.pattern.len);
    const std::string who = describe(i, route.id, route.pattern);

    if (std::string problem = parse_pattern(route); !problem.empty()) return fail(who + ": pattern " + problem);
    if (route.method_mask == 0) return fail(who + ": accepts no method (method_mask is 0)");
    if (route.method_mask & ~uint32_t{AXLE_METHOD_ANY})
      return fail(who + ": unknown method bits in method_mask " + hex(route.method_mask & ~uint32_t{AXLE_METHOD_ANY}));

    std::vector<size_t> &same_shape = by_shape[shape_of(route)].indices;
    for (size_t j : same_shape) {
      const Route &earlier = out[j];
      const uint32_t overlap = earlier.method_mask & route.method_mask;
      if (!overlap) continue;
      const std::string both = who + (earlier.pattern == route.pattern ? " duplicates " : " is shadowed by ") +
                               describe(j, earlier.id, earlier.pattern) + " for " + method_names(overlap);
      if (earlier.pattern == route.pattern) return fail(both);
      // Same paths, different parameter names: config order decides, as
      // the ABI promises, but the operator should know the later one is dead.
      result.warnings.push_back(both + " (same shape; the earlier route wins)");
    }
    same_shape.push_back(i);
    out.push_back(std::move(route));
  }
  return result;
}

}  // namespace axle_router
