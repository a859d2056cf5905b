#include "parsers_under_test.h"

#include <cstdio>

namespace axle::test {

// Every parser module, and every forced level of parser-simd: adding one is one line.
constexpr ParserUnderTest kParsers[] = {
    {"scalar", nullptr},
    {"simd", "auto"},
    {"simd", "avx2"},
    {"simd", "sse42"},
    {"simd", "scalar"},
};

std::span<const ParserUnderTest> parsers_under_test() { return kParsers; }

std::string describe(const ParserUnderTest &p) {
  return std::string("parser-") + p.module + (p.isa ? std::string(" isa=") + p.isa : std::string());
}

std::string escape(const std::string &s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out.size() > 300 ? out.substr(0, 300) + "..." : out;
}

OpenParser::OpenParser(const ParserUnderTest &p) : module_(module_path("parser", p.module)) {
  if (p.isa) cfg_.strings["isa"] = p.isa;
  const axle_module_descriptor_t &d = module_.desc();
  REQUIRE(d.kind == AXLE_KIND_PARSER);
  axle_error_t err;
  const axle_status_t st = d.create(host_api(), &cfg_, &instance_, &err);
  if (st == AXLE_ERR_UNSUPPORTED) {
    skipped_ = err.message;
    instance_ = nullptr;
    return;
  }
  REQUIRE_MESSAGE(st == AXLE_OK, err.message);
  if (d.thread_init) REQUIRE_MESSAGE(d.thread_init(instance_, &worker_, &ctx_, &err) == AXLE_OK, err.message);
}

OpenParser::~OpenParser() {
  if (!instance_) return;
  if (module_.desc().thread_fini) module_.desc().thread_fini(instance_, ctx_);
  module_.desc().destroy(instance_);
}

}  // namespace axle::test
