#include "health.h"

namespace axle::proxy {

Health::Health(const HealthSettings &settings, size_t server_count) : settings_(settings), servers_(server_count) {}

size_t Health::server_count() const { return servers_.size(); }

bool Health::available(size_t server, uint64_t now_ms) const {
  if (server >= servers_.size()) return false;
  const Server &s = servers_[server];
  return s.checked_up && now_ms >= s.ejected_until_ms;
}

void Health::request_succeeded(size_t server) {
  if (server >= servers_.size()) return;
  Server &s = servers_[server];
  s.consecutive_fails = 0;
  s.ejections_in_row = 0;
}

void Health::request_failed(size_t server, uint64_t now_ms) {
  if (server >= servers_.size() || settings_.max_fails == 0) return;
  Server &s = servers_[server];
  // Attempts that were in flight when the server was ejected report late:
  // they are the same outage, not a reason to eject again.
  if (now_ms < s.ejected_until_ms) return;
  if (++s.consecutive_fails < settings_.max_fails) return;
  // eject_ms doubled per ejection in a row, capped; doubling step by step
  // so a long run of ejections cannot overflow the shift.
  uint64_t ms = settings_.eject_ms;
  for (uint32_t i = 0; i < s.ejections_in_row && ms < settings_.eject_max_ms; ++i) ms *= 2;
  if (ms > settings_.eject_max_ms) ms = settings_.eject_max_ms;
  s.ejected_until_ms = now_ms + ms;
  s.consecutive_fails = 0;
  if (s.ejections_in_row < UINT32_MAX) ++s.ejections_in_row;
}

void Health::check_passed(size_t server) {
  if (server >= servers_.size()) return;
  Server &s = servers_[server];
  s.checks_failed = 0;
  if (s.checks_passed < UINT32_MAX) ++s.checks_passed;
  if (!s.checked_up && s.checks_passed >= settings_.rise) s.checked_up = true;
  // A passed check also ends a passive ejection (as Envoy's
  // successful_active_health_check_uneject_host): a restarted server
  // rejoins at the next check, not after a backoff of up to eject_max_ms.
  // Its backoff stays until a request succeeds, so a flapping server is
  // still ejected for longer each time.
  if (s.checked_up) {
    s.ejected_until_ms = 0;
    s.consecutive_fails = 0;
  }
}

void Health::check_failed(size_t server) {
  if (server >= servers_.size()) return;
  Server &s = servers_[server];
  s.checks_passed = 0;
  if (s.checks_failed < UINT32_MAX) ++s.checks_failed;
  if (s.checked_up && s.checks_failed >= settings_.fall) s.checked_up = false;
}

}  // namespace axle::proxy
