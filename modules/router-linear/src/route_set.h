// Parsing and validation of a router's route list: pattern syntax, limits,
// duplicate routes. Both router modules compile this file (router-radix from
// here), so they accept and refuse exactly the same route lists with the same
// messages; the router unit tests check that they agree.
#pragma once

#include <axle/router.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace axle_router {

// Limits that keep match() free of allocation and its recursion shallow.
inline constexpr size_t kMaxParams = 32;     // "{name}" segments per pattern ("*" not counted)
inline constexpr size_t kMaxSegments = 128;  // path segments per pattern
// Captures a match can produce: every param plus the wildcard.
inline constexpr size_t kMaxCaptures = kMaxParams + 1;

enum class SegmentKind : uint8_t { Literal, Param, Wildcard };

// One '/'-separated piece of a pattern. offset/length locate the literal
// text (Literal), the name without braces (Param) or the "*" (Wildcard)
// inside Route::pattern; offsets survive moving the Route, pointers would not.
struct Segment {
  SegmentKind kind;
  uint32_t offset;
  uint32_t length;
};

struct Route {
  uint32_t id = 0;
  uint32_t method_mask = 0;
  std::string pattern;  // owned copy of the host's pattern
  std::vector<Segment> segments;
  uint32_t capture_count = 0;  // params + wildcard, in pattern order

  std::string_view text(const Segment &s) const { return std::string_view(pattern).substr(s.offset, s.length); }
  bool ends_with_wildcard() const { return !segments.empty() && segments.back().kind == SegmentKind::Wildcard; }
};

struct ParseResult {
  axle_status_t status = AXLE_OK;
  std::string error;                  // set when status != AXLE_OK
  std::vector<std::string> warnings;  // routes shadowed by an earlier one of the same shape
};

// The least a caller's struct may hold: every 1.0 field, up to the end of the
// last one. A host of another minor may compile them smaller or larger than
// this module's sizeof; only 1.0 fields are read or written. (Plain offsetof
// rather than AXLE_STRUCT_HAS: these sources also build against the 1.0
// headers, see tests/fixtures/abi-compat.)
inline constexpr size_t kRouteSpec_1_0 = offsetof(axle_route_spec_t, route_id) + sizeof(uint32_t);
inline constexpr size_t kRouteMatch_1_0 = offsetof(axle_route_match_t, param_count) + sizeof(uint32_t);
inline bool match_holds_1_0(const axle_route_match_t *out) { return out->struct_size >= kRouteMatch_1_0; }

// Parses routes[0..count) (array stride = routes[0].struct_size, so a host
// built against another ABI minor, with a smaller or larger struct, works) into out,
// in config order. Fails on the first invalid route, or on two routes with the
// same pattern and overlapping methods. May throw std::bad_alloc.
ParseResult parse_routes(const axle_route_spec_t *routes, size_t count, std::vector<Route> &out);

// "GET|POST" for a method mask.
std::string method_names(uint32_t mask);

}  // namespace axle_router
