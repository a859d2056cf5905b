// The parser modules every parser test runs against, and a small handle that
// loads and creates one. The list itself is in parsers_under_test.cpp.
#pragma once

#include <axle/parser.h>
#include <doctest/doctest.h>

#include <span>
#include <string>

#include "test_host.h"

namespace axle::test {

struct ParserUnderTest {
  const char *module;  // axle-parser-<module>.so
  const char *isa;     // value for the module's "isa" key; nullptr: no config
};

// The plain parser the others must match byte for byte.
inline constexpr ParserUnderTest kReferenceParser{"scalar", nullptr};

std::span<const ParserUnderTest> parsers_under_test();

std::string describe(const ParserUnderTest &p);
// Printable form of raw input for failure messages (non-printables as \xNN).
std::string escape(const std::string &s);

// A created instance of one parser, or the reason it cannot run on this CPU.
class OpenParser {
 public:
  explicit OpenParser(const ParserUnderTest &p);
  ~OpenParser();
  OpenParser(const OpenParser &) = delete;
  OpenParser &operator=(const OpenParser &) = delete;

  bool available() const { return skipped_.empty(); }
  const std::string &skipped_reason() const { return skipped_; }
  const axle_parser_vtable_t &vt() const { return module_.vtable<axle_parser_vtable_t>(); }
  void *ctx() const { return ctx_; }

 private:
  LoadedModule module_;
  axle_config_t cfg_;
  axle_worker_t worker_;
  void *instance_ = nullptr;
  void *ctx_ = nullptr;
  std::string skipped_;
};

// Calls fn(parser) for each parser under test that can run on this CPU.
template <class Fn>
void for_each_parser(Fn &&fn) {
  for (const ParserUnderTest &p : parsers_under_test()) {
    OpenParser parser(p);
    if (!parser.available()) {
      MESSAGE(describe(p) << " skipped: " << parser.skipped_reason());
      continue;
    }
    const std::string name = describe(p);  // INFO keeps a reference, not a copy
    INFO(name);
    fn(parser);
  }
}

}  // namespace axle::test
