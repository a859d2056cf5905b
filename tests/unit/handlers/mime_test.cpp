// The mime.types reader (modules/handler-static/src/mime.h), compiled in, on
// crafted files: what a line may hold, which line wins, and the fallback.
#include "mime.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

using axle::static_handler::MimeTypes;

namespace {

// A mime.types file under /tmp, removed with the test.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string &text) {
    char templ[] = "/tmp/axle-mime-XXXXXX";
    const int fd = ::mkstemp(templ);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = templ;
    std::ofstream(path, std::ios::binary) << text;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

TEST_SUITE("static") {
  TEST_CASE("mime.types: types, comments, case and the first line winning") {
    TempFile f(
        "# a comment line\n"
        "text/x-thing\t\tthing THG   # trailing comment\n"
        "application/x-first  dup\n"
        "application/x-second dup\n"
        "image/x-crlf crlf\r\n"
        "notatype ext1\n"
        "bad\"type/x ext2\n"
        "   \n"
        "application/x-noext\n"
        "application/x-long " + std::string(40, 'a') + "\n");
    MimeTypes types;
    REQUIRE(types.load(f.path.c_str()));
    CHECK(types.lookup("a.thing") == "text/x-thing; charset=utf-8");
    CHECK(types.lookup("dir/A.THG") == "text/x-thing; charset=utf-8");
    CHECK(types.lookup("x.dup") == "application/x-first");
    CHECK(types.lookup("x.crlf") == "image/x-crlf");
    CHECK(types.lookup("x.ext1") == "application/octet-stream");  // a type needs a '/'
    CHECK(types.lookup("x.ext2") == "application/octet-stream");  // a quote could not sit in a header
    CHECK(types.lookup("x." + std::string(40, 'a')) == "application/octet-stream");
    // Extensions the file lacks come from the built-in table.
    CHECK(types.lookup("a.html") == "text/html; charset=utf-8");
    CHECK(types.lookup("a.woff2") == "font/woff2");
    CHECK(types.lookup(".hidden") == "application/octet-stream");
    CHECK(types.lookup("Makefile") == "application/octet-stream");
  }

  TEST_CASE("mime.types: a missing file leaves the built-in table alone") {
    MimeTypes types;
    CHECK_FALSE(types.load("/nonexistent/mime.types"));
    CHECK(types.size() == 0);
    CHECK(types.lookup("a.css") == "text/css; charset=utf-8");
    CHECK(types.lookup("a.epub") == "application/octet-stream");
  }
}
