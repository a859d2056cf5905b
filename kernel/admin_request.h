// The admin endpoint's request reader: a strict, small HTTP/1.x parser fed
// bytes as they arrive. It takes only what a plain client (curl, urllib)
// sends: CRLF lines, token field names, a Content-Length body. Anything else
// ends in an error carrying the status to answer. Its buffer is bounded by
// kMaxHeadBytes + kMaxBodyBytes; extra bytes after the request are dropped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace axle {

struct AdminRequest {
  std::string method;
  std::string target;
  int minor = 1;  // HTTP/1.<minor>
  std::vector<std::pair<std::string, std::string>> fields;  // names lowercased, values trimmed
  std::string body;

  // The value of field `name` (lowercase), nullptr if absent. The reader
  // refuses duplicates of the fields the admin looks at, so one is enough.
  const std::string *field(std::string_view name) const;
};

class AdminRequestReader {
 public:
  static constexpr size_t kMaxHeadBytes = 8192;  // request line + fields + blank line
  static constexpr size_t kMaxFields = 32;
  static constexpr size_t kMaxBodyBytes = 4096;  // no route needs a body; a small one is read and ignored

  enum class State { NeedMore, Done, Error };

  // Takes the next bytes from the client. After Done or Error, further
  // bytes are ignored.
  State feed(std::string_view bytes);

  State state() const { return state_; }
  const AdminRequest &request() const { return request_; }
  // Set on Error: the status to answer (400, 411, 413, 431, 505) and why.
  int error_status() const { return error_status_; }
  const std::string &error_message() const { return error_message_; }

 private:
  State fail(int status, std::string message);
  State parse_head(std::string_view head);
  State take_body();

  std::string buffer_;
  size_t scanned_ = 0;      // bytes of buffer_ already checked for a bare LF
  size_t body_start_ = 0;   // 0 until the head is parsed
  size_t body_length_ = 0;  // Content-Length
  AdminRequest request_;
  State state_ = State::NeedMore;
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace axle
