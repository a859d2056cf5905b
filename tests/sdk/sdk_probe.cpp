// handler "sdkprobe": a test module built with the C++ SDK. Each route's
// `action` key picks what handle() does, so the wrapper test can drive every
// boundary path (exceptions, config getters, bodies, route lifetime).
#include <axle/sdk/handler.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace {

// Route objects alive in this module, reported in X-Live-Routes.
std::atomic<int> live_routes{0};

class Probe {
 public:
  static constexpr const char *name = "sdkprobe";
  static constexpr const char *version = "0.0.1";
  static constexpr const char *description = "Exercises the axle C++ SDK (tests only)";
  static constexpr axle_config_key_t config_keys[] = {
      axle::sdk::string_key("action", "greet", "greet | lend | own | file | throw-error | throw-std | "
                                               "throw-invalid | throw-alloc | throw-int | bad-status"),
      axle::sdk::string_key("greeting", "hi", "Greeting"),
      axle::sdk::int_key("repeat", "1", "How often the greeting is repeated"),
      axle::sdk::bool_key("shout", "false", "Upper-case the greeting"),
      axle::sdk::bool_key("fail_init", "false", "route_init throws"),
      axle::sdk::bool_key("wrong_type", "false", "route_init reads 'greeting' as an integer"),
      axle::sdk::string_key("file", "", "File served by action = file"),
  };

  explicit Probe(axle::sdk::Host host) : host_(host) {}

  struct Route {
    std::string action, greeting, pattern, base_dir, file;

    Route(std::string a, std::string g, std::string p, std::string b, std::string f)
        : action(std::move(a)), greeting(std::move(g)), pattern(std::move(p)), base_dir(std::move(b)),
          file(std::move(f)) {
      ++live_routes;
    }
    Route(const Route &) = delete;
    Route &operator=(const Route &) = delete;
    ~Route() { --live_routes; }

    void handle(const axle::sdk::Request &req, axle::sdk::Response &resp) const {
      resp.header("X-Live-Routes", std::to_string(live_routes.load()))
          .header("X-Pattern", pattern)
          .header("X-Base-Dir", base_dir);
      if (action == "greet") {
        std::string text = greeting + " " + std::string(req.param("who").value_or("nobody"));
        if (auto agent = req.header("user-agent")) text += " via " + std::string(*agent);
        text += " " + std::string(req.method()) + " " + std::string(req.path()) + "?" + std::string(req.query());
        text += " [" + std::string(req.body()) + "]";
        resp.status(201).body_copy(text);
      } else if (action == "lend") {
        resp.body_lend(greeting);  // the route outlives every response
      } else if (action == "own") {
        resp.body_own(greeting + " owned");
      } else if (action == "file") {
        int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw axle::sdk::Error(AXLE_ERR_IO, file + ": " + std::strerror(errno));
        struct stat st {};
        ::fstat(fd, &st);
        resp.file(fd, 0, static_cast<uint64_t>(st.st_size));
      } else if (action == "throw-error") {
        throw axle::sdk::Error(AXLE_ERR_NOT_FOUND, "no such thing");
      } else if (action == "throw-std") {
        throw std::runtime_error("plain runtime_error");
      } else if (action == "throw-invalid") {
        throw std::invalid_argument("bad argument");
      } else if (action == "throw-alloc") {
        throw std::bad_alloc();
      } else if (action == "throw-int") {
        throw 42;
      } else if (action == "bad-status") {
        resp.status(1000);
      }
    }
  };

  Route route_init(const axle::sdk::RouteConfig &cfg) {
    if (cfg.get<bool>("fail_init")) throw axle::sdk::Error(AXLE_ERR_INVALID, "asked to fail");
    if (cfg.get<bool>("wrong_type")) cfg.get<int64_t>("greeting");
    std::string greeting;
    for (int64_t i = 0; i < cfg.get<int64_t>("repeat"); ++i) greeting += cfg.get<std::string_view>("greeting");
    if (cfg.get<bool>("shout"))
      for (char &c : greeting) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    host_.log(axle::sdk::LogLevel::debug, "route " + std::string(cfg.pattern()));
    return Route(cfg.get<std::string>("action"), std::move(greeting), std::string(cfg.pattern()),
                 std::string(cfg.base_dir()), cfg.get<std::string>("file"));
  }

 private:
  axle::sdk::Host host_;
};

}  // namespace

AXLE_SDK_HANDLER_MODULE(Probe)
