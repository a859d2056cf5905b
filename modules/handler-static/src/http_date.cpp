#include "http_date.h"

#include <array>

namespace axle::static_handler {
namespace {

constexpr std::array<std::string_view, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongWeekdays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                           "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12).
// Eras of 400 years repeat exactly, which keeps the arithmetic integral.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned year_of_era = static_cast<unsigned>(y - era * 400);
  const unsigned day_of_year = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// A cursor over the text being parsed; every reader fails without advancing
// past the end.
struct Reader {
  std::string_view s;
  size_t pos = 0;

  bool literal(std::string_view lit) {
    if (s.substr(pos, lit.size()) != lit) return false;
    pos += lit.size();
    return true;
  }
  bool digits(size_t count, unsigned &out) {
    if (pos + count > s.size()) return false;
    out = 0;
    for (size_t i = 0; i < count; ++i) {
      const char c = s[pos + i];
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<unsigned>(c - '0');
    }
    pos += count;
    return true;
  }
  template <size_t N>
  bool one_of(const std::array<std::string_view, N> &names, unsigned &index) {
    for (size_t i = 0; i < N; ++i)
      if (literal(names[i])) {
        index = static_cast<unsigned>(i);
        return true;
      }
    return false;
  }
  bool time_of_day(unsigned &h, unsigned &mi, unsigned &sec) {
    return digits(2, h) && literal(":") && digits(2, mi) && literal(":") && digits(2, sec);
  }
  bool done() const { return pos == s.size(); }
};

bool assemble(int64_t year, unsigned month_index, unsigned day, unsigned h, unsigned mi, unsigned sec, int64_t &out) {
  const unsigned month = month_index + 1;
  // 60 allows a leap second, which the epoch count then folds into the next minute.
  if (day < 1 || day > days_in_month(year, month) || h > 23 || mi > 59 || sec > 60) return false;
  out = days_from_civil(year, month, day) * 86400 + h * 3600 + mi * 60 + sec;
  return true;
}

}  // namespace

bool format_http_date(int64_t t, char out[kHttpDateLen]) {
  int64_t days = t / 86400;
  int64_t secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    days -= 1;
  }
  // civil_from_days: the inverse of days_from_civil above.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned day_of_era = static_cast<unsigned>(z - era * 146097);
  const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned mp = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = static_cast<int64_t>(year_of_era) + era * 400 + (month <= 2);
  if (year < 0 || year > 9999) return false;

  const unsigned weekday = static_cast<unsigned>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  auto put2 = [](char *p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  char *p = out;
  for (char c : kWeekdays[weekday]) *p++ = c;
  *p++ = ',';
  *p++ = ' ';
  put2(p, day);
  p += 2;
  *p++ = ' ';
  for (char c : kMonths[month - 1]) *p++ = c;
  *p++ = ' ';
  put2(p, static_cast<unsigned>(year / 100));
  put2(p + 2, static_cast<unsigned>(year % 100));
  p += 4;
  *p++ = ' ';
  put2(p, static_cast<unsigned>(secs / 3600));
  p[2] = ':';
  put2(p + 3, static_cast<unsigned>(secs / 60 % 60));
  p[5] = ':';
  put2(p + 6, static_cast<unsigned>(secs % 60));
  p += 8;
  for (char c : std::string_view(" GMT")) *p++ = c;
  return true;
}

bool parse_http_date(std::string_view text, int64_t &out) {
  unsigned weekday, day, month, year, h, mi, sec;
  {  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    Reader r{text};
    if (r.one_of(kWeekdays, weekday) && r.literal(", ") && r.digits(2, day) && r.literal(" ") &&
        r.one_of(kMonths, month) && r.literal(" ") && r.digits(4, year) && r.literal(" ") &&
        r.time_of_day(h, mi, sec) && r.literal(" GMT") && r.done())
      return assemble(year, month, day, h, mi, sec, out);
  }
  {  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    Reader r{text};
    if (r.one_of(kLongWeekdays, weekday) && r.literal(", ") && r.digits(2, day) && r.literal("-") &&
        r.one_of(kMonths, month) && r.literal("-") && r.digits(2, year) && r.literal(" ") &&
        r.time_of_day(h, mi, sec) && r.literal(" GMT") && r.done())
      // Two-digit years: 70..99 are the 1900s, the rest this century.
      return assemble(year >= 70 ? 1900 + year : 2000 + year, month, day, h, mi, sec, out);
  }
  {  // asctime: Sun Nov  6 08:49:37 1994 (day padded with a space)
    Reader r{text};
    if (r.one_of(kWeekdays, weekday) && r.literal(" ") && r.one_of(kMonths, month) && r.literal(" ")) {
      const bool padded = r.literal(" ");
      if (r.digits(padded ? 1 : 2, day) && r.literal(" ") && r.time_of_day(h, mi, sec) && r.literal(" ") &&
          r.digits(4, year) && r.done())
        return assemble(year, month, day, h, mi, sec, out);
    }
  }
  return false;
}

}  // namespace axle::static_handler
