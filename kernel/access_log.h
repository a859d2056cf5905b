// The access log's file writer: lines go through spdlog's async queue to a
// background thread (workers never wait on the disk) that appends them to a
// plain descriptor opened O_APPEND|O_CLOEXEC. SIGUSR1 reopens the file (log
// rotation). The line itself is formatted by http/access_record.h.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace axle {

class AccessLog {
 public:
  // The log for `path`, shared with any generation already writing to it so
  // two generations never interleave partial lines. nullptr + error on failure.
  static std::shared_ptr<AccessLog> open(const std::string &path, std::string &error);
  // Every open access log reopens its file (async-signal-unsafe: call from
  // the main thread, not from a signal handler).
  static void reopen_all();

  ~AccessLog();
  // Any worker thread. `line` without the trailing newline.
  void write(std::string_view line);
  const std::string &path() const { return path_; }

 private:
  AccessLog() = default;
  std::string path_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace axle
