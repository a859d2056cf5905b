#include "http/access_record.h"

#include "http/tokens.h"

#include <charconv>
#include <cstdio>

namespace axle::http {

void append_log_escaped(std::string &out, std::string_view field) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : field) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
}

void format_access_line(std::string &out, std::string_view peer, std::string_view clf_time,
                        const RequestRecord &rec, uint64_t elapsed_ns) {
  const axle_request_head_t *head = rec.head;
  out.clear();
  out += peer.empty() ? std::string_view("-") : peer;
  out += " - - [";
  out += clf_time;
  out += "] \"";
  if (head) {
    append_log_escaped(out, {head->method.ptr, head->method.len});
    out += ' ';
    append_log_escaped(out, {head->target.ptr, head->target.len});
    out += head->version_minor == 0 ? " HTTP/1.0" : " HTTP/1.1";
  } else {
    out += '-';
  }
  char number[24];
  out += "\" ";
  out.append(number, std::to_chars(number, number + sizeof number, rec.status).ptr);
  out += ' ';
  out.append(number, std::to_chars(number, number + sizeof number, rec.bytes_out).ptr);
  for (std::string_view name : {std::string_view("referer"), std::string_view("user-agent")}) {
    out += " \"";
    const axle_header_t *found = nullptr;
    for (uint32_t i = 0; head && i < head->header_count && !found; ++i)
      if (iequals(head->headers[i].name, name)) found = &head->headers[i];
    if (found) append_log_escaped(out, {found->value.ptr, found->value.len});
    else out += '-';
    out += '"';
  }
  char seconds[32];
  int n = std::snprintf(seconds, sizeof seconds, " %.6f", double(elapsed_ns) / 1e9);
  out.append(seconds, static_cast<size_t>(n));
}

}  // namespace axle::http
