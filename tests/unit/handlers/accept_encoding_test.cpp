// Accept-Encoding negotiation rules (modules/handler-static/src/accept_encoding.h),
// compiled in: a pure function needs no module.
#include "accept_encoding.h"

#include <doctest/doctest.h>

#include <string>

using namespace axle::static_handler;

namespace {

constexpr uint8_t kAll = 1 | 2 | 4;
constexpr int kBr = 0, kZstd = 1, kGzip = 2;

int pick(const char *header, uint8_t available = kAll) {
  const std::string_view h(header);
  return choose_encoding(&h, available);
}

}  // namespace

TEST_SUITE("static") {
  TEST_CASE("accept-encoding: preference, q-values and identity") {
    CHECK(choose_encoding(nullptr, kAll) == kIdentity);  // no header: the plain file
    CHECK(pick("") == kIdentity);
    CHECK(pick("gzip, deflate, br, zstd") == kBr);       // equal q: br > zstd > gzip
    CHECK(pick("gzip, zstd") == kZstd);
    CHECK(pick("GZIP") == kGzip);                          // case-insensitive
    CHECK(pick("x-gzip") == kGzip);
    CHECK(pick("br;q=0.5, gzip;q=0.8") == kGzip);
    CHECK(pick("br;q=1.0, gzip;q=1") == kBr);
    CHECK(pick("br;q=0, gzip") == kGzip);                  // q=0 refuses
    CHECK(pick("br;q=0") == kIdentity);
    CHECK(pick("*") == kBr);
    CHECK(pick("*;q=0.5, gzip") == kGzip);
    CHECK(pick("*, br;q=0") == kZstd);
    CHECK(pick("gzip", 1) == kIdentity);                   // only .br present
    CHECK(pick("gzip;q=0.5, identity") == kIdentity);      // identity at q=1 beats q=0.5
    CHECK(pick("gzip;q=0.5, identity;q=0.5") == kGzip);   // a tie goes to the smaller body
    CHECK(pick(" gzip ; q=0.9 ,\tbr ; q = 0.3 ") == kGzip);
  }

  TEST_CASE("accept-encoding: identity refused") {
    CHECK(pick("identity;q=0") == kNoneAcceptable);
    CHECK(pick("gzip, identity;q=0") == kGzip);
    CHECK(pick("zstd, identity;q=0", 4) == kNoneAcceptable);
    CHECK(pick("*;q=0") == kNoneAcceptable);
    CHECK(pick("*;q=0, identity") == kIdentity);  // a named identity overrides *
    CHECK(pick("*;q=0, gzip") == kGzip);
    CHECK(choose_encoding(nullptr, 0) == kIdentity);
  }

  TEST_CASE("accept-encoding: malformed elements are skipped") {
    CHECK(pick("gzip;q=2") == kIdentity);
    CHECK(pick("gzip;q=0.1234") == kIdentity);
    CHECK(pick("gzip;q=abc, br") == kBr);
    CHECK(pick("gzip;q") == kIdentity);
    CHECK(pick(",,, ;q=1, gzip") == kGzip);
    CHECK(pick("identity;q=x") == kIdentity);  // a bad q does not refuse identity
  }
}
