#pragma once

#include <cstdint>
#include <utility>

namespace axle {

// Counts events that deserve a log line and lets at most one line a second
// report them, saying how many it covers: a flood of refusals costs a counter
// each, not a line each. One thread (a worker) owns it.
class LogThrottle {
 public:
  void add() { ++pending_; }

  // How many events the line written now covers (and none pending after), or 0
  // when there is nothing to report or the last line is under a second old.
  uint32_t take(uint64_t now_ms) {
    if (pending_ == 0 || now_ms < next_line_ms_) return 0;
    next_line_ms_ = now_ms + 1000;
    return std::exchange(pending_, 0);
  }

 private:
  uint32_t pending_ = 0;
  uint64_t next_line_ms_ = 0;
};

}  // namespace axle
