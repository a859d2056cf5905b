// Reads the bytes a server sent back as HTTP/1.1 responses, strictly. Used by
// the engine's unit tests and by the engine fuzzer (so: no test framework).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace axle::enginetest {

// One response read back from the engine's bytes.
struct WireResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // decoded (chunked framing removed)
  bool chunked = false;                                       // Transfer-Encoding: chunked
  std::vector<std::pair<std::string, std::string>> trailers;  // of a chunked body
  std::string header(std::string_view name) const;  // first value, case-insensitive name; "" if absent
  size_t count(std::string_view name) const;
  bool closes() const;  // "Connection: close"
};

struct WireParse {
  std::vector<WireResponse> responses;
  std::string error;  // empty when every byte formed well-formed responses
  bool truncated = false;  // the only fault: the bytes stop inside a response
};

// Parses a byte stream as consecutive HTTP/1.1 responses, strictly: status
// line "HTTP/1.1 NNN reason", token field names, Server and Date present, and
// every final response framed by exactly one of: one Content-Length and
// exactly that many body bytes; "Transfer-Encoding: chunked" and well-formed
// chunks, last chunk and trailers; or (with Connection: close) the rest of
// the stream. Answers to HEAD (head_only[i] for the i-th final response) have
// no body. 1xx, 204 and 304 responses carry no body (nor, for 204/304, any
// framing). A trailing partial response is an error.
WireParse parse_wire(std::string_view wire, const std::vector<bool> &head_only = {});

}  // namespace axle::enginetest
