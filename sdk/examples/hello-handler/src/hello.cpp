// handler "hello", written with the axle C++ SDK: a route such as
// /hello/{name} answers "<greeting>, <name>", the greeting set per route.
#include <axle/sdk/handler.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace {

class Hello {
 public:
  static constexpr const char *name = "hello";
  static constexpr const char *version = "1.0.0";
  static constexpr const char *description = "Answers \"<greeting>, <name>\" from the {name} path parameter";
  // Keys a [[route]] using this handler may set.
  static constexpr axle_config_key_t config_keys[] = {
      axle::sdk::string_key("greeting", "hello", "Word put before the name"),
  };

  // One per route; handle() runs on every worker at once, so it is const.
  struct Route {
    std::string greeting;

    void handle(const axle::sdk::Request &req, axle::sdk::Response &resp) const {
      std::string text = greeting;
      text += ", ";
      text += req.param("name").value_or("world");
      text += '\n';
      resp.header("Content-Type", "text/plain; charset=utf-8").body_copy(text);
    }
  };

  // Runs once per route at startup or reload; an exception fails the config.
  Route route_init(const axle::sdk::RouteConfig &cfg) {
    auto greeting = cfg.get<std::string>("greeting");
    if (greeting.empty()) throw axle::sdk::Error(AXLE_ERR_INVALID, "greeting must not be empty");
    return Route{std::move(greeting)};
  }
};

}  // namespace

AXLE_SDK_HANDLER_MODULE(Hello)
