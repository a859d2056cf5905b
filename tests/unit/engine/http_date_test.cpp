#include "http/http_date.h"

#include <doctest/doctest.h>

#include <cctype>
#include <string>

TEST_SUITE("http_date") {
  TEST_CASE("Date is an IMF-fixdate and the log time matches the same second") {
    axle::http::HttpDate date;
    std::string d(date.view());
    REQUIRE(d.size() == axle::http::HttpDate::kLength);
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    CHECK(d.substr(3, 2) == ", ");
    CHECK(d.substr(d.size() - 4) == " GMT");
    CHECK(std::isdigit(static_cast<unsigned char>(d[5])));
    std::string clf(date.clf_view());
    // "06/Nov/1994:08:49:37 +0000": same day, month, year and time.
    REQUIRE(clf.size() == 26);
    CHECK(clf.substr(0, 2) == d.substr(5, 2));
    CHECK(clf.substr(3, 3) == d.substr(8, 3));
    CHECK(clf.substr(7, 4) == d.substr(12, 4));
    CHECK(clf.substr(12, 8) == d.substr(17, 8));
    CHECK(clf.substr(20) == " +0000");
  }
}
