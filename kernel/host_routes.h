// Routes scoped by the request's Host: one router table per host scope (an
// exact name or a "*.suffix") plus the unscoped one, all built through the
// generation's router module, so every router serves host routing unchanged.
// Built on the control thread; read by every worker at once, with no lock.
#pragma once

#include "config.h"

#include <axle/metrics.h>  // AXLE_ROUTE_NONE
#include <axle/parser.h>
#include <axle/router.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace axle {

// Longest host name routing looks at (a DNS name has at most 253 bytes);
// a longer one matches no scope and gets the unscoped routes.
constexpr size_t kMaxRoutingHostBytes = 255;

// The host a request names, as routing compares it: the authority of an
// absolute-form target, else the Host field; userinfo, port and one trailing
// dot removed, lowercased into buf. Empty when there is none or it is too long.
std::string_view request_host(const axle_request_head_t &head, char (&buf)[kMaxRoutingHostBytes]);
// The same for one raw Host value or authority.
std::string_view normalize_host(std::string_view raw, char (&buf)[kMaxRoutingHostBytes]);

class HostRoutes {
 public:
  // One route as the generation hands it over; route_id is its index.
  struct Input {
    std::string_view pattern;  // empty for a fallback; must outlive the tables
    uint32_t method_mask;
    const std::vector<std::string> *hosts;  // empty: unscoped
    RouteFallback fallback;
    // With AXLE_METHOD_OTHER: the extension methods it takes; null or empty: every one.
    const std::vector<std::string> *extension_methods = nullptr;
  };
  struct Scope {
    void *table = nullptr;  // null: the scope has no path route
    uint32_t not_found = AXLE_ROUTE_NONE;           // fallback route ids
    uint32_t method_not_allowed = AXLE_ROUTE_NONE;
  };

  HostRoutes() = default;
  HostRoutes(const HostRoutes &) = delete;
  HostRoutes &operator=(const HostRoutes &) = delete;
  ~HostRoutes() { clear(); }
  // Destroys the tables (every worker must have stopped, the router instance
  // must still exist).
  void clear();

  // Builds every scope's table; false with error naming the scope on failure
  // (the tables built so far are destroyed with this object).
  bool build(const axle_router_vtable_t *vt, void *router_instance, const std::vector<Input> &routes,
             std::string &error);

  // The methods the server implements (RFC 9110 9.1), as AXLE_METHOD_* bits:
  // those of every path route in every scope, HEAD wherever GET is, and
  // OPTIONS (the server answers "OPTIONS *" itself). AXLE_METHOD_OTHER is in
  // it when some route takes every method (no `methods` key) or names
  // extension methods; then implements_extension() tells which. Any other
  // method is answered 501; one of these that a path does not allow, 405.
  uint32_t implemented() const { return implemented_; }
  bool implements_extension(std::string_view method) const {
    return every_extension_ || std::binary_search(extensions_.begin(), extensions_.end(), method);
  }
  // The extension methods routes name, joined for Allow ("MKCOL, PROPFIND").
  std::string_view extension_names() const { return extension_names_; }

  // True when some route has a host: otherwise lookup is skipped altogether.
  bool scoped() const { return names_.size() > 0; }
  // The scope for a normalized host, or null: the exact name, else the
  // longest matching "*.suffix". Cost: at most one binary search over the
  // configured names per label of the host (<= 128 labels of <= 255 bytes),
  // no allocation.
  const Scope *find(std::string_view host) const;
  const Scope &unscoped() const { return scopes_[0]; }

  // A route id's fallback for an answer of `status` (404 or 405) in `scope`
  // (null: unscoped): the scope's own, else the unscoped one, else NONE.
  uint32_t fallback(const Scope *scope, uint16_t status) const;

 private:
  const axle_router_vtable_t *vt_ = nullptr;
  void *instance_ = nullptr;
  uint32_t implemented_ = 0;
  bool every_extension_ = false;
  std::vector<std::string> extensions_;  // sorted, unique; compared as they are (case-sensitive)
  std::string extension_names_;          // the same joined for Allow
  std::vector<Scope> scopes_{1};  // [0] is the unscoped routes
  // Sorted by name: "a.example.com" (exact) or ".example.com" (from
  // "*.example.com"; the leading '.' keeps wildcards apart from exact names).
  std::vector<std::pair<std::string, uint32_t>> names_;
};

}  // namespace axle
