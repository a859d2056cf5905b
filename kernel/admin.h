// The admin endpoint's routes, on a request the reader parsed and the policy
// let through:
//   GET  /generations   live generations, their modules and connections (JSON)
//   POST /reload        re-read the config file and swap generations
// Every answer is JSON (nlohmann::json; bytes that are not UTF-8, as in a
// file path, come out as U+FFFD) and closes the connection.
#pragma once

#include "admin_policy.h"
#include "admin_request.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace axle {

struct AdminHandlers {
  std::function<nlohmann::json()> generations;
  // Returns "" on success, else the reason the running generation stayed.
  std::function<std::string()> reload;
  // The policy in force now: a reload may change [admin] hosts and the token.
  std::function<AdminPolicy()> policy;
};

struct AdminResponse {
  int status = 200;
  nlohmann::json body;
  std::vector<std::pair<std::string, std::string>> headers;  // beside Content-Type, -Length, Connection
};

// {"error": message} with `status`.
AdminResponse admin_error(int status, const std::string &message);

// Checks the caller, then runs the route. Reload runs here, synchronously.
AdminResponse admin_answer(const AdminRequest &request, const AdminHandlers &handlers);

// The response's bytes on the wire (HTTP/1.1, Connection: close).
std::string admin_serialize(const AdminResponse &response);

}  // namespace axle
