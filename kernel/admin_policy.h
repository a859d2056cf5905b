// Who may use the admin endpoint: the checks made on every request before
// any route runs. They stop a browser page on another origin (Origin,
// Sec-Fetch-Site), a DNS-rebinding page (Host must be loopback or a name the
// operator listed) and, when a token is configured, anyone without it.
#pragma once

#include "admin_request.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace axle {

struct AdminPolicy {
  std::vector<std::string> hosts;  // [admin] hosts, lowercase, beside the loopback names
  std::string token;               // [admin] token_file's token; empty = none required
};

// A refused request: the status (400, 401, 403) and the reason for the client.
struct AdminRefusal {
  int status;
  std::string message;
};

// The first rule `request` breaks, or nothing when it may reach the routes.
std::optional<AdminRefusal> check_caller(const AdminRequest &request, const AdminPolicy &policy);

// A Host value naming this endpoint: 127.x.x.x, [::1] or localhost (any
// case), or one of `names`, each with an optional port.
bool admin_host_allowed(std::string_view host, const std::vector<std::string> &names);

// presented == token, in a time that depends only on presented's length.
bool admin_token_matches(std::string_view presented, std::string_view token);

}  // namespace axle
