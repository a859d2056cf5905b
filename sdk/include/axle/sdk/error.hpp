// axle C++ SDK: the error type a module throws. The SDK catches it (and any
// other exception) at the ABI boundary and turns it into a status plus a
// message; nothing is ever thrown across the C ABI.
#pragma once

#include <axle/module.h>

#include <stdexcept>
#include <string>

namespace axle::sdk {

// An error with the status the host should see.
class Error : public std::runtime_error {
 public:
  Error(axle_status_t status, const std::string &message) : std::runtime_error(message), status_(status) {}
  axle_status_t status() const noexcept { return status_; }

 private:
  axle_status_t status_;
};

// Throws Error(status, what) unless status is AXLE_OK.
inline void check(axle_status_t status, const char *what) {
  if (status != AXLE_OK) throw Error(status, what);
}

}  // namespace axle::sdk
