// A strict reader of the Prometheus text format (0.0.4), enough to check what
// the metrics module renders: every sample must belong to a family declared
// by HELP and TYPE lines before it, label values are unescaped, values parse.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace axle::test {

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;  // full sample name, e.g. "x_bucket"
  Labels labels;     // unescaped values
  std::string value; // as written
};

struct Family {
  std::string help;
  std::string type;
};

struct Exposition {
  std::map<std::string, Family> families;
  std::vector<Sample> samples;

  // The value of the one sample with exactly these labels; nullopt if absent.
  // Fails the test if the value is not a non-negative integer.
  std::optional<uint64_t> count(const std::string &name, const Labels &labels = {}) const;
  // As a double (for _sum); nullopt if absent.
  std::optional<double> number(const std::string &name, const Labels &labels = {}) const;
  // Every sample of this name.
  std::vector<const Sample *> all(const std::string &name) const;
};

// Parses text; on a malformed line returns false and sets error.
bool parse_exposition(const std::string &text, Exposition &out, std::string &error);

}  // namespace axle::test
