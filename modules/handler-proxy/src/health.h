// One worker's view of whether each server of an upstream group may take
// requests: passive ejection after consecutive failures (with backoff that
// doubles on each ejection in a row, capped), and the verdicts of active
// checks (down after `fall` failed checks, back after `rise` passed ones).
// Pure state, fed by the proxy and the active checker; no I/O, no clock of
// its own (every call takes now_ms).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace axle::proxy {

struct HealthSettings {
  uint32_t max_fails = 3;              // consecutive request failures that eject (0 = never)
  uint64_t eject_ms = 1000;            // first ejection; doubles per ejection in a row
  uint64_t eject_max_ms = 30000;       // cap of that backoff
  uint32_t rise = 2;                   // passed active checks that bring a down server back
  uint32_t fall = 3;                   // failed active checks that take a server down
  bool active = false;                 // active checks configured: a server starts up and
                                       // follows their verdicts
};

class Health {
 public:
  Health(const HealthSettings &settings, size_t server_count);

  // May server i take a request now? False while ejected or checked down.
  bool available(size_t server, uint64_t now_ms) const;

  // A request attempt's outcome on server i (passive). A failure is a
  // connect failure, reset, timeout or 502/503 from the server.
  void request_succeeded(size_t server);
  void request_failed(size_t server, uint64_t now_ms);

  // An active check's verdict.
  void check_passed(size_t server);
  void check_failed(size_t server);

  size_t server_count() const;
  // For logs and metrics: is server i up in the checks' view and not ejected.
  bool up(size_t server, uint64_t now_ms) const { return available(server, now_ms); }

 private:
  struct Server {
    uint32_t consecutive_fails = 0;  // request failures since the last success or ejection
    uint32_t ejections_in_row = 0;   // ejections with no request success between them
    uint64_t ejected_until_ms = 0;   // passive ejection ends then (0: not ejected)
    bool checked_up = true;          // the active checks' verdict
    uint32_t checks_passed = 0;      // active checks passed in a row
    uint32_t checks_failed = 0;      // active checks failed in a row
  };
  HealthSettings settings_;
  std::vector<Server> servers_;
};

}  // namespace axle::proxy
