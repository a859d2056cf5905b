// metrics "prometheus": counts requests, connections, parse errors and
// timeouts per worker and renders them in the Prometheus text format (0.0.4).
//
// Each worker owns one slot and is its only writer, so the request path takes
// no lock and does no atomic read-modify-write: a counter is bumped with a
// relaxed load and a relaxed store of its own cache line. Counters are still
// std::atomic so that render(), running on any worker, reads them without a
// data race; it sums every slot. Slots live as long as the instance, so counts
// of a worker that stopped never go backwards.
//
// After its own series it renders every metric modules registered with the
// host (metrics_collect, host ABI 1.2), labelled with the module's name.
#include <axle/metrics.h>
#include <axle/module.h>

#include <atomic>
#include <charconv>
#include <algorithm>
#include <iterator>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Counter = std::atomic<uint64_t>;
static_assert(Counter::is_always_lock_free, "a counter bump must be a plain load and store");

// Only the owning worker writes a counter, so load+store loses nothing.
inline void bump(Counter &c, uint64_t by = 1) {
  c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

inline uint64_t read(const Counter &c) { return c.load(std::memory_order_relaxed); }

// Upper bounds (le) of the latency histogram: 50µs .. 10s.
constexpr uint64_t kBucketBoundsNs[] = {
    50'000,      100'000,     250'000,       500'000,       1'000'000,     2'500'000,
    5'000'000,   10'000'000,  25'000'000,    50'000'000,    100'000'000,   250'000'000,
    500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
constexpr const char *kBucketLabels[] = {"0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025",
                                         "0.005",   "0.01",   "0.025",   "0.05",   "0.1",   "0.25",
                                         "0.5",     "1",      "2.5",     "5",      "10"};
constexpr size_t kBucketCount = std::size(kBucketBoundsNs);
static_assert(std::size(kBucketLabels) == kBucketCount);

constexpr const char *kStatusClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
constexpr size_t kStatusClassCount = std::size(kStatusClasses);

constexpr const char *kTimeoutKinds[] = {"header", "body", "idle", "write"};  // AXLE_TIMEOUT_* - 1
constexpr size_t kTimeoutKindCount = std::size(kTimeoutKinds);

// Parse errors are counted per status code in [100, 599]; anything else the
// host might report lands in one extra "other" cell.
constexpr uint16_t kMinStatus = 100, kMaxStatus = 599;
constexpr size_t kParseStatusCells = kMaxStatus - kMinStatus + 2;
constexpr size_t kOtherStatusCell = kParseStatusCells - 1;

// One route's counters in one worker, on cache lines no other worker writes.
struct alignas(64) RouteCounters {
  Counter status_class[kStatusClassCount]{};
  Counter duration_bucket[kBucketCount + 1]{};  // not cumulative; the last is above the top bound
  Counter duration_sum_ns{0};
  Counter bytes_in{0};
  Counter bytes_out{0};
};

// A worker's counters. Its thread_ctx points here.
struct alignas(64) WorkerSlot {
  Counter connections_opened{0};
  Counter connections_closed{0};
  Counter timeouts[kTimeoutKindCount]{};
  Counter parse_errors[kParseStatusCells]{};
  // route_count + 1 entries, the last for requests that matched no route.
  // Allocated by the worker itself (memory local to its CPU) and published
  // to render() with release/acquire.
  std::atomic<RouteCounters *> routes{nullptr};
  uint32_t route_count = 0;            // set by describe(), read-only afterwards
  std::atomic<bool> running{false};    // between thread_init and thread_fini

  ~WorkerSlot() { delete[] routes.load(std::memory_order_relaxed); }
};

struct Instance {
  const axle_host_api_t *host = nullptr;
  bool described = false;
  uint32_t worker_count = 0;
  std::vector<std::string> route_labels;  // escaped; [route_count] is "none"
  std::string module_info;                // the axle_module_info family, rendered once
  std::unique_ptr<WorkerSlot[]> workers;
};

void fail(const axle_host_api_t *host, axle_error_t *err, std::string_view msg) {
  if (host && err) host->error_set(err, msg.data(), msg.size());
}

// Label values per the text format: backslash, double quote and newline escaped.
std::string escape_label(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string_view view(axle_str_t s) { return s.len ? std::string_view(s.ptr, s.len) : std::string_view(); }

void append_uint(std::string &out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Exact decimal seconds from nanoseconds: no float rounding in _sum.
void append_seconds(std::string &out, uint64_t ns) {
  append_uint(out, ns / 1'000'000'000);
  char frac[10] = {'.'};
  uint64_t rest = ns % 1'000'000'000;
  for (int i = 9; i >= 1; --i, rest /= 10) frac[i] = static_cast<char>('0' + rest % 10);
  out.append(frac, sizeof frac);
}

// HELP text per the text format: backslash and newline escaped.
std::string escape_help(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void append_int(std::string &out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_family(std::string &out, const char *name, const char *type, const char *help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// ---- lifecycle ----

axle_status_t create(const axle_host_api_t *host, const axle_config_t *, void **instance_out, axle_error_t *err) {
  auto *inst = new (std::nothrow) Instance;
  if (!inst) {
    fail(host, err, "prometheus: out of memory");
    return AXLE_ERR_NOMEM;
  }
  inst->host = host;
  *instance_out = inst;
  return AXLE_OK;
}

void destroy(void *instance) { delete static_cast<Instance *>(instance); }

axle_status_t describe(void *instance, const axle_metrics_generation_t *gen, axle_error_t *err) {
  auto *inst = static_cast<Instance *>(instance);
  try {
    // Holds the 1.0 fields (worker_count is the last): enough, whatever this module's sizeof.
    if (!gen || !AXLE_STRUCT_HAS(gen, axle_metrics_generation_t, worker_count)) {
      fail(inst->host, err, "prometheus: describe() got no or a truncated generation description");
      return AXLE_ERR_INVALID;
    }
    if (inst->described) {
      fail(inst->host, err, "prometheus: describe() called twice on one instance");
      return AXLE_ERR_INVALID;
    }
    if (gen->worker_count == 0) {
      fail(inst->host, err, "prometheus: the generation has no workers");
      return AXLE_ERR_INVALID;
    }
    if ((gen->route_count && !gen->route_labels) || (gen->module_count && !gen->modules)) {
      fail(inst->host, err, "prometheus: route labels or module list missing from the generation description");
      return AXLE_ERR_INVALID;
    }
    // AXLE_ROUTE_NONE is reserved for "no route"; one more route could not be told apart.
    if (gen->route_count >= AXLE_ROUTE_NONE) {
      fail(inst->host, err, "prometheus: too many routes");
      return AXLE_ERR_INVALID;
    }
    std::vector<std::string> labels;
    labels.reserve(gen->route_count + 1);
    for (uint32_t i = 0; i < gen->route_count; ++i) labels.push_back(escape_label(view(gen->route_labels[i])));
    labels.emplace_back("none");

    std::string info;
    append_family(info, "axle_module_info", "gauge", "Modules of the serving generation (value is always 1).");
    for (uint32_t i = 0; i < gen->module_count; ++i) {
      const axle_module_info_t &m = gen->modules[i];
      info += "axle_module_info{kind=\"" + escape_label(view(m.kind)) + "\",name=\"" + escape_label(view(m.name)) +
              "\",version=\"" + escape_label(view(m.version)) + "\",abi=\"" + escape_label(view(m.abi)) + "\"} 1\n";
    }

    auto workers = std::make_unique<WorkerSlot[]>(gen->worker_count);
    for (uint32_t i = 0; i < gen->worker_count; ++i) workers[i].route_count = gen->route_count;

    inst->route_labels = std::move(labels);
    inst->module_info = std::move(info);
    inst->workers = std::move(workers);
    inst->worker_count = gen->worker_count;
    inst->described = true;
    return AXLE_OK;
  } catch (const std::bad_alloc &) {
    fail(inst->host, err, "prometheus: out of memory describing the generation");
    return AXLE_ERR_NOMEM;
  } catch (...) {
    fail(inst->host, err, "prometheus: unexpected error in describe()");
    return AXLE_ERR_INTERNAL;
  }
}

// thread_init's work; may throw std::bad_alloc (error messages only).
axle_status_t start_worker(Instance &inst, axle_worker_t *worker, void **thread_ctx_out, axle_error_t *err) {
  if (!inst.described) {
    fail(inst.host, err, "prometheus: worker started before describe()");
    return AXLE_ERR_INVALID;
  }
  uint32_t index = inst.host->worker_index(worker);
  if (index >= inst.worker_count) {
    std::string msg = "prometheus: worker index " + std::to_string(index) + " outside the " +
                      std::to_string(inst.worker_count) + " workers described";
    fail(inst.host, err, msg);
    return AXLE_ERR_INVALID;
  }
  WorkerSlot &slot = inst.workers[index];
  // Two live threads on one slot would break the single-writer rule.
  if (slot.running.exchange(true, std::memory_order_acq_rel)) {
    std::string msg = "prometheus: worker " + std::to_string(index) + " started twice";
    fail(inst.host, err, msg);
    return AXLE_ERR_INVALID;
  }
  // A worker started again after thread_fini keeps counting where it stopped.
  if (!slot.routes.load(std::memory_order_relaxed)) {
    auto *routes = new (std::nothrow) RouteCounters[size_t{slot.route_count} + 1]();
    if (!routes) {
      slot.running.store(false, std::memory_order_release);
      fail(inst.host, err, "prometheus: out of memory for a worker's route counters");
      return AXLE_ERR_NOMEM;
    }
    slot.routes.store(routes, std::memory_order_release);
  }
  *thread_ctx_out = &slot;
  return AXLE_OK;
}

axle_status_t thread_init(void *instance, axle_worker_t *worker, void **thread_ctx_out, axle_error_t *err) {
  auto *inst = static_cast<Instance *>(instance);
  try {
    return start_worker(*inst, worker, thread_ctx_out, err);
  } catch (...) {  // only the messages allocate
    fail(inst->host, err, "prometheus: out of memory starting a worker");
    return AXLE_ERR_NOMEM;
  }
}

// The slot stays in the instance: render() keeps counting what it saw.
void thread_fini(void *, void *thread_ctx) {
  static_cast<WorkerSlot *>(thread_ctx)->running.store(false, std::memory_order_release);
}

// ---- hot path (the owning worker only) ----

void request_done(void *thread_ctx, const axle_request_record_t *rec) {
  auto *slot = static_cast<WorkerSlot *>(thread_ctx);
  uint32_t route = rec->route_id < slot->route_count ? rec->route_id : slot->route_count;
  RouteCounters &r = slot->routes.load(std::memory_order_relaxed)[route];
  // Codes outside 100..599 count with the nearest class.
  unsigned cls = rec->status / 100;
  cls = cls < 1 ? 1 : cls > kStatusClassCount ? kStatusClassCount : cls;
  bump(r.status_class[cls - 1]);
  size_t bucket = 0;
  while (bucket < kBucketCount && rec->duration_ns > kBucketBoundsNs[bucket]) ++bucket;
  bump(r.duration_bucket[bucket]);
  bump(r.duration_sum_ns, rec->duration_ns);
  bump(r.bytes_in, rec->bytes_in);
  bump(r.bytes_out, rec->bytes_out);
}

void connection_opened(void *thread_ctx) { bump(static_cast<WorkerSlot *>(thread_ctx)->connections_opened); }

void connection_closed(void *thread_ctx) {
  Counter &closed = static_cast<WorkerSlot *>(thread_ctx)->connections_closed;
  // Release: a reader that sees this close also sees the matching open, so
  // opened - closed never goes negative (a plain store on x86).
  closed.store(closed.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void parse_error(void *thread_ctx, uint16_t status) {
  auto *slot = static_cast<WorkerSlot *>(thread_ctx);
  size_t cell = status >= kMinStatus && status <= kMaxStatus ? status - kMinStatus : kOtherStatusCell;
  bump(slot->parse_errors[cell]);
}

void timeout(void *thread_ctx, axle_timeout_kind_t kind) {
  auto index = static_cast<unsigned>(kind) - 1;
  // A kind from a newer host that this module does not know is not counted.
  if (index < kTimeoutKindCount) bump(static_cast<WorkerSlot *>(thread_ctx)->timeouts[index]);
}

// ---- exposition ----

struct RouteTotals {
  uint64_t status_class[kStatusClassCount] = {};
  uint64_t duration_bucket[kBucketCount + 1] = {};
  uint64_t duration_sum_ns = 0, bytes_in = 0, bytes_out = 0;

  uint64_t observations() const {
    uint64_t n = 0;
    for (uint64_t b : duration_bucket) n += b;
    return n;
  }
};

void add_route(RouteTotals &t, const RouteCounters &c) {
  for (size_t i = 0; i < kStatusClassCount; ++i) t.status_class[i] += read(c.status_class[i]);
  for (size_t i = 0; i <= kBucketCount; ++i) t.duration_bucket[i] += read(c.duration_bucket[i]);
  t.duration_sum_ns += read(c.duration_sum_ns);
  t.bytes_in += read(c.bytes_in);
  t.bytes_out += read(c.bytes_out);
}

// ---- metrics modules registered with the host ----

// Families this module renders itself; a module metric may not take their names.
constexpr const char *kOwnFamilies[] = {
    "axle_http_requests_total",      "axle_http_request_duration_seconds", "axle_http_request_bytes_total",
    "axle_http_response_bytes_total", "axle_connections_open",             "axle_connections_accepted_total",
    "axle_connections_closed_total", "axle_http_parse_errors_total",       "axle_timeouts_total",
    "axle_module_info",              "axle_workers"};
constexpr const char *kHistogramSuffixes[] = {"_bucket", "_sum", "_count"};

// One module metric, copied out of the visit (its pointers live for the call only).
struct ModuleSeries {
  std::string name, module, help;
  axle_metric_kind_t kind{};
  int64_t value = 0;
  std::vector<uint64_t> bounds, counts;  // counts cumulative
  uint64_t count = 0, sum = 0;
};

void keep_sample(void *arg, const axle_metric_sample_t *s) {
  if (!s || !AXLE_STRUCT_HAS(s, axle_metric_sample_t, sum)) return;
  auto &all = *static_cast<std::vector<ModuleSeries> *>(arg);
  ModuleSeries m;
  m.name.assign(view(s->name));
  m.module = escape_label(view(s->module));
  m.help = escape_help(view(s->help));
  m.kind = s->kind;
  m.value = s->value;
  if (s->kind == AXLE_METRIC_HISTOGRAM && s->bucket_count && s->bucket_bounds && s->bucket_counts) {
    m.bounds.assign(s->bucket_bounds, s->bucket_bounds + s->bucket_count);
    m.counts.assign(s->bucket_counts, s->bucket_counts + s->bucket_count);
  }
  m.count = s->count;
  m.sum = s->sum;
  all.push_back(std::move(m));
}

const char *type_of(axle_metric_kind_t kind) {
  switch (kind) {
    case AXLE_METRIC_COUNTER: return "counter";
    case AXLE_METRIC_GAUGE: return "gauge";
    case AXLE_METRIC_HISTOGRAM: return "histogram";
  }
  return nullptr;
}

// Appends every module metric, grouped by name (HELP and TYPE once per name),
// one series per module. A name that would collide with another family's
// samples (ours, or a histogram's _bucket/_sum/_count) is left out, so the
// exposition always parses.
void append_module_metrics(std::string &out, const axle_host_api_t *host) {
  if (!host || !AXLE_STRUCT_HAS(host, axle_host_api_t, metrics_collect) || !host->metrics_collect) return;
  std::vector<ModuleSeries> all;
  host->metrics_collect(keep_sample, &all);
  std::stable_sort(all.begin(), all.end(), [](const ModuleSeries &a, const ModuleSeries &b) {
    return a.name != b.name ? a.name < b.name : a.module < b.module;
  });

  std::set<std::string, std::less<>> taken;  // sample names of other families
  for (const char *own : kOwnFamilies) taken.insert(own);
  for (const char *suffix : kHistogramSuffixes) taken.insert(std::string("axle_http_request_duration_seconds") + suffix);
  for (const ModuleSeries &m : all)
    if (m.kind == AXLE_METRIC_HISTOGRAM)
      for (const char *suffix : kHistogramSuffixes) taken.insert(m.name + suffix);

  const std::string *family = nullptr;  // name whose HELP/TYPE went out last
  for (const ModuleSeries &m : all) {
    const char *type = type_of(m.kind);
    if (!type || m.name.empty() || taken.count(m.name)) continue;
    if (!family || *family != m.name) {
      family = &m.name;
      append_family(out, m.name.c_str(), type, m.help.c_str());
    }
    const std::string label = "module=\"" + m.module + '"';
    if (m.kind != AXLE_METRIC_HISTOGRAM) {
      out += m.name + '{' + label + "} ";
      append_int(out, m.value);
      out += '\n';
      continue;
    }
    for (size_t b = 0; b < m.bounds.size(); ++b) {
      out += m.name + "_bucket{" + label + ",le=\"";
      append_uint(out, m.bounds[b]);
      out += "\"} ";
      append_uint(out, m.counts[b]);
      out += '\n';
    }
    out += m.name + "_bucket{" + label + ",le=\"+Inf\"} ";
    append_uint(out, m.count);
    out += '\n' + m.name + "_sum{" + label + "} ";
    append_uint(out, m.sum);
    out += '\n' + m.name + "_count{" + label + "} ";
    append_uint(out, m.count);
    out += '\n';
  }
}

std::string build_exposition(const Instance &inst) {
  const size_t route_slots = inst.route_labels.size();  // routes + "none"
  std::vector<RouteTotals> routes(route_slots);
  uint64_t opened = 0, closed = 0;
  uint64_t timeouts[kTimeoutKindCount] = {};
  std::vector<uint64_t> parse_errors(kParseStatusCells);
  for (uint32_t w = 0; w < inst.worker_count; ++w) {
    const WorkerSlot &slot = inst.workers[w];
    // closed first, with acquire: pairs with connection_closed's release.
    closed += slot.connections_closed.load(std::memory_order_acquire);
    opened += read(slot.connections_opened);
    for (size_t i = 0; i < kTimeoutKindCount; ++i) timeouts[i] += read(slot.timeouts[i]);
    for (size_t i = 0; i < kParseStatusCells; ++i) parse_errors[i] += read(slot.parse_errors[i]);
    const RouteCounters *counters = slot.routes.load(std::memory_order_acquire);
    if (!counters) continue;  // the worker never started
    for (size_t r = 0; r < route_slots; ++r) add_route(routes[r], counters[r]);
  }

  std::string out;
  out.reserve(4096 + route_slots * 2048);

  // A route's series appear once it has served a request; counts never go back.
  append_family(out, "axle_http_requests_total", "counter", "HTTP requests answered, by route and status class.");
  for (size_t r = 0; r < route_slots; ++r) {
    for (size_t c = 0; c < kStatusClassCount; ++c) {
      if (!routes[r].status_class[c]) continue;
      out += "axle_http_requests_total{route=\"";
      out += inst.route_labels[r];
      out += "\",status_class=\"";
      out += kStatusClasses[c];
      out += "\"} ";
      append_uint(out, routes[r].status_class[c]);
      out += '\n';
    }
  }

  append_family(out, "axle_http_request_duration_seconds", "histogram",
                "Time from a request's complete head to its queued response, by route.");
  for (size_t r = 0; r < route_slots; ++r) {
    const RouteTotals &t = routes[r];
    uint64_t count = t.observations();
    if (!count) continue;
    const std::string &label = inst.route_labels[r];
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBucketCount; ++b) {
      cumulative += t.duration_bucket[b];
      out += "axle_http_request_duration_seconds_bucket{route=\"";
      out += label;
      out += "\",le=\"";
      out += b < kBucketCount ? kBucketLabels[b] : "+Inf";
      out += "\"} ";
      append_uint(out, cumulative);
      out += '\n';
    }
    out += "axle_http_request_duration_seconds_sum{route=\"";
    out += label;
    out += "\"} ";
    append_seconds(out, t.duration_sum_ns);
    out += "\naxle_http_request_duration_seconds_count{route=\"";
    out += label;
    out += "\"} ";
    append_uint(out, count);
    out += '\n';
  }

  auto bytes_family = [&](const char *name, const char *help, uint64_t RouteTotals::*field) {
    append_family(out, name, "counter", help);
    for (size_t r = 0; r < route_slots; ++r) {
      if (!routes[r].observations()) continue;
      out += name;
      out += "{route=\"";
      out += inst.route_labels[r];
      out += "\"} ";
      append_uint(out, routes[r].*field);
      out += '\n';
    }
  };
  bytes_family("axle_http_request_bytes_total", "Request bytes received (head and body), by route.",
               &RouteTotals::bytes_in);
  bytes_family("axle_http_response_bytes_total", "Response bytes queued (head and body), by route.",
               &RouteTotals::bytes_out);

  auto single = [&](const char *name, const char *type, const char *help, uint64_t value) {
    append_family(out, name, type, help);
    out += name;
    out += ' ';
    append_uint(out, value);
    out += '\n';
  };
  single("axle_connections_open", "gauge", "Client connections open now.", opened - closed);
  single("axle_connections_accepted_total", "counter", "Client connections accepted.", opened);
  single("axle_connections_closed_total", "counter", "Client connections closed.", closed);

  append_family(out, "axle_http_parse_errors_total", "counter",
                "Requests refused before routing (malformed or over a limit), by response status.");
  for (size_t i = 0; i < kParseStatusCells; ++i) {
    if (!parse_errors[i]) continue;
    out += "axle_http_parse_errors_total{status=\"";
    if (i == kOtherStatusCell) out += "other";
    else append_uint(out, kMinStatus + i);
    out += "\"} ";
    append_uint(out, parse_errors[i]);
    out += '\n';
  }

  append_family(out, "axle_timeouts_total", "counter", "Connections timed out, by phase.");
  for (size_t i = 0; i < kTimeoutKindCount; ++i) {
    out += "axle_timeouts_total{kind=\"";
    out += kTimeoutKinds[i];
    out += "\"} ";
    append_uint(out, timeouts[i]);
    out += '\n';
  }

  out += inst.module_info;

  single("axle_workers", "gauge", "Worker threads of the serving generation.", inst.worker_count);
  append_module_metrics(out, inst.host);
  return out;
}

constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

axle_status_t render(void *instance, axle_response_t *resp) {
  auto *inst = static_cast<Instance *>(instance);
  const axle_host_api_t *host = inst->host;
  try {
    std::string text = build_exposition(*inst);
    host->response_set_status(resp, 200);
    axle_status_t st =
        host->response_add_header(resp, {"Content-Type", 12}, {kContentType.data(), kContentType.size()});
    if (st != AXLE_OK) return st;
    return host->response_body_copy(resp, text.data(), text.size());
  } catch (const std::bad_alloc &) {
    return AXLE_ERR_NOMEM;
  } catch (...) {
    return AXLE_ERR_INTERNAL;
  }
}

const axle_metrics_vtable_t kVtable = {
    .struct_size = sizeof(axle_metrics_vtable_t),
    .describe = describe,
    .request_done = request_done,
    .connection_opened = connection_opened,
    .connection_closed = connection_closed,
    .parse_error = parse_error,
    .timeout = timeout,
    .render = render,
};

}  // namespace

AXLE_MODULE_ENTRY {
  static const axle_module_descriptor_t d = {
      .struct_size = sizeof(axle_module_descriptor_t),
      .abi_major = AXLE_ABI_MAJOR,
      .abi_minor = AXLE_ABI_MINOR,
      .kind = AXLE_KIND_METRICS,
      .flags = 0,
      .name = "prometheus",
      .version = "1.0.0",
      .description = "Per-worker request, connection and latency metrics in the Prometheus text format",
      .config_keys = nullptr,
      .config_key_count = 0,
      .create = create,
      .destroy = destroy,
      .thread_init = thread_init,
      .thread_fini = thread_fini,
      .vtable = &kVtable,
      .config_sections = nullptr,
      .config_section_count = 0,
  };
  return &d;
}
