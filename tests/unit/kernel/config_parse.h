// Parsing a config text as the file "t.toml" in /base, for the config tests:
// the error it must give, or the config it must give.
#pragma once

#include "config.h"

#include <doctest/doctest.h>

#include <string>

namespace config_parse {

inline std::string error_of(const std::string &text) {
  std::string error;
  auto cfg = axle::parse_config(text, "t.toml", "/base", error);
  CHECK_FALSE(cfg.has_value());
  return error;
}

inline axle::Config parse_ok(const std::string &text) {
  std::string error;
  auto cfg = axle::parse_config(text, "t.toml", "/base", error);
  INFO(error);
  REQUIRE(cfg.has_value());
  return *cfg;
}

}  // namespace config_parse
