// Turns a request path as sent into the form routers and handlers see.
#pragma once

#include <string>
#include <string_view>

namespace axle::http {

// Percent-decodes `raw` (the target up to '?') and removes "." and ".."
// segments (RFC 3986 5.2.4), so "/a/../b" and "/a/%2e%2e/b" both become "/b"
// and nothing climbs above "/". An empty path becomes "/". Returns false for
// a malformed escape, an encoded NUL or a path not starting with '/'.
bool normalize_request_path(std::string_view raw, std::string &out);

}  // namespace axle::http
