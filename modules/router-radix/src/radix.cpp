// router "radix": a compressed radix tree over the route patterns. Literal
// edges carry byte strings split on common prefixes; a node at a segment
// boundary may also have one "{param}" child and a list of "*" routes.
// Lookup walks the path once, trying literal, then param, then wildcard at
// each segment (backtracking on a dead end), so its cost depends on the path
// and the tree's branching, not on the number of routes. The tree is
// flattened into arrays at build; match() never allocates.
#include <axle/module.h>
#include <axle/router.h>

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <deque>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "route_set.h"

namespace {

using axle_router::kMaxCaptures;
using axle_router::Route;
using axle_router::Segment;
using axle_router::SegmentKind;

constexpr uint32_t kNone = UINT32_MAX;

struct Instance {
  const axle_host_api_t *host;
  const axle_config_t *config;
};

// A range of Table::route_refs: routes ending at a node, in config order.
struct RouteList {
  uint32_t begin = 0;
  uint32_t count = 0;
};

// The node reached after consuming a prefix of some pattern.
struct Node {
  uint32_t label_begin = 0;  // the edge into this node: labels[label_begin, +label_len)
  uint32_t label_len = 0;    // 0 for the root and for param nodes
  uint32_t child_begin = 0;  // literal children: nodes[child_begin, +child_count),
  uint32_t child_count = 0;  // their first label bytes at first_bytes[child_begin, ...)
  uint32_t param_child = kNone;
  RouteList terminal;  // patterns ending exactly here
  RouteList bare;      // "<here>/*" patterns, matching the path "<here>" with an empty rest
  RouteList wildcard;  // "<here>*" patterns (here ends with '/'), matching any rest
};

struct RouteInfo {
  uint32_t id;
  uint32_t method_mask;
  uint32_t capture_count;
  uint32_t name_begin;  // into Table::names
};

struct Table {
  std::vector<Route> routes;  // owns the pattern text the names point into
  std::vector<RouteInfo> infos;
  std::vector<axle_str_t> names;
  std::vector<Node> nodes;  // nodes[0] is the root
  std::string labels;
  std::string first_bytes;  // first_bytes[i] = first label byte of nodes[i]
  std::vector<uint32_t> route_refs;
};

// ---- build ----

struct BuildNode {
  std::string label;
  std::vector<std::unique_ptr<BuildNode>> literal;  // first label bytes all differ
  std::unique_ptr<BuildNode> param;
  std::vector<uint32_t> terminal, bare, wildcard;
};

// Descends from node along text, splitting edges where text diverges from an
// existing label; returns the node at the end of text.
BuildNode *insert_literal(BuildNode *node, std::string_view text) {
  while (!text.empty()) {
    std::unique_ptr<BuildNode> *slot = nullptr;
    for (auto &child : node->literal)
      if (child->label[0] == text[0]) slot = &child;
    if (!slot) {
      auto leaf = std::make_unique<BuildNode>();
      leaf->label.assign(text);
      node->literal.push_back(std::move(leaf));
      return node->literal.back().get();
    }
    BuildNode *child = slot->get();
    size_t common = 1;
    while (common < child->label.size() && common < text.size() && child->label[common] == text[common]) ++common;
    if (common < child->label.size()) {
      // Split the edge: the shared part becomes a new node above child.
      auto mid = std::make_unique<BuildNode>();
      mid->label = child->label.substr(0, common);
      child->label.erase(0, common);
      mid->literal.push_back(std::move(*slot));
      *slot = std::move(mid);
      child = slot->get();
    }
    node = child;
    text.remove_prefix(common);
  }
  return node;
}

void insert_route(BuildNode *root, const Route &route, uint32_t index) {
  BuildNode *node = root;
  std::string pending;  // literal bytes not yet inserted
  for (const Segment &seg : route.segments) {
    switch (seg.kind) {
      case SegmentKind::Literal:
        pending += '/';
        pending += route.text(seg);
        break;
      case SegmentKind::Param:
        pending += '/';
        node = insert_literal(node, pending);
        pending.clear();
        if (!node->param) node->param = std::make_unique<BuildNode>();
        node = node->param.get();
        break;
      case SegmentKind::Wildcard: {
        BuildNode *without_slash = insert_literal(node, pending);
        without_slash->bare.push_back(index);
        insert_literal(without_slash, "/")->wildcard.push_back(index);
        return;  // '*' is always last
      }
    }
  }
  insert_literal(node, pending)->terminal.push_back(index);
}

RouteList append_list(Table &t, const std::vector<uint32_t> &indices) {
  RouteList list{static_cast<uint32_t>(t.route_refs.size()), static_cast<uint32_t>(indices.size())};
  t.route_refs.insert(t.route_refs.end(), indices.begin(), indices.end());
  return list;
}

// Lays the tree out breadth-first so that each node's literal children are
// contiguous, and their first bytes can be searched with one memchr.
void flatten(Table &t, const BuildNode &root) {
  std::deque<std::pair<const BuildNode *, uint32_t>> queue{{&root, 0}};
  t.nodes.emplace_back();
  t.first_bytes.push_back('\0');
  while (!queue.empty()) {
    auto [b, index] = queue.front();
    queue.pop_front();
    Node n;
    n.label_begin = static_cast<uint32_t>(t.labels.size());
    n.label_len = static_cast<uint32_t>(b->label.size());
    t.labels += b->label;
    n.child_begin = static_cast<uint32_t>(t.nodes.size());
    n.child_count = static_cast<uint32_t>(b->literal.size());
    for (const auto &child : b->literal) {
      queue.emplace_back(child.get(), static_cast<uint32_t>(t.nodes.size()));
      t.nodes.emplace_back();
      t.first_bytes.push_back(child->label[0]);
    }
    if (b->param) {
      n.param_child = static_cast<uint32_t>(t.nodes.size());
      queue.emplace_back(b->param.get(), n.param_child);
      t.nodes.emplace_back();
      t.first_bytes.push_back('\0');
    }
    n.terminal = append_list(t, b->terminal);
    n.bare = append_list(t, b->bare);
    n.wildcard = append_list(t, b->wildcard);
    t.nodes[index] = n;
  }
}

// ---- match ----

// One lookup's state; lives on the caller's stack.
struct Search {
  Search(const Table &t, axle_str_t p, uint32_t method) : table(t), path(p.ptr), len(p.len), method_bit(method) {}

  const Table &table;
  const char *path;
  size_t len;
  uint32_t method_bit;
  uint32_t allowed = 0;     // union of the masks of every route matching the path
  uint32_t found = kNone;   // index into table.infos
  axle_str_t caps[kMaxCaptures];  // written before read; left uninitialized on purpose (hot path)

  // Routes of one list match the path; pick the first that takes the method.
  bool try_list(RouteList list) {
    for (uint32_t i = 0; i < list.count; ++i) {
      const uint32_t r = table.route_refs[list.begin + i];
      allowed |= table.infos[r].method_mask;
      if (table.infos[r].method_mask & method_bit) {
        found = r;
        return true;
      }
    }
    return false;
  }

  // The literal child whose label the path continues with, or kNone.
  uint32_t literal_child(const Node &n, size_t pos) const {
    const char *first = table.first_bytes.data() + n.child_begin;
    const char c = path[pos];
    uint32_t i;
#if defined(__SSE2__)
    // Up to 16 first bytes in one compare; first_bytes is padded so the
    // 16-byte load never leaves the buffer.
    if (n.child_count <= 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i *>(first));
      const auto hits = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(c)))) &
                        ((1u << n.child_count) - 1);
      if (!hits) return kNone;
      i = static_cast<uint32_t>(__builtin_ctz(hits));
    } else
#endif
    {
      const void *hit = std::memchr(first, c, n.child_count);
      if (!hit) return kNone;
      i = static_cast<uint32_t>(static_cast<const char *>(hit) - first);
    }
    const uint32_t child = n.child_begin + i;
    const Node &node = table.nodes[child];
    if (node.label_len > len - pos) return kNone;
    // Labels are short (a segment or part of one); byte 0 already matched.
    const char *label = table.labels.data() + node.label_begin;
    for (uint32_t k = 1; k < node.label_len; ++k)
      if (label[k] != path[pos + k]) return kNone;
    return child;
  }

  // The path up to pos matched the prefix of node, with ncaps captures so
  // far. Depth-first in precedence order, so the first route found is the
  // most specific one accepting the method. Recurses only where a param or
  // wildcard offers an alternative, i.e. at most once per pattern segment.
  bool walk(uint32_t node, size_t pos, uint32_t ncaps) {
    for (;;) {
      const Node &n = table.nodes[node];
      if (pos == len) {
        if (try_list(n.terminal)) return true;
        caps[ncaps] = {path + len, 0};
        return try_list(n.bare) || try_list(n.wildcard);
      }
      const uint32_t child = literal_child(n, pos);
      if (n.param_child == kNone && n.wildcard.count == 0) {
        if (child == kNone) return false;
        pos += table.nodes[child].label_len;
        node = child;
        continue;
      }
      if (child != kNone && walk(child, pos + table.nodes[child].label_len, ncaps)) return true;
      if (n.param_child != kNone && path[pos] != '/') {
        const void *slash = std::memchr(path + pos, '/', len - pos);
        const size_t end = slash ? static_cast<size_t>(static_cast<const char *>(slash) - path) : len;
        caps[ncaps] = {path + pos, end - pos};
        if (walk(n.param_child, end, ncaps + 1)) return true;
      }
      if (n.wildcard.count == 0) return false;
      caps[ncaps] = {path + pos, len - pos};
      return try_list(n.wildcard);
    }
  }
};

// ---- module ----

void set_error(const Instance *inst, axle_error_t *err, const std::string &msg) {
  inst->host->error_set(err, msg.data(), msg.size());
}

axle_status_t create(const axle_host_api_t *host, const axle_config_t *cfg, void **instance_out, axle_error_t *err) {
  auto *inst = new (std::nothrow) Instance{host, cfg};
  if (!inst) {
    static constexpr char kMsg[] = "router radix: out of memory";
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
      set_error(inst, err, "router radix: table_out is NULL");
      return AXLE_ERR_INVALID;
    }
    auto table = std::make_unique<Table>();
    axle_router::ParseResult parsed = axle_router::parse_routes(routes, count, table->routes);
    if (parsed.status != AXLE_OK) {
      set_error(inst, err, parsed.error);
      return parsed.status;
    }
    for (const std::string &w : parsed.warnings) inst->host->log(inst->config, AXLE_LOG_WARN, w.data(), w.size());

    BuildNode root;
    for (size_t i = 0; i < table->routes.size(); ++i) {
      const Route &route = table->routes[i];
      insert_route(&root, route, static_cast<uint32_t>(i));
      table->infos.push_back({route.id, route.method_mask, route.capture_count,
                              static_cast<uint32_t>(table->names.size())});
      for (const Segment &seg : route.segments)
        if (seg.kind != SegmentKind::Literal) table->names.push_back({route.pattern.data() + seg.offset, seg.length});
    }
    flatten(*table, root);
    table->first_bytes.append(16, '\0');  // room for literal_child's 16-byte loads
    *table_out = table.release();
    return AXLE_OK;
  } catch (const std::bad_alloc &) {
    set_error(inst, err, "router radix: out of memory building the route table");
    return AXLE_ERR_NOMEM;
  } catch (...) {
    set_error(inst, err, "router radix: unexpected exception building the route table");
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

  Search search(*table, path, method_bit);
  if (!search.walk(0, 0, 0)) {
    if (!search.allowed) return AXLE_ROUTE_NOT_FOUND;
    out->allowed_methods = search.allowed;
    return AXLE_ROUTE_METHOD_NOT_ALLOWED;
  }
  const RouteInfo &info = table->infos[search.found];
  // More captures than the caller has room for: documented as NOT_FOUND.
  if (info.capture_count > out->param_capacity) return AXLE_ROUTE_NOT_FOUND;
  for (uint32_t k = 0; k < info.capture_count; ++k) out->params[k] = {table->names[info.name_begin + k], search.caps[k]};
  out->param_count = info.capture_count;
  out->route_id = info.id;
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
      .name = "radix",
      .version = "1.0.0",
      .description = "Compressed radix tree; lookup cost independent of the number of routes",
      .config_keys = nullptr,
      .config_key_count = 0,
      .create = create,
      .destroy = destroy,
      .thread_init = nullptr,
      .thread_fini = nullptr,
      .vtable = &kVtable,
      .config_sections = nullptr,
      .config_section_count = 0,
  };
  return &d;
}
