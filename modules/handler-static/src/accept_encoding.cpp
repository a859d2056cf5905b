#include "accept_encoding.h"

#include "field_text.h"

#include <iterator>

namespace axle::static_handler {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
    if (c != b[i]) return false;
  }
  return true;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), as thousandths.
bool parse_q(std::string_view s, int &out) {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return false;
  int value = (s[0] - '0') * 1000;
  if (s.size() > 1) {
    if (s[1] != '.' || s.size() > 5) return false;
    int scale = 100;
    for (size_t i = 2; i < s.size(); ++i, scale /= 10) {
      if (s[i] < '0' || s[i] > '9') return false;
      value += (s[i] - '0') * scale;
    }
  }
  if (value > 1000) return false;
  out = value;
  return true;
}

// The weight of one element's parameters: its q, 1000 without one; false if malformed.
bool element_q(std::string_view params, int &q) {
  q = 1000;
  while (!params.empty()) {
    const size_t semi = params.find(';');
    const std::string_view param = trim_ows(params.substr(0, semi));
    params.remove_prefix(semi == std::string_view::npos ? params.size() : semi + 1);
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos) return false;
    if (iequals(trim_ows(param.substr(0, eq)), "q") && !parse_q(trim_ows(param.substr(eq + 1)), q)) return false;
  }
  return true;
}

}  // namespace

int choose_encoding(const std::string_view *header, uint8_t available) {
  if (!header) return kIdentity;
  constexpr int kUnset = -1;
  int q[std::size(kVariants)];
  for (int &v : q) v = kUnset;
  int identity_q = kUnset, star_q = kUnset;

  std::string_view rest = *header;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view element = rest.substr(0, comma);
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    const size_t semi = element.find(';');
    const std::string_view coding = trim_ows(element.substr(0, semi));
    if (coding.empty()) continue;
    int weight;
    if (!element_q(semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1), weight)) continue;
    if (coding == "*") {
      star_q = weight;
    } else if (iequals(coding, "identity")) {
      identity_q = weight;
    } else {
      for (size_t i = 0; i < std::size(kVariants); ++i)
        if (iequals(coding, kVariants[i].coding) || (kVariants[i].coding == "gzip" && iequals(coding, "x-gzip")))
          q[i] = weight;
    }
  }

  int best = kIdentity, best_q = 0;
  for (size_t i = 0; i < std::size(kVariants); ++i) {
    if (!(available & kVariants[i].bit)) continue;
    const int weight = q[i] != kUnset ? q[i] : (star_q != kUnset ? star_q : 0);
    if (weight > best_q) {  // strictly greater: earlier variants win ties
      best = static_cast<int>(i);
      best_q = weight;
    }
  }
  // identity is acceptable unless excluded, by name or by "*;q=0". It
  // competes by weight only when the client weighed it (by name or "*"):
  // "gzip;q=0.8" alone asks for gzip, not for the plain file.
  const bool identity_weighed = identity_q != kUnset || star_q != kUnset;
  const int identity = identity_q != kUnset ? identity_q : (star_q != kUnset ? star_q : 1000);
  if (best != kIdentity && (!identity_weighed || best_q >= identity)) return best;
  if (identity > 0) return kIdentity;
  return kNoneAcceptable;
}

}  // namespace axle::static_handler
