#include "request_head.h"

#include "response_parser.h"

#include <arpa/inet.h>


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

void append_field(std::string &out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

// A Forwarded parameter value as a quoted-string (RFC 7239).
void append_quoted(std::string &out, std::string_view value) {
  out.push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
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

void append_request_head(std::string &out, std::string_view method, std::string_view target,
                         std::span<const axle_header_t> headers, const ForwardInfo &info) {
  // One pass to find what the proxy rewrites; the client's lists (several
  // Connection, X-Forwarded-For or Forwarded lines) are joined only when
  // there are several, so the usual request builds with no allocation but `out`.
  std::string_view connection, host, request_id, xff, forwarded;
  std::string joined_connection;
  unsigned connections = 0, xffs = 0, forwardeds = 0;
  for (const axle_header_t &h : headers) {
    std::string_view value = view(h.value);
    switch (classify(view(h.name))) {
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

  out.reserve(out.size() + 256 + method.size() + target.size() + 64 * headers.size());
  out.append(method);
  out.push_back(' ');
  out.append(target);
  out.append(" HTTP/1.1\r\n");
  if (!host.empty()) append_field(out, "Host", host);
  for (const axle_header_t &h : headers) {
    std::string_view name = view(h.name);
    Field f = classify(name);
    if (replaced(f) || hop_by_hop(f, name, connection, info.upgrade)) continue;
    append_field(out, name, view(h.value));
  }
  if (info.upgrade) append_field(out, "Connection", "upgrade");

  // The client's values of a list header, in order, joined with ", ".
  auto append_list = [&](Field field, std::string_view first, unsigned count) {
    if (count == 1) {
      out.append(first);
      return;
    }
    bool any = false;
    for (const axle_header_t &h : headers) {
      if (classify(view(h.name)) != field) continue;
      if (any) out.append(", ");
      out.append(view(h.value));
      any = true;
    }
  };

  const std::string_view proto = info.secure ? "https" : "http";
  if (xffs || !info.client_ip.empty()) {
    out.append("X-Forwarded-For: ");
    append_list(Field::x_forwarded_for, xff, xffs);
    if (xffs && !info.client_ip.empty()) out.append(", ");
    out.append(info.client_ip);
    out.append("\r\n");
  }

  out.append("Forwarded: ");
  if (forwardeds) {
    append_list(Field::forwarded, forwarded, forwardeds);
    out.append(", ");
  }
  if (!info.client_ip.empty()) {
    out.append("for=");
    if (info.client_ip.find(':') != std::string_view::npos) {
      out.append("\"[").append(info.client_ip).append("]\"");
    } else {
      out.append(info.client_ip);
    }
    out.push_back(';');
  }
  out.append("proto=").append(proto);
  if (!client_host.empty()) {
    out.append(";host=");
    append_quoted(out, client_host);
  }
  out.append("\r\n");
  append_field(out, "X-Forwarded-Proto", proto);

  char number[24];
  char *const number_end = number + sizeof number;
  if (request_id.empty()) {
    char *p = format_u64(number_end, info.request_id, 16, 16);
    request_id = std::string_view(p, static_cast<size_t>(number_end - p));
  }
  append_field(out, "X-Request-Id", request_id);

  if (info.framing == BodyFraming::length) {
    char *p = format_u64(number_end, info.content_length, 10, 1);
    append_field(out, "Content-Length", std::string_view(p, static_cast<size_t>(number_end - p)));
  } else if (info.framing == BodyFraming::chunked) {
    append_field(out, "Transfer-Encoding", "chunked");
  }
  out.append("\r\n");
}

}  // namespace axle::proxy
