#include "host_routes.h"

#include "host_api.h"  // axle_error_t
#include "http/tokens.h"

#include <algorithm>
#include <map>

namespace axle {
namespace {

// The authority of an absolute-form target ("http://a.example:8080/x"), or
// empty for the origin and asterisk forms (the parser checked the shape).
std::string_view target_authority(axle_str_t target) {
  std::string_view t(target.ptr, target.len);
  if (t.empty() || t[0] == '/' || t[0] == '*') return {};
  size_t start = t.find("://");
  if (start == std::string_view::npos) return {};
  start += 3;
  size_t end = t.find_first_of("/?", start);
  return t.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

}  // namespace

std::string_view normalize_host(std::string_view raw, char (&buf)[kMaxRoutingHostBytes]) {
  if (size_t at = raw.rfind('@'); at != std::string_view::npos) raw.remove_prefix(at + 1);  // userinfo
  if (!raw.empty() && raw[0] == '[') {
    // An IPv6 literal keeps its brackets (no pattern has any): only the port goes.
    size_t close = raw.find(']');
    raw = raw.substr(0, close == std::string_view::npos ? raw.size() : close + 1);
  } else {
    raw = raw.substr(0, raw.find(':'));
    if (!raw.empty() && raw.back() == '.') raw.remove_suffix(1);
  }
  if (raw.size() > sizeof buf) return {};
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    buf[i] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  }
  return {buf, raw.size()};
}

std::string_view request_host(const axle_request_head_t &head, char (&buf)[kMaxRoutingHostBytes]) {
  // RFC 9112 3.2.2: an absolute-form target's authority overrides Host.
  std::string_view authority = target_authority(head.target);
  if (!authority.empty()) return normalize_host(authority, buf);
  for (uint32_t i = 0; i < head.header_count; ++i) {
    const axle_header_t &h = head.headers[i];
    if (h.name.len == 4 && http::iequals(h.name, "host")) return normalize_host({h.value.ptr, h.value.len}, buf);
  }
  return {};
}

void HostRoutes::clear() {
  for (Scope &s : scopes_)
    if (s.table) vt_->table_destroy(instance_, s.table);
  scopes_.assign(1, Scope{});
  names_.clear();
  every_extension_ = false;
  extensions_.clear();
  extension_names_.clear();
}

bool HostRoutes::build(const axle_router_vtable_t *vt, void *router_instance, const std::vector<Input> &routes,
                       std::string &error) {
  vt_ = vt;
  instance_ = router_instance;
  // Scope indexes by pattern, in the order the config first names them.
  std::vector<std::string> patterns{""};
  std::map<std::string, size_t> index{{"", 0}};
  std::vector<std::vector<axle_route_spec_t>> specs(1);
  auto scope_of = [&](const std::string &pattern) {
    auto [it, fresh] = index.emplace(pattern, patterns.size());
    if (fresh) {
      patterns.push_back(pattern);
      specs.emplace_back();
      scopes_.emplace_back();
    }
    return it->second;
  };
  static const std::vector<std::string> kUnscoped{""};
  implemented_ = AXLE_METHOD_OPTIONS;
  for (uint32_t id = 0; id < routes.size(); ++id) {
    const Input &r = routes[id];
    if (r.fallback == RouteFallback::None) {
      implemented_ |= r.method_mask;
      if (r.method_mask & AXLE_METHOD_OTHER) {
        if (!r.extension_methods || r.extension_methods->empty()) every_extension_ = true;
        else extensions_.insert(extensions_.end(), r.extension_methods->begin(), r.extension_methods->end());
      }
    }
    for (const std::string &host : r.hosts->empty() ? kUnscoped : *r.hosts) {
      size_t s = scope_of(host);
      if (r.fallback == RouteFallback::NotFound) scopes_[s].not_found = id;
      else if (r.fallback == RouteFallback::MethodNotAllowed) scopes_[s].method_not_allowed = id;
      else specs[s].push_back({sizeof(axle_route_spec_t), {r.pattern.data(), r.pattern.size()}, r.method_mask, id});
    }
  }
  for (size_t s = 0; s < patterns.size(); ++s) {
    if (s > 0) {
      // "*.example.com" is kept as ".example.com": see names_.
      const std::string &p = patterns[s];
      names_.emplace_back(p.starts_with("*.") ? p.substr(1) : p, static_cast<uint32_t>(s));
    }
    // An empty scope has no table (a router need not accept zero routes);
    // the unscoped one is built even empty, as before host scopes existed.
    if (s > 0 && specs[s].empty()) continue;
    axle_error_t err;
    if (vt->build(router_instance, specs[s].data(), specs[s].size(), &scopes_[s].table, &err) != AXLE_OK) {
      scopes_[s].table = nullptr;
      error = (s == 0 ? std::string("the routes without host") : "the routes for host \"" + patterns[s] + "\"") +
              ": " + err.message;
      return false;
    }
  }
  if (implemented_ & AXLE_METHOD_GET) implemented_ |= AXLE_METHOD_HEAD;
  std::sort(names_.begin(), names_.end());
  std::sort(extensions_.begin(), extensions_.end());
  extensions_.erase(std::unique(extensions_.begin(), extensions_.end()), extensions_.end());
  for (const std::string &m : extensions_) extension_names_ += (extension_names_.empty() ? "" : ", ") + m;
  return true;
}

const HostRoutes::Scope *HostRoutes::find(std::string_view host) const {
  // A leading '.' would look up a wildcard key as an exact name.
  if (host.empty() || host[0] == '.') return nullptr;
  auto lookup = [&](std::string_view name) -> const Scope * {
    auto it = std::lower_bound(names_.begin(), names_.end(), name,
                               [](const auto &entry, std::string_view n) { return entry.first < n; });
    return it != names_.end() && it->first == name ? &scopes_[it->second] : nullptr;
  };
  if (const Scope *exact = lookup(host)) return exact;
  // Suffixes from the longest: ".b.example.com", then ".example.com", ...
  for (size_t dot = host.find('.'); dot != std::string_view::npos; dot = host.find('.', dot + 1))
    if (const Scope *wild = lookup(host.substr(dot))) return wild;
  return nullptr;
}

uint32_t HostRoutes::fallback(const Scope *scope, uint16_t status) const {
  auto pick = [status](const Scope &s) { return status == 405 ? s.method_not_allowed : s.not_found; };
  if (scope && pick(*scope) != AXLE_ROUTE_NONE) return pick(*scope);
  return pick(scopes_[0]);
}

}  // namespace axle
