// handler "sse_clock", written with the axle C++ SDK's coroutines: a
// server-sent events stream with one event per interval_ms, each carrying
// the Unix time in milliseconds ("data: 1764477000123\n\n"). With count > 0
// the stream ends after that many events; otherwise it runs until the
// client leaves (the SDK then destroys the coroutine and its timer).
// pad_bytes > 0 puts a comment line of that many 'x' before each event
// (clients ignore it): big events for back-pressure tests and benches.
#include <axle/sdk/handler.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace {

class SseClock {
 public:
  static constexpr const char *name = "sse_clock";
  static constexpr const char *version = "1.0.0";
  static constexpr const char *description = "Server-sent events: the Unix time in ms, one event per interval_ms";
  static constexpr axle_config_key_t config_keys[] = {
      axle::sdk::int_key("interval_ms", "1000", "Milliseconds between two events (at least 1)"),
      axle::sdk::int_key("count", "0", "Events to send before ending the stream; 0 = until the client leaves"),
      axle::sdk::int_key("pad_bytes", "0", "Bytes of an SSE comment line (': xxx...') before each event, at most 1 MiB"),
  };
  static constexpr int64_t kMaxPad = 1 << 20;

  struct Route {
    uint64_t interval_ms;
    uint64_t count;
    std::string pad;  // ": xxx...\n", or empty

    axle::sdk::Task handle(axle::sdk::Exchange &ex) const {
      ex.begin(200, {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}});
      std::string event;
      for (uint64_t sent = 0; count == 0 || sent < count; ++sent) {
        if (sent > 0) co_await ex.sleep(interval_ms);
        auto now = std::chrono::system_clock::now().time_since_epoch();
        event = pad + "data: " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) + "\n\n";
        co_await ex.write(event);  // waits while the client is slow to read
      }
      ex.finish();
    }
  };

  Route route_init(const axle::sdk::RouteConfig &cfg) {
    int64_t interval = cfg.get<int64_t>("interval_ms");
    int64_t count = cfg.get<int64_t>("count");
    if (interval < 1) throw axle::sdk::Error(AXLE_ERR_INVALID, "interval_ms must be at least 1");
    if (count < 0) throw axle::sdk::Error(AXLE_ERR_INVALID, "count must not be negative");
    int64_t pad_bytes = cfg.get<int64_t>("pad_bytes");
    if (pad_bytes < 0 || pad_bytes > kMaxPad) throw axle::sdk::Error(AXLE_ERR_INVALID, "pad_bytes must be 0 to 1048576");
    std::string pad;
    if (pad_bytes > 0) pad = ": " + std::string(static_cast<size_t>(pad_bytes), 'x') + "\n";
    return Route{static_cast<uint64_t>(interval), static_cast<uint64_t>(count), std::move(pad)};
  }
};

}  // namespace

AXLE_SDK_HANDLER_MODULE(SseClock)
