// The request-target sent upstream: the client's, or with the route's
// literal prefix replaced (route key `rewrite`). Pure functions.
#pragma once

#include <string>
#include <string_view>

namespace axle::proxy {

// The literal part of a route pattern, before its first '*' or '{':
// "/app/*" -> "/app/".
std::string_view literal_prefix(std::string_view pattern);

// target: the request-target as sent (origin or absolute form); path/query:
// the host's decoded path and raw query, used when the raw target does not
// start with the prefix (e.g. percent-encoded). rewrite empty: the target goes
// as is (absolute form reduced to origin form).
std::string rewrite_target(std::string_view target, std::string_view path, std::string_view query,
                           std::string_view prefix, std::string_view rewrite);

}  // namespace axle::proxy
