// A host services table for the transport's tests, as strict as the kernel
// on what a module may ask: only declared keys, of their declared type
// (defaults from the module's key table), string lists and sections (ABI
// 1.3), config positions, a manual clock with timers, counters.
#pragma once

#include <axle/module.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

struct axle_config_t {
  const axle_config_key_t *keys = nullptr;  // declared keys: what may be read, and defaults
  size_t key_count = 0;
  std::string path = "tls";  // for positions: "test.toml:LINE: <path>.<key>"
  std::map<std::string, std::string> strings;
  std::map<std::string, int64_t> ints;
  std::map<std::string, bool> bools;
  std::map<std::string, std::vector<std::string>> lists;
  std::map<std::string, std::map<std::string, axle_config_t>> sections;  // section → NAME → table
  std::string base_dir = ".";
  // Host memory handed out (lives as long as the config).
  mutable std::map<std::string, std::vector<axle_str_t>> list_views;
  mutable std::map<std::string, std::vector<std::string>> list_storage;
  mutable std::map<std::string, std::string> positions;
};

struct axle_error_t {
  std::string message;
};

struct axle_worker_t {
  uint32_t index = 0;
};

struct axle_timer_t {
  uint64_t due_ms = 0, repeat_ms = 0;
  axle_task_fn fn = nullptr;
  void *arg = nullptr;
  bool stopped = false;
};

namespace fake {

const axle_host_api_t *host();
void reset();  // clock to 1000 s, no timers, no violations, counters zero

// The manual clock: advance() fires the timers that come due, in order.
uint64_t now_ms();
void advance(uint64_t ms);
size_t live_timers();

int64_t counter(const std::string &name);  // 0 when never registered
const std::vector<std::string> &logs();
// What the module did that the kernel would refuse (undeclared key, wrong type...).
const std::vector<std::string> &violations();

}  // namespace fake
