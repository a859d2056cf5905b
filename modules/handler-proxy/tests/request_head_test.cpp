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
  std::string head = build_request_head("POST", "/x?q", in, fi);
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
  std::string head = build_request_head("PUT", "/", in, fi);
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
  std::string head = build_request_head("GET", "/ws", in, fi);
  CHECK(head.find("Upgrade: websocket\r\n") != std::string::npos);
  CHECK(head.find("Connection: upgrade\r\n") != std::string::npos);
  CHECK(head.find("Sec-WebSocket-Key: k\r\n") != std::string::npos);
  CHECK(head.find("Connection: Upgrade") == std::string::npos);
}
