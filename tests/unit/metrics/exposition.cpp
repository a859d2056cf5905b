#include "exposition.h"

#include <doctest/doctest.h>

#include <charconv>
#include <cstdlib>
#include <set>

namespace axle::test {

namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

// Reads a metric or label name at line[pos]; empty on failure.
std::string read_name(const std::string &line, size_t &pos) {
  size_t start = pos;
  if (pos < line.size() && is_name_start(line[pos])) {
    ++pos;
    while (pos < line.size() && is_name_char(line[pos])) ++pos;
  }
  return line.substr(start, pos - start);
}

bool parse_labels(const std::string &line, size_t &pos, Labels &labels, std::string &error) {
  ++pos;  // '{'
  while (pos < line.size() && line[pos] != '}') {
    std::string key = read_name(line, pos);
    if (key.empty() || key == "__name__" || pos + 1 >= line.size() || line[pos] != '=' || line[pos + 1] != '"') {
      error = "bad label name or missing =\" in: " + line;
      return false;
    }
    pos += 2;
    std::string value;
    while (true) {
      if (pos >= line.size()) {
        error = "unterminated label value in: " + line;
        return false;
      }
      char c = line[pos++];
      if (c == '"') break;
      if (c != '\\') {
        value += c;
        continue;
      }
      char e = pos < line.size() ? line[pos++] : '\0';
      if (e == '\\') value += '\\';
      else if (e == '"') value += '"';
      else if (e == 'n') value += '\n';
      else {
        error = "bad escape in label value: " + line;
        return false;
      }
    }
    if (!labels.emplace(key, value).second) {
      error = "duplicate label " + key + " in: " + line;
      return false;
    }
    if (pos < line.size() && line[pos] == ',') ++pos;
  }
  if (pos >= line.size()) {
    error = "unterminated label set in: " + line;
    return false;
  }
  ++pos;  // '}'
  return true;
}

bool valid_value(const std::string &v) {
  if (v == "+Inf" || v == "-Inf" || v == "NaN") return true;
  char *end = nullptr;
  std::strtod(v.c_str(), &end);
  return !v.empty() && end == v.c_str() + v.size();
}

// The family a sample belongs to: itself, or a histogram's _bucket/_sum/_count.
const std::string *family_of(const std::map<std::string, Family> &families, const std::string &name,
                             std::string &base) {
  if (families.count(name)) {
    base = name;
    return &families.at(name).type;
  }
  for (const char *suffix : {"_bucket", "_sum", "_count"}) {
    std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      base = name.substr(0, name.size() - s.size());
      auto it = families.find(base);
      if (it != families.end() && it->second.type == "histogram") return &it->second.type;
    }
  }
  return nullptr;
}

}  // namespace

bool parse_exposition(const std::string &text, Exposition &out, std::string &error) {
  if (!text.empty() && text.back() != '\n') {
    error = "exposition does not end with a newline";
    return false;
  }
  std::set<std::string> families_with_samples;
  std::set<std::string> series;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) {
      error = "empty line in exposition";
      return false;
    }
    if (line[0] == '#') {
      bool help = line.rfind("# HELP ", 0) == 0, type = line.rfind("# TYPE ", 0) == 0;
      if (!help && !type) continue;  // a plain comment
      size_t pos = 7;
      std::string name = read_name(line, pos);
      if (name.empty() || pos >= line.size() || line[pos] != ' ') {
        error = "bad HELP/TYPE line: " + line;
        return false;
      }
      std::string rest = line.substr(pos + 1);
      Family &f = out.families[name];
      if (help) {
        if (!f.help.empty()) {
          error = "second HELP for " + name;
          return false;
        }
        f.help = rest;
      } else {
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};
        if (!f.type.empty() || !kTypes.count(rest) || families_with_samples.count(name)) {
          error = "bad, repeated or late TYPE line: " + line;
          return false;
        }
        f.type = rest;
      }
      continue;
    }
    Sample s;
    size_t pos = 0;
    s.name = read_name(line, pos);
    if (s.name.empty()) {
      error = "bad metric name: " + line;
      return false;
    }
    if (pos < line.size() && line[pos] == '{' && !parse_labels(line, pos, s.labels, error)) return false;
    if (pos >= line.size() || line[pos] != ' ') {
      error = "no value in: " + line;
      return false;
    }
    s.value = line.substr(pos + 1);
    if (!valid_value(s.value)) {
      error = "bad value in: " + line;
      return false;
    }
    std::string base;
    if (!family_of(out.families, s.name, base)) {
      error = "sample without a TYPE line before it: " + line;
      return false;
    }
    families_with_samples.insert(base);
    std::string key = s.name;
    for (const auto &[k, v] : s.labels) key += "\x01" + k + "\x02" + v;
    if (!series.insert(key).second) {
      error = "duplicate series: " + line;
      return false;
    }
    out.samples.push_back(std::move(s));
  }
  for (const auto &[name, f] : out.families)
    if (f.help.empty() || f.type.empty()) {
      error = "family " + name + " lacks HELP or TYPE";
      return false;
    }
  return true;
}

std::vector<const Sample *> Exposition::all(const std::string &name) const {
  std::vector<const Sample *> found;
  for (const Sample &s : samples)
    if (s.name == name) found.push_back(&s);
  return found;
}

std::optional<uint64_t> Exposition::count(const std::string &name, const Labels &labels) const {
  for (const Sample &s : samples) {
    if (s.name != name || s.labels != labels) continue;
    uint64_t v = 0;
    auto r = std::from_chars(s.value.data(), s.value.data() + s.value.size(), v);
    CHECK_MESSAGE((r.ec == std::errc() && r.ptr == s.value.data() + s.value.size()),
                  name << " has a non-integer value " << s.value);
    return v;
  }
  return std::nullopt;
}

std::optional<double> Exposition::number(const std::string &name, const Labels &labels) const {
  for (const Sample &s : samples)
    if (s.name == name && s.labels == labels) return std::strtod(s.value.c_str(), nullptr);
  return std::nullopt;
}

}  // namespace axle::test
