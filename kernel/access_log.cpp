#include "access_log.h"

#include <spdlog/async.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

namespace axle {
namespace {

// O_APPEND: lines from this and any other writer (a second process during
// an upgrade) never overwrite each other; O_CLOEXEC: no module's child inherits it.
int open_append(const std::string &path, std::string &error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) error = "access log " + path + ": " + std::strerror(errno);
  return fd;
}

// Appends lines to a plain descriptor. Lines collect in a buffer and go out in
// one write() when it holds kFlushBytes or on a flush (spdlog's flusher, every
// second), so a busy log costs a syscall per 64 KiB, not per request. The buffer
// is bounded: it is written out (or, on a write error, dropped) at kFlushBytes.
// Runs on spdlog's writer thread only; the reopen happens there, between two lines.
class AppendFileSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  static constexpr size_t kFlushBytes = 64 * 1024;

  AppendFileSink(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~AppendFileSink() override {
    write_out();
    ::close(fd_);
  }
  void request_reopen() { reopen_.store(true, std::memory_order_release); }

 protected:
  void sink_it_(const spdlog::details::log_msg &msg) override {
    reopen_if_asked();
    buffer_.append(msg.payload.data(), msg.payload.size());
    buffer_.push_back('\n');
    if (buffer_.size() >= kFlushBytes) write_out();
  }
  void flush_() override {
    reopen_if_asked();
    write_out();
  }

 private:
  void write_out() {
    size_t done = 0;
    while (done < buffer_.size()) {
      ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // A full disk must not grow memory: these lines are lost, said once per run of failures.
        if (!failing_) spdlog::error("access log {}: lines lost: {}", path_, n < 0 ? std::strerror(errno) : "short write");
        failing_ = true;
        break;
      }
      done += static_cast<size_t>(n);
    }
    if (done == buffer_.size()) failing_ = false;
    buffer_.clear();
  }

  // Lines taken before the request go to the old file (the one rotated away).
  void reopen_if_asked() {
    if (!reopen_.exchange(false, std::memory_order_acq_rel)) return;
    write_out();
    std::string error;
    int fd = open_append(path_, error);
    if (fd < 0) {
      spdlog::error("{}; still writing to the file opened before", error);
      return;
    }
    ::close(fd_);
    fd_ = fd;
  }

  std::string path_;
  int fd_;
  std::string buffer_;
  bool failing_ = false;
  std::atomic<bool> reopen_{false};
};

std::mutex registry_mutex;
std::map<std::string, std::weak_ptr<AccessLog>> registry;
std::atomic<uint64_t> logger_serial{0};

}  // namespace

std::shared_ptr<AccessLog> AccessLog::open(const std::string &path, std::string &error) {
  // Declared before the lock: a log that fails is destroyed after the unlock
  // (its destructor takes the lock too).
  std::shared_ptr<AccessLog> log;
  std::lock_guard lock(registry_mutex);
  auto found = registry.find(path);
  if (found != registry.end()) {
    if (auto existing = found->second.lock()) return existing;
  }
  int fd = open_append(path, error);  // opened here, so a bad path fails the generation at once
  if (fd < 0) return nullptr;
  log.reset(new AccessLog());
  log->path_ = path;
  try {
    auto sink = std::make_shared<AppendFileSink>(path, fd);
    fd = -1;  // the sink owns it now
    if (!spdlog::thread_pool()) spdlog::init_thread_pool(8192, 1);
    // block: a full queue (8192 lines) slows the worker down rather than dropping lines.
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
    if (fd >= 0) ::close(fd);
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
    for (auto &sink : log->logger_->sinks()) static_cast<AppendFileSink *>(sink.get())->request_reopen();
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
