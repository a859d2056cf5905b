#include "request_head.h"

#include "response_parser.h"

#include <arpa/inet.h>

#include <cstring>

namespace axle::proxy {

namespace {

std::string_view view(axle_str_t s) { return s.len ? std::string_view(s.ptr, s.len) : std::string_view(); }

// The header names the proxy acts on. classify() looks at the length first,
// so a header costs one comparison at most instead of one per known name.
enum class Field {
  other,
  // the proxy writes these itself, so the client's copies are dropped
  host, content_length, x_forwarded_for, forwarded, x_forwarded_proto, x_request_id, expect,
  // hop-by-hop
  connection, keep_alive, proxy_connection, te, trailer, transfer_encoding, upgrade
};

Field classify(std::string_view name) {
  auto is = [&](std::string_view known, Field f) { return iequals(name, known) ? f : Field::other; };
  switch (name.size()) {
    case 2: return is("te", Field::te);
    case 4: return is("host", Field::host);
    case 6: return is("expect", Field::expect);
    case 7: return (name[0] | 0x20) == 't' ? is("trailer", Field::trailer) : is("upgrade", Field::upgrade);
    case 9: return is("forwarded", Field::forwarded);
    case 10: return (name[0] | 0x20) == 'c' ? is("connection", Field::connection) : is("keep-alive", Field::keep_alive);
    case 12: return is("x-request-id", Field::x_request_id);
    case 14: return is("content-length", Field::content_length);
    case 15: return is("x-forwarded-for", Field::x_forwarded_for);
    case 16: return is("proxy-connection", Field::proxy_connection);
    case 17:
      return (name[0] | 0x20) == 'x' ? is("x-forwarded-proto", Field::x_forwarded_proto)
                                     : is("transfer-encoding", Field::transfer_encoding);
    default: return Field::other;
  }
}

bool replaced(Field f) { return f >= Field::host && f <= Field::expect; }

bool hop_by_hop(Field f, std::string_view name, std::string_view connection, bool keep_upgrade) {
  if (f == Field::upgrade) return !keep_upgrade;
  if (f >= Field::connection) return true;
  return !connection.empty() && has_token(connection, name);
}

// Decimal or hex digits of v, right-aligned in buf; returns where they start.
char *format_u64(char *end, uint64_t v, unsigned base, int min_digits) {
  static constexpr char digits[] = "0123456789abcdef";
  char *p = end;
  do {
    *--p = digits[v % base];
    v /= base;
  } while (v || end - p < min_digits);
  return p;
}

}  // namespace

bool is_hop_by_hop(std::string_view name, std::string_view connection, bool keep_upgrade) {
  return hop_by_hop(classify(name), name, connection, keep_upgrade);
}

std::string format_ip(const axle_address_t &addr) {
  if (addr.family == AXLE_ADDR_IPV4) {
    // By hand: inet_ntop goes through sprintf, a tenth of a proxied request's instructions.
    char text[16];
    char *p = text;
    for (int i = 0; i < 4; ++i) {
      char digits[3];
      char *d = format_u64(digits + 3, addr.addr[i], 10, 1);
      if (i) *p++ = '.';
      while (d < digits + 3) *p++ = *d++;
    }
    return std::string(text, static_cast<size_t>(p - text));
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.family == AXLE_ADDR_IPV6) inet_ntop(AF_INET6, addr.addr, text, sizeof text);
  return text;
}

namespace {

// Where the head is written: counted first, then copied into place, so `out`
// grows once and every piece is one memcpy.
struct Counter {
  size_t n = 0;
  void put(std::string_view s) { n += s.size(); }
  void put(char) { ++n; }
};
struct Writer {
  char *p;
  void put(std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
  void put(char c) { *p++ = c; }
};

}  // namespace

void append_request_head(std::string &out, std::string_view method, std::string_view target,
                         std::span<const axle_header_t> headers, const ForwardInfo &info) {
  // One pass to find what the proxy rewrites; the client's lists (several
  // Connection, X-Forwarded-For or Forwarded lines) are joined only when
  // there are several, so the usual request builds with no allocation but `out`.
  constexpr size_t kept_kinds = 64;  // header kinds remembered; more are classified again
  Field kinds[kept_kinds];
  auto kind = [&](size_t i) { return i < kept_kinds ? kinds[i] : classify(view(headers[i].name)); };
  std::string_view connection, host, request_id, xff, forwarded;
  std::string joined_connection;
  unsigned connections = 0, xffs = 0, forwardeds = 0;
  for (size_t i = 0; i < headers.size(); ++i) {
    std::string_view value = view(headers[i].value);
    Field f = classify(view(headers[i].name));
    if (i < kept_kinds) kinds[i] = f;
    switch (f) {
      case Field::connection:
        if (connections++ == 1) joined_connection.assign(connection);
        if (connections > 1) joined_connection.append(",").append(value);
        connection = value;
        break;
      case Field::x_forwarded_for:
        if (xffs++ == 0) xff = value;
        break;
      case Field::forwarded:
        if (forwardeds++ == 0) forwarded = value;
        break;
      case Field::x_request_id:
        if (request_id.empty()) request_id = value;
        break;
      case Field::host:
        if (host.empty()) host = value;
        break;
      default:
        break;
    }
  }
  if (connections > 1) connection = joined_connection;
  const std::string_view client_host = host;  // Forwarded names what the client asked for
  if (!info.host_override.empty()) host = info.host_override;

  char number[24];
  char *const number_end = number + sizeof number;
  if (request_id.empty()) {
    char *p = format_u64(number_end, info.request_id, 16, 16);
    request_id = std::string_view(p, static_cast<size_t>(number_end - p));
  }
  char length[24];
  char *const length_end = length + sizeof length;
  const std::string_view content_length =
      info.framing == BodyFraming::length
          ? std::string_view(format_u64(length_end, info.content_length, 10, 1), length_end)
          : std::string_view();
  const std::string_view proto = info.secure ? "https" : "http";

  auto emit = [&](auto &w) {
    auto field = [&](std::string_view name, std::string_view value) {
      w.put(name);
      w.put(": ");
      w.put(value);
      w.put("\r\n");
    };
    // The client's values of a list header, in order, joined with ", ".
    auto list = [&](Field which, std::string_view first, unsigned count) {
      if (count == 1) return w.put(first);
      bool any = false;
      for (size_t i = 0; i < headers.size(); ++i) {
        if (kind(i) != which) continue;
        if (any) w.put(", ");
        w.put(view(headers[i].value));
        any = true;
      }
    };
    w.put(method);
    w.put(' ');
    w.put(target);
    w.put(" HTTP/1.1\r\n");
    if (!host.empty()) field("Host", host);
    for (size_t i = 0; i < headers.size(); ++i) {
      std::string_view name = view(headers[i].name);
      Field f = kind(i);
      if (replaced(f) || hop_by_hop(f, name, connection, info.upgrade)) continue;
      field(name, view(headers[i].value));
    }
    if (info.upgrade) field("Connection", "upgrade");

    if (xffs || !info.client_ip.empty()) {
      w.put("X-Forwarded-For: ");
      list(Field::x_forwarded_for, xff, xffs);
      if (xffs && !info.client_ip.empty()) w.put(", ");
      w.put(info.client_ip);
      w.put("\r\n");
    }

    w.put("Forwarded: ");
    if (forwardeds) {
      list(Field::forwarded, forwarded, forwardeds);
      w.put(", ");
    }
    if (!info.client_ip.empty()) {
      w.put("for=");
      if (info.client_ip.find(':') != std::string_view::npos) {
        w.put("\"[");
        w.put(info.client_ip);
        w.put("]\"");
      } else {
        w.put(info.client_ip);
      }
      w.put(';');
    }
    w.put("proto=");
    w.put(proto);
    if (!client_host.empty()) {
      // A quoted-string (RFC 7239).
      w.put(";host=\"");
      for (char c : client_host) {
        if (c == '"' || c == '\\') w.put('\\');
        w.put(c);
      }
      w.put('"');
    }
    w.put("\r\n");
    field("X-Forwarded-Proto", proto);
    field("X-Request-Id", request_id);
    if (info.framing == BodyFraming::length) field("Content-Length", content_length);
    else if (info.framing == BodyFraming::chunked) field("Transfer-Encoding", "chunked");
    w.put("\r\n");
  };
  Counter count;
  emit(count);
  const size_t at = out.size();
  out.resize(at + count.n);
  Writer write{out.data() + at};
  emit(write);
}

}  // namespace axle::proxy
