#include "access_log.h"

#include <spdlog/async.h>
#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <mutex>

namespace axle {
namespace {

// A file sink whose file can be reopened after rotation; the reopen runs on
// spdlog's writer thread, between two lines.
class ReopenableFileSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopenableFileSink(const std::string &path) { file_.open(path, false); }
  void request_reopen() { reopen_.store(true, std::memory_order_release); }

 protected:
  void sink_it_(const spdlog::details::log_msg &msg) override {
    reopen_if_asked();
    spdlog::memory_buf_t line;
    line.append(msg.payload.data(), msg.payload.data() + msg.payload.size());
    line.push_back('\n');
    file_.write(line);
  }
  void flush_() override {
    reopen_if_asked();
    file_.flush();
  }

 private:
  void reopen_if_asked() {
    if (reopen_.exchange(false, std::memory_order_acq_rel)) file_.reopen(false);
  }
  spdlog::details::file_helper file_;
  std::atomic<bool> reopen_{false};
};

std::mutex registry_mutex;
std::map<std::string, std::weak_ptr<AccessLog>> registry;
std::atomic<uint64_t> logger_serial{0};

}  // namespace

std::shared_ptr<AccessLog> AccessLog::open(const std::string &path, std::string &error) {
  std::lock_guard lock(registry_mutex);
  if (auto existing = registry[path].lock()) return existing;
  std::shared_ptr<AccessLog> log(new AccessLog());
  log->path_ = path;
  try {
    if (!spdlog::thread_pool()) spdlog::init_thread_pool(8192, 1);
    auto sink = std::make_shared<ReopenableFileSink>(path);
    // block: a full queue slows the worker down rather than dropping lines.
    log->logger_ = std::make_shared<spdlog::async_logger>(
        "access-" + std::to_string(logger_serial++), sink, spdlog::thread_pool(),
        spdlog::async_overflow_policy::block);
    log->logger_->set_pattern("%v");
    log->logger_->flush_on(spdlog::level::off);
    // Registered so spdlog's flusher thread writes lines out every second
    // (a flush per line would cost a syscall per request).
    spdlog::register_logger(log->logger_);
    spdlog::flush_every(std::chrono::seconds(1));
  } catch (const std::exception &e) {
    error = "access log " + path + ": " + e.what();
    return nullptr;
  }
  registry[path] = log;
  return log;
}

void AccessLog::reopen_all() {
  std::lock_guard lock(registry_mutex);
  for (auto &[path, weak] : registry) {
    auto log = weak.lock();
    if (!log) continue;
    for (auto &sink : log->logger_->sinks())
      static_cast<ReopenableFileSink *>(sink.get())->request_reopen();
    log->logger_->flush();  // queued behind pending lines; performs the reopen
  }
}

AccessLog::~AccessLog() {
  if (logger_) {
    logger_->flush();
    spdlog::drop(logger_->name());
  }
  std::lock_guard lock(registry_mutex);
  auto it = registry.find(path_);
  if (it != registry.end() && it->second.expired()) registry.erase(it);
}

void AccessLog::write(std::string_view line) { logger_->info("{}", line); }

}  // namespace axle
