// Test-only stand-ins for the kernel: load a module .so by path and give it a
// host services table that records what it does, so module tests need no
// kernel. Not a second kernel: responses are only collected, never sent.
#pragma once

#include <axle/handler.h>
#include <axle/module.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct axle_config_t {
  std::map<std::string, std::string> strings;
  std::map<std::string, int64_t> ints;
  std::map<std::string, bool> bools;
  std::string base_dir = ".";
};

struct axle_error_t {
  std::string message;
};

struct axle_worker_t {
  uint32_t index = 0;
  std::string date = "Thu, 26 Nov 2026 18:40:10 GMT";
};

// What a handler produced, flattened.
struct axle_response_t {
  uint16_t status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;            // copied or lent body
  int file_fd = -1;            // response_body_file
  uint64_t file_offset = 0, file_length = 0;
  std::string prebuilt;        // response_prebuilt image
  size_t prebuilt_head_len = 0;
  std::vector<std::pair<axle_release_fn, void *>> releases;  // run by ~axle_response_t
  ~axle_response_t();
  std::string header(const std::string &name) const;  // case-insensitive, "" if absent
  std::string file_contents() const;                   // reads [file_offset, +file_length)
};

namespace axle::test {

// The host table the tests hand to modules.
const axle_host_api_t *host_api();

// A dlopen'ed module. Closes the library on destruction.
class LoadedModule {
 public:
  explicit LoadedModule(const std::string &path);  // aborts the test on failure
  ~LoadedModule();
  const axle_module_descriptor_t &desc() const { return *desc_; }
  template <class VTable>
  const VTable &vtable() const { return *static_cast<const VTable *>(desc_->vtable); }

 private:
  void *handle_ = nullptr;
  const axle_module_descriptor_t *desc_ = nullptr;
};

// An instance plus (optionally) one worker's thread context.
class Instance {
 public:
  Instance(const LoadedModule &module, const axle_config_t &cfg = {});
  ~Instance();
  void *get() const { return instance_; }
  void *thread_ctx() const { return thread_ctx_; }
  axle_worker_t &worker() { return worker_; }

 private:
  const LoadedModule &module_;
  axle_config_t cfg_;
  axle_worker_t worker_;
  void *instance_ = nullptr;
  void *thread_ctx_ = nullptr;
};

// Sees the module's own bytes on every response_prebuilt call, before the
// host copies them, so tests can check lent memory stays unchanged while
// lent. An empty function removes the observer.
void set_prebuilt_observer(std::function<void(const void *wire, size_t len)> observer);

// Path of a built module: <AXLE_TEST_MODULE_DIR>/axle-<kind>-<name>.so
std::string module_path(const std::string &kind, const std::string &name);

}  // namespace axle::test
