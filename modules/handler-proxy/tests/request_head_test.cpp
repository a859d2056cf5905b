// The head the proxy sends upstream.
#include "request_head.h"

#include <doctest/doctest.h>

#include <cstring>

#include <string>
#include <vector>

using namespace axle::proxy;

namespace {

axle_header_t h(const char *n, const char *v) { return {{n, std::strlen(n)}, {v, std::strlen(v)}}; }

}  // namespace

TEST_CASE("hop-by-hop headers go, forwarding headers come") {
  std::vector<axle_header_t> in = {
      h("Host", "example.com"), h("Connection", "keep-alive, X-Secret"), h("X-Secret", "1"), h("Keep-Alive", "5"),
      h("TE", "trailers"), h("Proxy-Connection", "x"), h("Trailer", "X"), h("Transfer-Encoding", "chunked"),
      h("Upgrade", "h2c"), h("Accept", "*/*"), h("X-Forwarded-For", "10.0.0.1"), h("Content-Length", "3"),
      h("X-Forwarded-Proto", "https"),
  };
  ForwardInfo fi;
  fi.client_ip = "192.0.2.7";
  fi.request_id = 0x2a;
  fi.framing = BodyFraming::length;
  fi.content_length = 3;
  std::string head;
  append_request_head(head, "POST", "/x?q", in, fi);
  CHECK(head.rfind("POST /x?q HTTP/1.1\r\nHost: example.com\r\n", 0) == 0);
  for (const char *gone : {"Connection:", "X-Secret", "Keep-Alive", "TE:", "Proxy-Connection", "Trailer:",
                           "Transfer-Encoding", "Upgrade", "https"})
    CHECK_MESSAGE(head.find(gone) == std::string::npos, gone);
  CHECK(head.find("Accept: */*\r\n") != std::string::npos);
  CHECK(head.find("X-Forwarded-For: 10.0.0.1, 192.0.2.7\r\n") != std::string::npos);
  CHECK(head.find("Forwarded: for=192.0.2.7;proto=http;host=\"example.com\"\r\n") != std::string::npos);
  CHECK(head.find("X-Forwarded-Proto: http\r\n") != std::string::npos);
  CHECK(head.find("X-Request-Id: 000000000000002a\r\n") != std::string::npos);
  CHECK(head.find("Content-Length: 3\r\n") != std::string::npos);
  CHECK(head.size() >= 4);
  CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
}

TEST_CASE("the client's request id is kept; https, IPv6, Host override, chunked") {
  std::vector<axle_header_t> in = {h("Host", "a.test:8080"), h("X-Request-Id", "abc"), h("Forwarded", "for=1.2.3.4")};
  ForwardInfo fi;
  fi.client_ip = "2001:db8::1";
  fi.secure = true;
  fi.host_override = "backend.internal";
  fi.framing = BodyFraming::chunked;
  std::string head;
  append_request_head(head, "PUT", "/", in, fi);
  CHECK(head.find("Host: backend.internal\r\n") != std::string::npos);
  CHECK(head.find("a.test:8080\r\n") == std::string::npos);
  CHECK(head.find("X-Request-Id: abc\r\n") != std::string::npos);
  CHECK(head.find("Forwarded: for=1.2.3.4, for=\"[2001:db8::1]\";proto=https;host=\"a.test:8080\"\r\n") !=
        std::string::npos);
  CHECK(head.find("X-Forwarded-Proto: https\r\n") != std::string::npos);
  CHECK(head.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
}

TEST_CASE("a tunnel request keeps Upgrade and says Connection: upgrade") {
  std::vector<axle_header_t> in = {h("Host", "h"), h("Connection", "Upgrade"), h("Upgrade", "websocket"),
                                   h("Sec-WebSocket-Key", "k")};
  ForwardInfo fi;
  fi.upgrade = true;
  std::string head;
  append_request_head(head, "GET", "/ws", in, fi);
  CHECK(head.find("Upgrade: websocket\r\n") != std::string::npos);
  CHECK(head.find("Connection: upgrade\r\n") != std::string::npos);
  CHECK(head.find("Sec-WebSocket-Key: k\r\n") != std::string::npos);
  CHECK(head.find("Connection: Upgrade") == std::string::npos);
}

TEST_CASE("several Connection, X-Forwarded-For and Forwarded lines are joined in order") {
  std::vector<axle_header_t> in = {h("Host", "h"), h("Connection", "keep-alive"), h("X-Forwarded-For", "10.0.0.1"),
                                   h("Forwarded", "for=10.0.0.1"), h("X-A", "1"), h("Connection", "X-A"),
                                   h("X-Forwarded-For", "10.0.0.2"), h("Forwarded", "for=10.0.0.2")};
  ForwardInfo fi;
  fi.client_ip = "192.0.2.7";
  std::string head = "kept ";  // appended to, not replaced
  append_request_head(head, "GET", "/", in, fi);
  CHECK(head.rfind("kept GET / HTTP/1.1\r\n", 0) == 0);
  CHECK(head.find("X-A") == std::string::npos);  // named by the second Connection line
  CHECK(head.find("X-Forwarded-For: 10.0.0.1, 10.0.0.2, 192.0.2.7\r\n") != std::string::npos);
  CHECK(head.find("Forwarded: for=10.0.0.1, for=10.0.0.2, for=192.0.2.7;proto=http;host=\"h\"\r\n") !=
        std::string::npos);
}

TEST_CASE("no client address: no X-Forwarded-For unless the client sent one") {
  std::vector<axle_header_t> in = {h("Host", "h")};
  ForwardInfo fi;
  std::string head;
  append_request_head(head, "GET", "/", in, fi);
  CHECK(head.find("X-Forwarded-For") == std::string::npos);
  CHECK(head.find("Forwarded: proto=http;host=\"h\"\r\n") != std::string::npos);
}

TEST_CASE("client addresses are formatted like inet_ntop") {
  axle_address_t a{};
  a.struct_size = sizeof a;
  a.family = AXLE_ADDR_IPV4;
  const unsigned char v4[][4] = {{0, 0, 0, 0}, {255, 255, 255, 255}, {10, 0, 12, 1}, {192, 168, 100, 9}};
  const char *text[] = {"0.0.0.0", "255.255.255.255", "10.0.12.1", "192.168.100.9"};
  for (size_t i = 0; i < 4; ++i) {
    std::memcpy(a.addr, v4[i], 4);
    CHECK(format_ip(a) == text[i]);
  }
  a.family = AXLE_ADDR_IPV6;
  const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::memcpy(a.addr, v6, 16);
  CHECK(format_ip(a) == "2001:db8::1");
  a.family = AXLE_ADDR_NONE;
  CHECK(format_ip(a).empty());
}
