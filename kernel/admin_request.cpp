#include "admin_request.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace axle {
namespace {

// RFC 9110 tchar: what a method or a field name is made of.
bool is_tchar(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

// Field value octets: HTAB, SP, VCHAR and obs-text; no other control byte.
bool is_field_value(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c == '\t' || (c >= 0x20 && c != 0x7f);
  });
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Fields the admin decides on: a second copy could say something else to a
// proxy in front than to us, so a duplicate is refused.
constexpr std::array<std::string_view, 7> kSingletons = {"host",          "content-length", "content-type",
                                                         "authorization", "origin",         "sec-fetch-site",
                                                         "transfer-encoding"};

}  // namespace

const std::string *AdminRequest::field(std::string_view name) const {
  for (const auto &[n, v] : fields) {
    if (n == name) return &v;
  }
  return nullptr;
}

AdminRequestReader::State AdminRequestReader::fail(int status, std::string message) {
  error_status_ = status;
  error_message_ = std::move(message);
  return state_ = State::Error;
}

AdminRequestReader::State AdminRequestReader::feed(std::string_view bytes) {
  if (state_ != State::NeedMore) return state_;
  // The buffer never holds more than the largest acceptable request.
  buffer_.append(bytes.substr(0, kMaxHeadBytes + kMaxBodyBytes - buffer_.size()));
  if (body_start_ > 0) return take_body();
  size_t end = buffer_.find("\r\n\r\n");
  if (end != std::string::npos ? end + 4 > kMaxHeadBytes : buffer_.size() >= kMaxHeadBytes) {
    return fail(431, "request head over 8192 bytes");
  }
  // A bare CR or LF ends a line for some parsers and not for others: refuse
  // both in the head. A CR last in the buffer is checked again with the next bytes.
  size_t limit = end == std::string::npos ? buffer_.size() : end + 4;
  for (size_t i = scanned_; i < limit; ++i) {
    if (buffer_[i] == '\n' && (i == 0 || buffer_[i - 1] != '\r')) return fail(400, "a line ends in LF without CR");
    if (buffer_[i] == '\r' && i + 1 < buffer_.size() && buffer_[i + 1] != '\n') return fail(400, "a CR without LF");
  }
  scanned_ = limit > 0 && buffer_[limit - 1] == '\r' ? limit - 1 : limit;
  if (end == std::string::npos) return State::NeedMore;
  if (parse_head(std::string_view(buffer_).substr(0, end + 2)) == State::Error) return state_;
  body_start_ = end + 4;
  return take_body();
}

AdminRequestReader::State AdminRequestReader::take_body() {
  if (buffer_.size() < body_start_ + body_length_) return State::NeedMore;
  // Bytes past the body (a pipelined request) are not served: one request per connection.
  request_.body = buffer_.substr(body_start_, body_length_);
  return state_ = State::Done;
}

AdminRequestReader::State AdminRequestReader::parse_head(std::string_view head) {
  // Request line: method SP origin-form SP HTTP/1.x, nothing else.
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return fail(400, "the request line must be: method SP target SP HTTP-version");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return fail(400, "the method is not a token");
  bool visible = std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c < 0x7f && c != '#'; });
  if (target.empty() || target.front() != '/' || !visible) return fail(400, "the target must be a path (origin-form)");
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !std::isdigit(static_cast<unsigned char>(version[5])) ||
      version[6] != '.' || !std::isdigit(static_cast<unsigned char>(version[7]))) {
    return fail(400, "malformed HTTP version");
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) return fail(505, "only HTTP/1.0 and HTTP/1.1");
  request_.method = method;
  request_.target = target;
  request_.minor = version[7] - '0';

  // Field lines: token ":" OWS value OWS. No obs-fold, no space before ":".
  size_t pos = eol + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    std::string_view fl = head.substr(pos, next - pos);
    pos = next + 2;
    if (request_.fields.size() == kMaxFields) return fail(431, "more than 32 header fields");
    size_t colon = fl.find(':');
    if (colon == std::string_view::npos || !is_token(fl.substr(0, colon))) {
      return fail(400, "a header field is not name \":\" value");
    }
    std::string_view value = trim_ows(fl.substr(colon + 1));
    if (!is_field_value(value)) return fail(400, "a control byte in a header field value");
    std::string name(fl.substr(0, colon));
    for (char &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool singleton = std::find(kSingletons.begin(), kSingletons.end(), name) != kSingletons.end();
    if (singleton && request_.field(name)) return fail(400, "duplicate " + name + " header field");
    request_.fields.emplace_back(std::move(name), std::string(value));
  }

  if (request_.field("transfer-encoding")) return fail(411, "send the body with Content-Length, not Transfer-Encoding");
  if (const std::string *cl = request_.field("content-length")) {
    bool digits = !cl->empty() && std::all_of(cl->begin(), cl->end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) return fail(400, "Content-Length is not a number");
    if (cl->size() > 6 || std::stoul(*cl) > kMaxBodyBytes) return fail(413, "body over 4096 bytes");
    body_length_ = std::stoul(*cl);
  }
  return State::NeedMore;
}

}  // namespace axle
