#include "response_parser.h"

#include <algorithm>

namespace axle::proxy {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// Field-value bytes: VCHAR, obs-text, SP, HTAB.
bool is_value_char(unsigned char c) { return c == '\t' || c == ' ' || (c > 0x20 && c != 0x7f); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits `block` (lines each ending in CRLF, no blank line) into fields.
// False on a malformed line.
bool parse_fields(std::string_view block, std::vector<std::pair<std::string, std::string>> &out, size_t max_lines,
                  std::string &why) {
  while (!block.empty()) {
    size_t eol = block.find("\r\n");
    if (eol == std::string_view::npos) {
      why = "header line without CRLF";
      return false;
    }
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol + 2);
    if (out.size() >= max_lines) {
      why = "too many header lines";
      return false;
    }
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      why = "obsolete line folding";
      return false;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      why = "header line without a name";
      return false;
    }
    std::string_view name = line.substr(0, colon);
    for (unsigned char c : name)
      if (!is_tchar(c)) {
        why = "invalid header name";
        return false;
      }
    std::string_view value = line.substr(colon + 1);
    for (unsigned char c : value)
      if (!is_value_char(c)) {
        why = "invalid byte in a header value";
        return false;
      }
    out.emplace_back(std::string(name), std::string(trim(value)));
  }
  return true;
}

// A bare LF or CR anywhere but in CRLF pairs makes the message malformed.
bool crlf_only(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 >= s.size() || s[i + 1] != '\n')) return false;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
  }
  return true;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

ResponseParser::Event ResponseParser::fail(std::string why) {
  state_ = State::error;
  error_ = std::move(why);
  return Event::error;
}

ResponseParser::Event ResponseParser::next(std::string_view &input) {
  switch (state_) {
    case State::head: {
      if (input.empty()) return Event::need_more;
      started_ = true;
      if (buf_.empty()) {
        // The usual case, the whole head in this input: parsed in place, not copied.
        size_t end = input.substr(0, max_head_bytes).find("\r\n\r\n");
        if (end != std::string_view::npos) {
          std::string_view head = input.substr(0, end + 4);
          input.remove_prefix(end + 4);
          return parse_head(head);
        }
      }
      // Only the new bytes (and the 3 before them) can complete the blank line.
      size_t from = buf_.size() > 3 ? buf_.size() - 3 : 0;
      size_t room = max_head_bytes - buf_.size();
      size_t take = std::min(input.size(), room);
      buf_.append(input.substr(0, take));
      size_t end = buf_.find("\r\n\r\n", from);
      if (end == std::string::npos) {
        input.remove_prefix(take);
        if (buf_.size() >= max_head_bytes) return fail("response head larger than 64 KiB");
        return Event::need_more;
      }
      // Give back what followed the head.
      size_t used = end + 4 - (buf_.size() - take);
      input.remove_prefix(used);
      buf_.resize(end + 4);
      return parse_head(buf_);
    }
    case State::body_length: {
      if (input.empty()) return Event::need_more;
      size_t n = static_cast<size_t>(std::min<uint64_t>(left_, input.size()));
      body_ = input.substr(0, n);
      input.remove_prefix(n);
      left_ -= n;
      if (left_ == 0) state_ = State::done;
      return Event::body;
    }
    case State::body_close:
      if (input.empty()) return Event::need_more;
      body_ = input;
      input = {};
      return Event::body;
    case State::chunk_size: {
      while (!input.empty()) {
        char c = input.front();
        input.remove_prefix(1);
        buf_.push_back(c);
        if (buf_.size() > max_chunk_line_bytes) return fail("chunk-size line too long");
        if (c != '\n') continue;
        if (buf_.size() < 2 || buf_[buf_.size() - 2] != '\r') return fail("chunk-size line without CRLF");
        std::string_view line(buf_.data(), buf_.size() - 2);
        size_t digits = 0;
        uint64_t size = 0;
        for (; digits < line.size(); ++digits) {
          char d = lower(line[digits]);
          int v = (d >= '0' && d <= '9') ? d - '0' : (d >= 'a' && d <= 'f') ? d - 'a' + 10 : -1;
          if (v < 0) break;
          if (digits >= 15) return fail("chunk size too large");
          size = size * 16 + static_cast<uint64_t>(v);
        }
        if (digits == 0) return fail("chunk size is not hexadecimal");
        std::string_view ext = line.substr(digits);
        ext = trim(ext);
        if (!ext.empty() && ext[0] != ';') return fail("garbage after the chunk size");
        for (unsigned char e : ext)
          if (!is_value_char(e)) return fail("invalid byte in a chunk extension");
        buf_.clear();
        if (size == 0) {
          state_ = State::trailers;
          return next(input);
        }
        left_ = size;
        state_ = State::chunk_data;
        return next(input);
      }
      return Event::need_more;
    }
    case State::chunk_data: {
      if (input.empty()) return Event::need_more;
      size_t n = static_cast<size_t>(std::min<uint64_t>(left_, input.size()));
      body_ = input.substr(0, n);
      input.remove_prefix(n);
      left_ -= n;
      if (left_ == 0) state_ = State::chunk_crlf;
      return Event::body;
    }
    case State::chunk_crlf:
      while (!input.empty() && buf_.size() < 2) {
        buf_.push_back(input.front());
        input.remove_prefix(1);
      }
      if (buf_.size() < 2) return Event::need_more;
      if (buf_ != "\r\n") return fail("chunk data not followed by CRLF");
      buf_.clear();
      state_ = State::chunk_size;
      return next(input);
    case State::trailers: {
      if (input.empty()) return Event::need_more;
      size_t from = buf_.size() > 3 ? buf_.size() - 3 : 0;
      size_t take = std::min(input.size(), max_head_bytes - buf_.size());
      buf_.append(input.substr(0, take));
      size_t end;
      if (buf_.size() >= 2 && buf_.compare(0, 2, "\r\n") == 0) {
        end = 0;  // no trailer fields: just the blank line
      } else {
        end = buf_.find("\r\n\r\n", from);
        if (end == std::string::npos) {
          input.remove_prefix(take);
          if (buf_.size() >= max_head_bytes) return fail("trailer section larger than 64 KiB");
          return Event::need_more;
        }
        end += 2;  // keep the last field's CRLF, drop the blank line
      }
      size_t consumed = end + 2 - (buf_.size() - take);
      input.remove_prefix(consumed);
      buf_.resize(end);
      if (!parse_trailers()) return Event::error;
      buf_.clear();
      state_ = State::complete;
      return Event::end;
    }
    case State::done:
      state_ = State::complete;
      return Event::end;
    case State::complete:
    case State::switched:
      return Event::need_more;  // the rest is not this response's
    case State::error:
      return Event::error;
  }
  return Event::error;
}

ResponseParser::Event ResponseParser::on_eof() {
  switch (state_) {
    case State::body_close:
      state_ = State::complete;
      return Event::end;
    case State::done:
      state_ = State::complete;
      return Event::end;
    case State::complete:
    case State::switched:
      return Event::need_more;
    case State::error:
      return Event::error;
    default:
      return fail(started_ ? "upstream closed in the middle of the response" : "upstream closed before responding");
  }
}

bool ResponseParser::parse_trailers() {
  trailers_.clear();
  std::string why;
  if (!crlf_only(buf_) || !parse_fields(buf_, trailers_, max_header_lines, why)) {
    fail(why.empty() ? "bare CR or LF in the trailers" : "trailers: " + why);
    return false;
  }
  return true;
}

ResponseParser::Event ResponseParser::parse_head(std::string_view all) {
  all.remove_suffix(2);  // the blank line's CRLF; every line keeps its own
  // No bare CR or LF: lines end at CRLF, and a CR or LF left inside a line
  // fails the byte checks of the status line, names and values below.
  size_t eol = all.find("\r\n");
  std::string_view line = all.substr(0, eol);
  all.remove_prefix(eol + 2);

  head_ = ResponseHead{};
  // HTTP-version SP 3DIGIT [SP reason]
  if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || (line[7] != '0' && line[7] != '1') ||
      line[8] != ' ')
    return fail("malformed status line");
  head_.version_minor = static_cast<unsigned>(line[7] - '0');
  for (int i = 9; i < 12; ++i)
    if (line[i] < '0' || line[i] > '9') return fail("malformed status code");
  head_.status = static_cast<unsigned>((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
  if (head_.status < 100 || head_.status > 599) return fail("status code out of range");
  if (line.size() > 12) {
    if (line[12] != ' ') return fail("malformed status line");
    std::string_view reason = line.substr(13);
    for (unsigned char c : reason)
      if (!is_value_char(c)) return fail("invalid byte in the reason phrase");
    head_.reason = std::string(reason);
  }

  std::string why;
  if (!parse_fields(all, head_.headers, max_header_lines, why)) return fail(why);

  bool te_seen = false, keep_alive = false;
  for (const auto &[name, value] : head_.headers) {
    if (iequals(name, "content-length")) {
      if (value.empty() || value.size() > 18 || !std::all_of(value.begin(), value.end(), [](char c) {
            return c >= '0' && c <= '9';
          }))
        return fail("invalid Content-Length");
      int64_t n = 0;
      for (char c : value) n = n * 10 + (c - '0');  // at most 18 digits: no overflow
      if (head_.content_length >= 0 && head_.content_length != n) return fail("conflicting Content-Length headers");
      head_.content_length = n;
    } else if (iequals(name, "transfer-encoding")) {
      if (te_seen || !iequals(value, "chunked")) return fail("unsupported Transfer-Encoding");
      te_seen = true;
    } else if (iequals(name, "connection")) {
      if (has_token(value, "close")) head_.close = true;
      if (has_token(value, "keep-alive")) keep_alive = true;
    }
  }
  if (head_.version_minor == 0 && !keep_alive) head_.close = true;
  if (te_seen) {
    if (head_.version_minor == 0) return fail("Transfer-Encoding in an HTTP/1.0 response");
    if (head_.content_length >= 0) return fail("both Transfer-Encoding and Content-Length");
    head_.chunked = true;
  }
  buf_.clear();
  return after_head();
}

ResponseParser::Event ResponseParser::after_head() {
  const unsigned status = head_.status;
  if (status == 101) {
    state_ = State::switched;
  } else if (status < 200) {
    state_ = State::head;  // an interim response: the final one follows
  } else if (head_request_ || status == 204 || status == 304) {
    state_ = State::done;
  } else if (head_.chunked) {
    state_ = State::chunk_size;
  } else if (head_.content_length >= 0) {
    left_ = static_cast<uint64_t>(head_.content_length);
    state_ = left_ ? State::body_length : State::done;
  } else {
    head_.close = true;  // delimited by closing: the connection cannot be reused
    state_ = State::body_close;
  }
  return Event::head;
}

}  // namespace axle::proxy
