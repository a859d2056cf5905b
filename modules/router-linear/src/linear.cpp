// router "linear": the plain twin of router "radix". Patterns are split into
// segments at build; match() tries every route against the path and keeps
// the most specific one that accepts the method. O(routes x path length) per
// lookup, no allocation, no shared mutable state.
#include <axle/module.h>
#include <axle/router.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "route_set.h"

// The ABI compatibility fixtures (tests/fixtures/abi-compat) compile these
// sources against other minors' headers under another module name.
#ifndef AXLE_MODULE_NAME
#define AXLE_MODULE_NAME "linear"
#endif

namespace {

using axle_router::kMaxCaptures;
using axle_router::Route;
using axle_router::Segment;
using axle_router::SegmentKind;

struct Instance {
  const axle_host_api_t *host;
  const axle_config_t *config;
};

struct Table {
  std::vector<Route> routes;
  // Capture names of route i start at names[name_begin[i]]; they point into
  // routes[i].pattern, which never moves once build() returns.
  std::vector<axle_str_t> names;
  std::vector<uint32_t> name_begin;
};

void set_error(const Instance *inst, axle_error_t *err, const std::string &msg) {
  inst->host->error_set(err, msg.data(), msg.size());
}

// Matches one route against path (which starts with '/'), writing its
// captures (params, then the wildcard's rest) to caps.
bool match_route(const Route &route, const char *path, size_t len, axle_str_t *caps) {
  size_t pos = 1;  // start of the current path segment
  uint32_t ncaps = 0;
  for (const Segment &seg : route.segments) {
    if (seg.kind == SegmentKind::Wildcard) {
      // "/static/*" also matches "/static": then pos == len + 1 and the rest is empty.
      caps[ncaps] = pos <= len ? axle_str_t{path + pos, len - pos} : axle_str_t{path + len, 0};
      return true;
    }
    if (pos > len) return false;  // the path has fewer segments than the pattern
    const void *slash = std::memchr(path + pos, '/', len - pos);
    const size_t end = slash ? static_cast<size_t>(static_cast<const char *>(slash) - path) : len;
    if (seg.kind == SegmentKind::Literal) {
      if (end - pos != seg.length || std::memcmp(path + pos, route.pattern.data() + seg.offset, seg.length) != 0)
        return false;
    } else {
      if (end == pos) return false;  // a param never matches an empty segment
      caps[ncaps++] = {path + pos, end - pos};
    }
    pos = end + 1;
  }
  return pos == len + 1;  // every path segment consumed
}

// Precedence of what a pattern has at segment k: literal > param > end of
// pattern > wildcard. Two patterns matching the same path can only differ
// by kind at a segment, and "end" only meets a wildcard matching nothing
// ("/static" against "/static/*" on the path "/static").
int rank_at(const Route &route, size_t k) {
  if (k >= route.segments.size()) return 1;
  switch (route.segments[k].kind) {
    case SegmentKind::Literal: return 3;
    case SegmentKind::Param: return 2;
    case SegmentKind::Wildcard: return 0;
  }
  return 0;
}

// Whether a (matching the same path as b) is strictly more specific; equal
// shapes keep the earlier route, which is config order.
bool more_specific(const Route &a, const Route &b) {
  const size_t n = std::max(a.segments.size(), b.segments.size());
  for (size_t k = 0; k < n; ++k) {
    const int ra = rank_at(a, k), rb = rank_at(b, k);
    if (ra != rb) return ra > rb;
  }
  return false;
}

axle_status_t create(const axle_host_api_t *host, const axle_config_t *cfg, void **instance_out, axle_error_t *err) {
  auto *inst = new (std::nothrow) Instance{host, cfg};
  if (!inst) {
    static constexpr char kMsg[] = "router linear: out of memory";
    host->error_set(err, kMsg, sizeof kMsg - 1);
    return AXLE_ERR_NOMEM;
  }
  *instance_out = inst;
  return AXLE_OK;
}

void destroy(void *instance) { delete static_cast<Instance *>(instance); }

axle_status_t build(void *instance, const axle_route_spec_t *routes, size_t count, void **table_out,
                    axle_error_t *err) {
  const auto *inst = static_cast<const Instance *>(instance);
  try {
    if (!table_out) {
      set_error(inst, err, "router linear: table_out is NULL");
      return AXLE_ERR_INVALID;
    }
    auto table = std::make_unique<Table>();
    axle_router::ParseResult parsed = axle_router::parse_routes(routes, count, table->routes);
    if (parsed.status != AXLE_OK) {
      set_error(inst, err, parsed.error);
      return parsed.status;
    }
    for (const std::string &w : parsed.warnings) inst->host->log(inst->config, AXLE_LOG_WARN, w.data(), w.size());

    table->name_begin.reserve(table->routes.size());
    for (const Route &route : table->routes) {
      table->name_begin.push_back(static_cast<uint32_t>(table->names.size()));
      for (const Segment &seg : route.segments)
        if (seg.kind != SegmentKind::Literal) table->names.push_back({route.pattern.data() + seg.offset, seg.length});
    }
    *table_out = table.release();
    return AXLE_OK;
  } catch (const std::bad_alloc &) {
    set_error(inst, err, "router linear: out of memory building the route table");
    return AXLE_ERR_NOMEM;
  } catch (...) {
    set_error(inst, err, "router linear: unexpected exception building the route table");
    return AXLE_ERR_INTERNAL;
  }
}

void table_destroy(void *, void *table) { delete static_cast<Table *>(table); }

axle_route_result_t match(const void *table_ptr, uint32_t method_bit, axle_str_t path, axle_route_match_t *out) {
  if (!out || !axle_router::match_holds_1_0(out)) return AXLE_ROUTE_NOT_FOUND;
  out->route_id = 0;
  out->allowed_methods = 0;
  out->param_count = 0;
  const auto *table = static_cast<const Table *>(table_ptr);
  if (!table || path.len == 0 || path.ptr[0] != '/') return AXLE_ROUTE_NOT_FOUND;

  axle_str_t caps[kMaxCaptures];
  const Route *best = nullptr;
  size_t best_index = 0;
  uint32_t allowed = 0;
  for (size_t i = 0; i < table->routes.size(); ++i) {
    const Route &route = table->routes[i];
    if (!match_route(route, path.ptr, path.len, caps)) continue;
    allowed |= route.method_mask;
    if ((route.method_mask & method_bit) && (!best || more_specific(route, *best))) {
      best = &route;
      best_index = i;
    }
  }
  if (!best) {
    if (!allowed) return AXLE_ROUTE_NOT_FOUND;
    out->allowed_methods = allowed;
    return AXLE_ROUTE_METHOD_NOT_ALLOWED;
  }
  // More captures than the caller has room for: documented as NOT_FOUND.
  if (best->capture_count > out->param_capacity) return AXLE_ROUTE_NOT_FOUND;
  match_route(*best, path.ptr, path.len, caps);  // recapture: cheaper than copying on every candidate
  const axle_str_t *names = table->names.data() + table->name_begin[best_index];
  for (uint32_t k = 0; k < best->capture_count; ++k) out->params[k] = {names[k], caps[k]};
  out->param_count = best->capture_count;
  out->route_id = best->id;
  return AXLE_ROUTE_FOUND;
}

const axle_router_vtable_t kVtable = {
    .struct_size = sizeof(axle_router_vtable_t),
    .build = build,
    .table_destroy = table_destroy,
    .match = match,
};

}  // namespace

AXLE_MODULE_ENTRY {
  static const axle_module_descriptor_t d = {
      .struct_size = sizeof(axle_module_descriptor_t),
      .abi_major = AXLE_ABI_MAJOR,
      .abi_minor = AXLE_ABI_MINOR,
      .kind = AXLE_KIND_ROUTER,
      .flags = 0,
      .name = AXLE_MODULE_NAME,
      .version = "1.0.0",
      .description = "Tries every route in turn and keeps the most specific match (reference router)",
      .config_keys = nullptr,
      .config_key_count = 0,
      .create = create,
      .destroy = destroy,
      .thread_init = nullptr,
      .thread_fini = nullptr,
      .vtable = &kVtable,
#if AXLE_ABI_MINOR >= 3  // tests/fixtures/abi-compat builds this file against older headers too
      .config_sections = nullptr,
      .config_section_count = 0,
#endif
  };
  return &d;
}
