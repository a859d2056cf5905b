// handler "relayprobe", a test module for the SDK's Outgoing: /relay/{port}
// connects to 127.0.0.1:{port}, sends "ping\n", half-closes, and answers
// with everything the peer sent back until it closed. A client that leaves
// first aborts the request: the SDK destroys the coroutine, which closes the
// outgoing connection (the peer sees it).
#include <axle/sdk/handler.hpp>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

struct RelayProbe {
  static constexpr const char *name = "relayprobe";
  static constexpr const char *version = "1.0.0";
  static constexpr const char *description = "test: relays a ping to 127.0.0.1:{port}";

  struct Route {
    axle::sdk::Task handle(axle::sdk::Exchange &ex) const {
      std::string_view text = ex.request().param("port").value_or("");
      uint16_t port = 0;
      auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), port);
      if (err != std::errc() || end != text.data() + text.size()) throw axle::sdk::Error(AXLE_ERR_INVALID, "bad port");
      axle::sdk::Outgoing conn = co_await ex.connect(axle::sdk::address("127.0.0.1", port));
      co_await conn.send("ping\n");
      conn.shutdown_write();
      std::string got;
      while (auto bytes = co_await conn.read()) got += *bytes;
      ex.reply(got);
    }
  };
  Route route_init(const axle::sdk::RouteConfig &) { return {}; }
};

}  // namespace

AXLE_SDK_HANDLER_MODULE(RelayProbe)
