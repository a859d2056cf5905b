#include "request_head.h"

#include "response_parser.h"

#include <arpa/inet.h>

#include <cstdio>

namespace axle::proxy {

namespace {

std::string_view view(axle_str_t s) { return s.len ? std::string_view(s.ptr, s.len) : std::string_view(); }

// Headers the proxy writes itself, so the client's copies are dropped.
bool replaced(std::string_view name) {
  for (std::string_view own : {"host", "content-length", "x-forwarded-for", "forwarded", "x-forwarded-proto",
                               "x-request-id", "expect"})
    if (iequals(name, own)) return true;
  return false;
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
  if (iequals(name, "upgrade")) return !keep_upgrade;
  for (std::string_view hop : {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding"})
    if (iequals(name, hop)) return true;
  return has_token(connection, name);
}

std::string format_ip(const axle_address_t &addr) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.family == AXLE_ADDR_IPV4) inet_ntop(AF_INET, addr.addr, text, sizeof text);
  else if (addr.family == AXLE_ADDR_IPV6) inet_ntop(AF_INET6, addr.addr, text, sizeof text);
  return text;
}

std::string build_request_head(std::string_view method, std::string_view target,
                               std::span<const axle_header_t> headers, const ForwardInfo &info) {
  std::string connection, xff, forwarded, request_id;
  std::string_view host;
  for (const axle_header_t &h : headers) {
    std::string_view name = view(h.name), value = view(h.value);
    auto join = [&](std::string &to) {
      if (!to.empty()) to.append(", ");
      to.append(value);
    };
    if (iequals(name, "connection")) join(connection);
    else if (iequals(name, "x-forwarded-for")) join(xff);
    else if (iequals(name, "forwarded")) join(forwarded);
    else if (iequals(name, "x-request-id") && request_id.empty()) request_id = value;
    else if (iequals(name, "host") && host.empty()) host = value;
  }
  const std::string_view client_host = host;  // Forwarded names what the client asked for
  if (!info.host_override.empty()) host = info.host_override;

  std::string out;
  out.reserve(256 + 64 * headers.size());
  out.append(method);
  out.push_back(' ');
  out.append(target);
  out.append(" HTTP/1.1\r\n");
  if (!host.empty()) append_field(out, "Host", host);
  for (const axle_header_t &h : headers) {
    std::string_view name = view(h.name);
    if (replaced(name) || is_hop_by_hop(name, connection, info.upgrade)) continue;
    append_field(out, name, view(h.value));
  }
  if (info.upgrade) append_field(out, "Connection", "upgrade");

  const std::string_view proto = info.secure ? "https" : "http";
  if (!info.client_ip.empty()) {
    if (!xff.empty()) xff.append(", ");
    xff.append(info.client_ip);
  }
  if (!xff.empty()) append_field(out, "X-Forwarded-For", xff);

  if (!forwarded.empty()) forwarded.append(", ");
  if (!info.client_ip.empty()) {
    forwarded.append("for=");
    if (info.client_ip.find(':') != std::string_view::npos) {
      forwarded.append("\"[").append(info.client_ip).append("]\"");
    } else {
      forwarded.append(info.client_ip);
    }
    forwarded.push_back(';');
  }
  forwarded.append("proto=").append(proto);
  if (!client_host.empty()) {
    forwarded.append(";host=");
    append_quoted(forwarded, client_host);
  }
  append_field(out, "Forwarded", forwarded);
  append_field(out, "X-Forwarded-Proto", proto);

  if (request_id.empty()) {
    char id[17];
    std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(info.request_id));
    request_id = id;
  }
  append_field(out, "X-Request-Id", request_id);

  if (info.framing == BodyFraming::length) append_field(out, "Content-Length", std::to_string(info.content_length));
  else if (info.framing == BodyFraming::chunked) append_field(out, "Transfer-Encoding", "chunked");
  out.append("\r\n");
  return out;
}

}  // namespace axle::proxy
