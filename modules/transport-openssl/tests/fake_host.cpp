#include "fake_host.h"

#include <cstring>

namespace fake {
namespace {

struct State {
  uint64_t now_ms = 1000 * 1000;
  std::vector<std::unique_ptr<axle_timer_t>> timers;  // kept until reset: timer_stop on a fired one is safe
  std::map<std::string, int64_t> counters;
  std::vector<std::string> logs, violations;
};
State &st() {
  static State s;
  return s;
}

constexpr size_t kMaxTimers = 256;  // the worker's bound: timer_start refuses beyond

const axle_config_key_t *declared(const axle_config_t *cfg, const char *key, axle_config_type_t type) {
  for (size_t i = 0; i < cfg->key_count; ++i)
    if (std::strcmp(cfg->keys[i].name, key) == 0) {
      if (cfg->keys[i].type != type) st().violations.push_back(std::string("wrong type read for ") + key);
      return &cfg->keys[i];
    }
  st().violations.push_back(std::string("undeclared key read: ") + key);
  return nullptr;
}

void log(const axle_config_t *, axle_log_level_t, const char *msg, size_t len) { st().logs.emplace_back(msg, len); }
void error_set(axle_error_t *err, const char *msg, size_t len) { err->message.assign(msg, len); }

axle_status_t get_string(const axle_config_t *cfg, const char *key, axle_str_t *out) {
  const axle_config_key_t *k = declared(cfg, key, AXLE_CONFIG_STRING);
  if (!k) return AXLE_ERR_NOT_FOUND;
  auto it = cfg->strings.find(key);
  const char *v = it != cfg->strings.end() ? it->second.c_str() : k->default_value;
  if (!v) {
    st().violations.push_back(std::string("required key missing (the host refuses the config): ") + key);
    return AXLE_ERR_NOT_FOUND;
  }
  *out = {v, std::strlen(v)};
  return AXLE_OK;
}

axle_status_t get_int(const axle_config_t *cfg, const char *key, int64_t *out) {
  const axle_config_key_t *k = declared(cfg, key, AXLE_CONFIG_INT);
  if (!k) return AXLE_ERR_NOT_FOUND;
  auto it = cfg->ints.find(key);
  *out = it != cfg->ints.end() ? it->second : std::stoll(k->default_value);
  return AXLE_OK;
}

axle_status_t get_bool(const axle_config_t *cfg, const char *key, int *out) {
  const axle_config_key_t *k = declared(cfg, key, AXLE_CONFIG_BOOL);
  if (!k) return AXLE_ERR_NOT_FOUND;
  auto it = cfg->bools.find(key);
  *out = it != cfg->bools.end() ? it->second : std::strcmp(k->default_value, "true") == 0;
  return AXLE_OK;
}

axle_status_t get_list(const axle_config_t *cfg, const char *key, const axle_str_t **items, size_t *count) {
  const axle_config_key_t *k = declared(cfg, key, AXLE_CONFIG_STRING_LIST);
  if (!k) return AXLE_ERR_NOT_FOUND;
  std::vector<std::string> &store = cfg->list_storage[key];
  auto it = cfg->lists.find(key);
  if (it != cfg->lists.end()) {
    store = it->second;
  } else if (!k->default_value) {
    st().violations.push_back(std::string("required key missing (the host refuses the config): ") + key);
    return AXLE_ERR_NOT_FOUND;
  } else {
    store.clear();
    std::string d = k->default_value;
    for (size_t pos = 0; !d.empty();) {
      const size_t comma = d.find(',', pos);
      store.push_back(d.substr(pos, comma - pos));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  std::vector<axle_str_t> &views = cfg->list_views[key];
  views.clear();
  for (const std::string &s : store) views.push_back({s.data(), s.size()});
  *items = views.data();
  *count = views.size();
  return AXLE_OK;
}

const char *base_dir(const axle_config_t *cfg) { return cfg->base_dir.c_str(); }

size_t section_count(const axle_config_t *cfg, const char *section) {
  auto it = cfg->sections.find(section);
  return it == cfg->sections.end() ? 0 : it->second.size();
}

axle_status_t section_at(const axle_config_t *cfg, const char *section, size_t index, axle_str_t *name,
                         const axle_config_t **table) {
  auto it = cfg->sections.find(section);
  if (it == cfg->sections.end() || index >= it->second.size()) return AXLE_ERR_NOT_FOUND;
  auto t = std::next(it->second.begin(), static_cast<long>(index));
  *name = {t->first.data(), t->first.size()};
  *table = &t->second;
  return AXLE_OK;
}

const char *position(const axle_config_t *cfg, const char *key) {
  std::string &p = cfg->positions[key ? key : ""];
  // A line per key name so two keys of a table differ; the table's own line when key is NULL.
  p = "test.toml:" + std::to_string(key ? 10 + std::strlen(key) : 1) + ": " + cfg->path + (key ? "." : "") +
      (key ? key : "");
  return p.c_str();
}

uint64_t now_ns() { return st().now_ms * 1000000; }
uint32_t worker_index(const axle_worker_t *w) { return w->index; }

axle_timer_t *timer_start(axle_worker_t *, uint64_t delay_ms, uint64_t repeat_ms, axle_task_fn fn, void *arg) {
  if (live_timers() >= kMaxTimers) return nullptr;
  auto t = std::make_unique<axle_timer_t>();
  t->due_ms = st().now_ms + delay_ms;
  t->repeat_ms = repeat_ms;
  t->fn = fn;
  t->arg = arg;
  st().timers.push_back(std::move(t));
  return st().timers.back().get();
}
void timer_stop(axle_timer_t *t) { t->stopped = true; }

struct Metric {
  std::string name;
};
axle_metric_t *metric_register(const axle_config_t *, axle_metric_kind_t, const char *name, const char *, const uint64_t *,
                               uint32_t, axle_error_t *) {
  static std::map<std::string, std::unique_ptr<Metric>> metrics;
  auto &m = metrics[name];
  if (!m) m = std::make_unique<Metric>(Metric{name});
  return reinterpret_cast<axle_metric_t *>(m.get());
}
void metric_add(axle_metric_t *m, int64_t delta) { st().counters[reinterpret_cast<Metric *>(m)->name] += delta; }

axle_host_api_t make_host() {
  axle_host_api_t h{};
  h.struct_size = sizeof h;
  h.abi_major = AXLE_ABI_MAJOR;
  h.abi_minor = AXLE_ABI_MINOR;
  h.log = log;
  h.error_set = error_set;
  h.config_get_string = get_string;
  h.config_get_int = get_int;
  h.config_get_bool = get_bool;
  h.config_base_dir = base_dir;
  h.now_ns = now_ns;
  h.worker_index = worker_index;
  h.timer_start = timer_start;
  h.timer_stop = timer_stop;
  h.metric_register = metric_register;
  h.metric_add = metric_add;
  h.config_get_string_list = get_list;
  h.config_section_count = section_count;
  h.config_section_at = section_at;
  h.config_position = position;
  return h;
}

}  // namespace

const axle_host_api_t *host() {
  static const axle_host_api_t h = make_host();
  return &h;
}

void reset() {
  st().now_ms = 1000 * 1000;
  st().timers.clear();
  st().counters.clear();
  st().logs.clear();
  st().violations.clear();
}

uint64_t now_ms() { return st().now_ms; }

size_t live_timers() {
  size_t n = 0;
  for (auto &t : st().timers) n += !t->stopped;
  return n;
}

void advance(uint64_t ms) {
  const uint64_t end = st().now_ms + ms;
  for (;;) {  // fire the earliest due timer, one at a time (a timer may start or stop others)
    axle_timer_t *next = nullptr;
    for (auto &t : st().timers)
      if (!t->stopped && t->due_ms <= end && (!next || t->due_ms < next->due_ms)) next = t.get();
    if (!next) break;
    st().now_ms = std::max(st().now_ms, next->due_ms);
    if (next->repeat_ms > 0)
      next->due_ms += next->repeat_ms;
    else
      next->stopped = true;  // a one-shot fires once
    next->fn(next->arg);
  }
  st().now_ms = end;
}

int64_t counter(const std::string &name) {
  auto it = st().counters.find(name);
  return it == st().counters.end() ? 0 : it->second;
}
const std::vector<std::string> &logs() { return st().logs; }
const std::vector<std::string> &violations() { return st().violations; }

}  // namespace fake
