// handler "sleep", written with the axle C++ SDK's coroutines: /sleep/{ms}
// answers after ms milliseconds, waiting on a timer so the worker serves
// others meanwhile. ms above the route's max_ms (or not a number) gets 400.
#include <axle/sdk/handler.hpp>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

class Sleep {
 public:
  static constexpr const char *name = "sleep";
  static constexpr const char *version = "1.0.0";
  static constexpr const char *description = "Answers /sleep/{ms} after ms milliseconds (a timer, not a blocked worker)";
  static constexpr axle_config_key_t config_keys[] = {
      axle::sdk::int_key("max_ms", "60000", "Longest sleep a client may ask for; more is answered 400"),
  };

  struct Route {
    uint64_t max_ms;

    axle::sdk::Task handle(axle::sdk::Exchange &ex) const {
      // The request is readable only before the first co_await: parse now.
      std::string_view text = ex.request().param("ms").value_or("");
      uint64_t ms = 0;
      auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), ms);
      if (text.empty() || err != std::errc() || end != text.data() + text.size() || ms > max_ms) {
        ex.status(400).header("Content-Type", "text/plain; charset=utf-8");
        ex.reply("ms must be a whole number of milliseconds from 0 to " + std::to_string(max_ms) + "\n");
        co_return;
      }
      co_await ex.sleep(ms);
      ex.header("Content-Type", "text/plain; charset=utf-8");
      ex.reply("slept " + std::to_string(ms) + " ms\n");
    }
  };

  Route route_init(const axle::sdk::RouteConfig &cfg) {
    int64_t max_ms = cfg.get<int64_t>("max_ms");
    if (max_ms < 0) throw axle::sdk::Error(AXLE_ERR_INVALID, "max_ms must not be negative");
    return Route{static_cast<uint64_t>(max_ms)};
  }
};

}  // namespace

AXLE_SDK_HANDLER_MODULE(Sleep)
