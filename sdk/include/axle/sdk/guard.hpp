// axle C++ SDK (internal): keeps exceptions on the module's side of the ABI.
#pragma once

#include <axle/module.h>
#include <axle/sdk/config.hpp>
#include <axle/sdk/error.hpp>

#include <cstdio>
#include <exception>
#include <new>
#include <stdexcept>
#include <string_view>

namespace axle::sdk::detail {

// Runs body(); an exception becomes its status, and its text goes to report
// (which must not throw). Nothing escapes.
template <class Body, class Report>
axle_status_t guarded(Body &&body, Report &&report) noexcept {
  try {
    body();
    return AXLE_OK;
  } catch (const Error &e) {
    report(e.what());
    return e.status() == AXLE_OK ? AXLE_ERR_INTERNAL : e.status();
  } catch (const std::bad_alloc &) {
    report("out of memory");
    return AXLE_ERR_NOMEM;
  } catch (const std::invalid_argument &e) {
    report(e.what());
    return AXLE_ERR_INVALID;
  } catch (const std::exception &e) {
    report(e.what());
    return AXLE_ERR_INTERNAL;
  } catch (...) {
    report("unknown exception");
    return AXLE_ERR_INTERNAL;
  }
}

// "<prefix>: <what>" in a fixed buffer (truncated), so reporting an error
// cannot itself fail. The host copies it.
struct Message {
  char text[512];
  size_t len;
  Message(const char *prefix, const char *what) noexcept {
    int n = std::snprintf(text, sizeof text, "%s: %s", prefix, what);
    len = n < 0 ? 0 : (static_cast<size_t>(n) < sizeof text ? static_cast<size_t>(n) : sizeof text - 1);
  }
};

// Logs what a route's handler threw: "<module>: route <pattern>: <what>".
inline void log_route_error(const Host &host, const char *module, std::string_view route, const char *what) noexcept {
  char prefix[256];
  std::snprintf(prefix, sizeof prefix, "%s: route %.*s", module, static_cast<int>(route.size()), route.data());
  Message m(prefix, what);
  host.log(LogLevel::error, std::string_view(m.text, m.len));
}

}  // namespace axle::sdk::detail
