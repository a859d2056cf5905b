#include "wire_reader.h"

#include <cctype>

namespace axle::enginetest {

namespace {

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Decodes a chunked body at pos into r (body, trailers), moving pos past it.
// Returns "" on success, "cut" when the bytes stop inside it, else the fault.
std::string read_chunked(std::string_view wire, size_t &pos, WireResponse &r) {
  for (;;) {
    size_t eol = wire.find("\r\n", pos);
    if (eol == std::string_view::npos) return "cut";
    std::string_view size_text = wire.substr(pos, eol - pos);
    if (size_text.empty() || size_text.size() > 15 || size_text.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos)
      return "bad chunk size line";
    size_t size = std::stoul(std::string(size_text), nullptr, 16);
    pos = eol + 2;
    if (size == 0) break;
    if (wire.size() - pos < size + 2) return "cut";
    r.body.append(wire.substr(pos, size));
    pos += size;
    if (wire.substr(pos, 2) != "\r\n") return "no CRLF after chunk data";
    pos += 2;
  }
  for (;;) {  // trailer fields up to an empty line
    size_t eol = wire.find("\r\n", pos);
    if (eol == std::string_view::npos) return "cut";
    std::string_view field = wire.substr(pos, eol - pos);
    pos = eol + 2;
    if (field.empty()) return "";
    size_t colon = field.find(':');
    if (colon == 0 || colon == std::string_view::npos || field.substr(colon + 1, 1) != " ") return "bad trailer line";
    for (char c : field.substr(0, colon))
      if (!token_char(c)) return "bad trailer name";
    r.trailers.emplace_back(field.substr(0, colon), field.substr(colon + 2));
  }
}

}  // namespace

std::string WireResponse::header(std::string_view name) const {
  for (const auto &[n, v] : headers)
    if (iequal(n, name)) return v;
  return {};
}

size_t WireResponse::count(std::string_view name) const {
  size_t n = 0;
  for (const auto &h : headers) n += iequal(h.first, name);
  return n;
}

bool WireResponse::closes() const { return iequal(header("Connection"), "close"); }

WireParse parse_wire(std::string_view wire, const std::vector<bool> &head_only) {
  WireParse out;
  size_t pos = 0, finals = 0;
  auto cut = [&](const std::string &why) {
    out.truncated = true;
    out.error = "response " + std::to_string(out.responses.size()) + " at byte " + std::to_string(pos) + ": " + why;
    return out;
  };
  auto fail = [&](const std::string &why) {
    out.error = "response " + std::to_string(out.responses.size()) + " at byte " + std::to_string(pos) + ": " + why;
    return out;
  };
  while (pos < wire.size()) {
    size_t end = wire.find("\r\n\r\n", pos);
    if (end == std::string_view::npos) return cut("no end of head");
    std::string_view head = wire.substr(pos, end + 2 - pos);
    WireResponse r;
    size_t eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    if (line.size() < 13 || line.substr(0, 9) != "HTTP/1.1 " || !std::isdigit(static_cast<unsigned char>(line[9])) ||
        !std::isdigit(static_cast<unsigned char>(line[10])) || !std::isdigit(static_cast<unsigned char>(line[11])) ||
        line[12] != ' ' || line.size() == 13)
      return fail("bad status line");
    r.status = std::stoi(std::string(line.substr(9, 3)));
    r.reason = std::string(line.substr(13));
    for (size_t at = eol + 2; at < head.size();) {
      size_t next = head.find("\r\n", at);
      std::string_view field = head.substr(at, next - at);
      size_t colon = field.find(':');
      if (colon == 0 || colon == std::string_view::npos) return fail("bad field line");
      for (char c : field.substr(0, colon))
        if (!token_char(c)) return fail("bad field name");
      std::string_view value = field.substr(colon + 1);
      if (value.empty() || value[0] != ' ') return fail("no space after colon");
      for (char c : value)
        if (c == '\r' || c == '\n' || c == '\0') return fail("control byte in field value");
      r.headers.emplace_back(field.substr(0, colon), value.substr(1));
      at = next + 2;
    }
    pos = end + 4;
    if (r.status < 200) {  // interim: no fields required, no body
      out.responses.push_back(std::move(r));
      continue;
    }
    if (r.count("Server") != 1 || r.count("Date") != 1) return fail("Server or Date missing or repeated");
    if (r.status == 204 || r.status == 304) {  // never a body, so no length
      if (r.count("Content-Length") != 0 || r.count("Transfer-Encoding") != 0) return fail("framing on a 204/304");
      ++finals;
      out.responses.push_back(std::move(r));
      continue;
    }
    bool no_body = finals < head_only.size() && head_only[finals];
    ++finals;
    const size_t lengths = r.count("Content-Length"), encodings = r.count("Transfer-Encoding");
    if (encodings != 0) {
      if (lengths != 0 || encodings != 1 || r.header("Transfer-Encoding") != "chunked")
        return fail("Transfer-Encoding other than one 'chunked' alone");
      r.chunked = true;
      if (!no_body) {
        std::string why = read_chunked(wire, pos, r);
        if (!why.empty()) return why == "cut" ? cut("chunked body cut short") : fail(why);
      }
    } else if (lengths == 0) {
      // A HEAD answer may leave out the length a GET would stream.
      if (!no_body && !r.closes()) return fail("no framing and no Connection: close");
      if (!no_body) {  // close-delimited: the rest of the stream
        r.body = std::string(wire.substr(pos));
        pos = wire.size();
      }
    } else {
      if (lengths != 1) return fail("not exactly one Content-Length");
      std::string cl = r.header("Content-Length");
      if (cl.empty() || cl.size() > 12 || cl.find_first_not_of("0123456789") != std::string::npos)
        return fail("bad Content-Length");
      size_t length = std::stoul(cl);
      if (!no_body) {
        if (wire.size() - pos < length) return cut("body shorter than Content-Length");
        r.body = std::string(wire.substr(pos, length));
        pos += length;
      }
    }
    out.responses.push_back(std::move(r));
  }
  return out;
}

}  // namespace axle::enginetest
