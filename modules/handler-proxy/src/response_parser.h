// A strict HTTP/1.1 response parser for the proxy's upstream side, sans-I/O:
// the caller hands it bytes and pulls events one at a time (head, a body
// slice, end), so it can stop at any event when the client is not taking
// bytes and resume later with the rest. Body slices point into the caller's
// input (no copy); the head, chunk-size lines and trailers are gathered in a
// bounded buffer across any split.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace axle::proxy {

struct ResponseHead {
  unsigned version_minor = 1;  // HTTP/1.<minor>
  unsigned status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  int64_t content_length = -1;  // -1: none given
  bool chunked = false;
  bool close = false;  // the server closes after this response (Connection: close, or HTTP/1.0 without keep-alive)
};

class ResponseParser {
 public:
  // Bounds: a head (status line + headers) or the trailer section larger than
  // this is malformed; so are more header lines than max_header_lines.
  static constexpr size_t max_head_bytes = 64 * 1024;
  static constexpr size_t max_header_lines = 128;
  static constexpr size_t max_chunk_line_bytes = 1024;

  enum class Event {
    need_more,  // input used up; feed more (or call on_eof at end of stream)
    head,       // head() is ready: a 1xx (more heads follow, except 101) or the final head
    body,       // body() is the next slice of the body, into the caller's input
    end,        // the response is complete; trailers() holds a chunked body's trailers
    error       // malformed; error_text() says why. Sticky.
  };

  // head_request: the request was HEAD (a final response then has no body).
  explicit ResponseParser(bool head_request = false) : head_request_(head_request) {}

  // Consumes from the front of `input` up to the next event and returns it.
  Event next(std::string_view &input);
  // The upstream closed its side: `end` for a close-delimited body, else
  // `error` (truncated). Call after next() returned need_more.
  Event on_eof();

  const ResponseHead &head() const { return head_; }
  std::string_view body() const { return body_; }
  const std::vector<std::pair<std::string, std::string>> &trailers() const { return trailers_; }
  const std::string &error_text() const { return error_; }
  // The final head was 101: the rest of the stream is the tunnel's, not HTTP.
  bool switched() const { return state_ == State::switched; }
  // The response ended (end was returned): bytes after it are not its own.
  bool complete() const { return state_ == State::complete; }
  // Bytes of any head or body seen (for "nothing arrived yet" decisions).
  bool started() const { return started_; }

 private:
  enum class State { head, body_length, body_close, chunk_size, chunk_data, chunk_crlf, trailers, done, complete, switched, error };

  Event fail(std::string why);
  Event parse_head(std::string_view head);  // head: status line to blank line, in buf_ or the input
  bool parse_trailers();
  Event after_head();

  bool head_request_;
  State state_ = State::head;
  bool started_ = false;
  std::string buf_;  // a head split across inputs, a chunk-size line or the trailers being gathered (bounded as above)
  ResponseHead head_;
  std::vector<std::pair<std::string, std::string>> trailers_;
  uint64_t left_ = 0;  // body bytes left (Content-Length) or of the current chunk
  std::string_view body_;
  std::string error_;
};

// Case-insensitive ASCII comparison, for header names and tokens.
bool iequals(std::string_view a, std::string_view b);
// Does a comma-separated header value list `token` (case-insensitive)?
bool has_token(std::string_view list, std::string_view token);

}  // namespace axle::proxy
