// The Date header value, formatted at most once per second per worker.
#pragma once

#include <ctime>
#include <string_view>

namespace axle::http {

class HttpDate {
 public:
  HttpDate() { refresh(); }
  // Reformats only when the wall-clock second changed.
  void refresh() {
    time_t now = ::time(nullptr);
    if (now == second_) return;
    second_ = now;
    struct tm tm;
    ::gmtime_r(&now, &tm);
    ::strftime(text_, sizeof text_, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    clf_length_ = ::strftime(clf_, sizeof clf_, "%d/%b/%Y:%H:%M:%S +0000", &tm);
  }
  std::string_view view() const { return {text_, kLength}; }
  // The same second in the access log's format: "10/Oct/2000:13:55:36 +0000".
  std::string_view clf_view() const { return {clf_, clf_length_}; }
  static constexpr size_t kLength = 29;

 private:
  time_t second_ = -1;
  char text_[kLength + 1] = {};
  char clf_[32] = {};
  size_t clf_length_ = 0;
};

}  // namespace axle::http
