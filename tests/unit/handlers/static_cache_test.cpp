// The static handler's open-file cache, small files from memory,
// precompressed variants and /etc/mime.types, through the test host.
#include "static_fixture.h"

#include <dirent.h>

#include <chrono>
#include <thread>

using namespace static_test;

namespace {

// Descriptors open in this process.
int open_fds() {
  int n = 0;
  DIR *d = ::opendir("/proc/self/fd");
  REQUIRE(d != nullptr);
  while (const dirent *e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n - 1;  // the DIR's own descriptor
}

}  // namespace

TEST_SUITE("static") {
  TEST_CASE_FIXTURE(StaticFixture, "a cached file is served as it was until its validity ends") {
    tree.write("f.txt", "one");
    auto trusting = route(0, {.valid_ms = 600'000});
    auto checking = route(0, {.valid_ms = 0});
    CHECK(get(*trusting, "/f.txt")->file_contents() == "one");
    CHECK(get(*checking, "/f.txt")->file_contents() == "one");
    // Replaced by rename: a new inode; the old one stays open in the cache.
    tree.write("f.new", "two");
    fs::rename(tree.dir() / "f.new", tree.dir() / "f.txt");
    CHECK(get(*trusting, "/f.txt")->file_contents() == "one");  // within its validity
    CHECK(get(*checking, "/f.txt")->file_contents() == "two");  // checked on every request
  }

  TEST_CASE_FIXTURE(StaticFixture, "a revalidated file: same size new content, deleted, swapped symlink") {
    tree.write("same.txt", "aaaa");
    tree.write("gone.txt", "bye");
    tree.write("inside.txt", "inside");
    TempTree outside;
    outside.write("secret.txt", "secret");
    tree.symlink("inside.txt", "link.txt");
    auto r = route(0, {.valid_ms = 0});
    CHECK(get(*r, "/same.txt")->file_contents() == "aaaa");
    CHECK(get(*r, "/gone.txt")->status == 200);
    CHECK(get(*r, "/link.txt")->file_contents() == "inside");

    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a later mtime tick
    tree.write("same.txt", "bbbb");                                 // in place: same inode, same size
    fs::remove(tree.dir() / "gone.txt");
    fs::remove(tree.dir() / "link.txt");
    tree.symlink((outside.dir() / "secret.txt").string(), "link.txt");

    CHECK(get(*r, "/same.txt")->file_contents() == "bbbb");
    CHECK(get(*r, "/gone.txt")->status == 404);
    auto escaped = get(*r, "/link.txt");
    CHECK(escaped->status == 404);
    CHECK(escaped->file_fd < 0);
  }

  TEST_CASE_FIXTURE(StaticFixture, "descriptors held stay under cache_entries with more files than entries") {
    for (int i = 0; i < 20; ++i) tree.write("f" + std::to_string(i) + ".txt", "file " + std::to_string(i));
    const int before = open_fds();
    {
      auto r = route(0, {.entries = 4, .valid_ms = 600'000});
      for (int round = 0; round < 2; ++round)
        for (int i = 0; i < 20; ++i) {
          auto resp = get(*r, "/f" + std::to_string(i) + ".txt");
          CHECK(resp->file_contents() == "file " + std::to_string(i));
        }
      // The route's root and at most 4 cached descriptors (the responses are gone).
      CHECK(open_fds() - before <= 1 + 4);
    }
  }

  TEST_CASE_FIXTURE(StaticFixture, "cache_entries = 0 holds no descriptor") {
    tree.write("f.txt", "x");
    const int before = open_fds();
    auto r = route(0, {.entries = 0});
    CHECK(get(*r, "/f.txt")->file_contents() == "x");
    CHECK(open_fds() - before == 1);  // the root only
  }

  TEST_CASE_FIXTURE(StaticFixture, "small files are served from memory, byte-exact, with ranges and 304") {
    std::string small(4096, '\0');
    for (size_t i = 0; i < small.size(); ++i) small[i] = static_cast<char>(i * 7 + 3);
    tree.write("small.bin", small);
    tree.write("big.bin", std::string(20000, 'b'));
    auto r = route(0, {.valid_ms = 600'000, .memory_max = 16384});
    for (int i = 0; i < 2; ++i) {  // a miss, then a hit
      auto resp = get(*r, "/small.bin");
      CHECK(resp->status == 200);
      CHECK(resp->file_fd < 0);
      CHECK(resp->body == small);
      CHECK(resp->header("Content-Type") == "application/octet-stream");
    }
    auto big = get(*r, "/big.bin");
    CHECK(big->file_fd >= 0);
    CHECK(big->file_length == 20000);

    auto part = get(*r, "/small.bin", {{"Range", "bytes=100-199"}});
    CHECK(part->status == 206);
    CHECK(part->body == small.substr(100, 100));
    CHECK(part->header("Content-Range") == "bytes 100-199/4096");
    const std::string etag = get(*r, "/small.bin")->header("ETag");
    auto not_modified = get(*r, "/small.bin", {{"If-None-Match", etag}});
    CHECK(not_modified->status == 304);
    CHECK(not_modified->body.empty());
    auto head = get(*r, "/small.bin", {}, "HEAD");
    CHECK(head->status == 200);
    CHECK(head->body.size() == small.size());  // the host takes the length and sends no body
  }

  TEST_CASE_FIXTURE(StaticFixture, "lent bytes outlive their entry's eviction") {
    tree.write("a.txt", "aaaaaaaa");
    tree.write("b.txt", "bbbbbbbb");
    auto r = route(0, {.entries = 1, .valid_ms = 600'000, .memory_max = 1024});
    auto a = get(*r, "/a.txt");
    auto b = get(*r, "/b.txt");  // evicts a's entry while a's response still holds the bytes
    CHECK(a->body == "aaaaaaaa");
    CHECK(b->body == "bbbbbbbb");
    a.reset();  // releases after the eviction: must free exactly once (ASan checks)
    CHECK(get(*r, "/a.txt")->body == "aaaaaaaa");
  }

  TEST_CASE_FIXTURE(StaticFixture, "the byte budget bounds what memory entries hold") {
    for (int i = 0; i < 8; ++i) tree.write("m" + std::to_string(i), std::string(1000, static_cast<char>('a' + i)));
    auto r = route(0, {.valid_ms = 600'000, .memory_max = 1000, .memory_cache = 3000});
    for (int round = 0; round < 2; ++round)
      for (int i = 0; i < 8; ++i) {
        auto resp = get(*r, "/m" + std::to_string(i));
        CHECK(resp->body == std::string(1000, static_cast<char>('a' + i)));
      }
  }

  TEST_CASE_FIXTURE(StaticFixture, "directory index through the cache") {
    tree.write("docs/index.html", "<p>docs</p>");
    auto r = route(0, {.valid_ms = 600'000, .memory_max = 1024});
    for (int i = 0; i < 2; ++i) CHECK(get(*r, "/docs/")->body == "<p>docs</p>");
    CHECK(get(*r, "/docs")->status == 301);
    CHECK(get(*r, "/nodir/")->status == 404);
  }

  TEST_CASE_FIXTURE(StaticFixture, "precompressed variants: negotiation, Vary, own ETags, 304 and Range per variant") {
    tree.write("app.js", "plain javascript body");
    tree.write("app.js.gz", "GZIP-BYTES");
    tree.write("app.js.br", "BR-BYTES");
    tree.write("lone.txt", "no variants here");
    auto r = route(0, {.valid_ms = 600'000, .memory_max = 1024, .precompressed = true});

    auto br = get(*r, "/app.js", {{"Accept-Encoding", "gzip, deflate, br"}});
    CHECK(br->status == 200);
    CHECK(br->body == "BR-BYTES");
    CHECK(br->header("Content-Encoding") == "br");
    CHECK(br->header("Content-Type") == "text/javascript; charset=utf-8");
    CHECK(br->header("Vary") == "Accept-Encoding");

    auto gz = get(*r, "/app.js", {{"Accept-Encoding", "br;q=0.5, gzip"}});
    CHECK(gz->body == "GZIP-BYTES");
    CHECK(gz->header("Content-Encoding") == "gzip");

    auto plain = get(*r, "/app.js");
    CHECK(plain->body == "plain javascript body");
    CHECK(plain->header("Content-Encoding").empty());
    CHECK(plain->header("Vary") == "Accept-Encoding");  // identity too: the URL negotiates

    // Three representations, three tags.
    const std::string tags[] = {br->header("ETag"), gz->header("ETag"), plain->header("ETag")};
    CHECK(tags[0] != tags[1]);
    CHECK(tags[1] != tags[2]);
    CHECK(tags[0] != tags[2]);

    // 304 per variant: a tag matches only its own representation.
    auto nm = get(*r, "/app.js", {{"Accept-Encoding", "gzip"}, {"If-None-Match", tags[1]}});
    CHECK(nm->status == 304);
    CHECK(nm->header("ETag") == tags[1]);
    CHECK(nm->header("Vary") == "Accept-Encoding");
    CHECK(get(*r, "/app.js", {{"Accept-Encoding", "br"}, {"If-None-Match", tags[1]}})->status == 200);
    CHECK(get(*r, "/app.js", {{"If-None-Match", tags[1]}})->status == 200);

    // Range on the gzip bytes, and If-Range with the variant's own tag.
    auto range = get(*r, "/app.js", {{"Accept-Encoding", "gzip"}, {"Range", "bytes=0-3"}});
    CHECK(range->status == 206);
    CHECK(range->body == "GZIP");
    CHECK(range->header("Content-Range") == "bytes 0-3/10");
    CHECK(get(*r, "/app.js", {{"Accept-Encoding", "gzip"}, {"Range", "bytes=0-3"}, {"If-Range", tags[1]}})->status ==
          206);
    CHECK(get(*r, "/app.js", {{"Accept-Encoding", "gzip"}, {"Range", "bytes=0-3"}, {"If-Range", tags[2]}})->status ==
          200);

    // identity refused: a variant if one is acceptable, else 406.
    CHECK(get(*r, "/app.js", {{"Accept-Encoding", "gzip, identity;q=0"}})->body == "GZIP-BYTES");
    auto refused = get(*r, "/app.js", {{"Accept-Encoding", "zstd, identity;q=0"}});
    CHECK(refused->status == 406);
    CHECK(refused->header("Vary") == "Accept-Encoding");
    CHECK(get(*r, "/app.js", {{"Accept-Encoding", "*;q=0"}})->status == 406);
    // A file without variants does not negotiate.
    auto lone = get(*r, "/lone.txt", {{"Accept-Encoding", "identity;q=0"}});
    CHECK(lone->status == 200);
    CHECK(lone->header("Vary").empty());

    // The variant itself, asked for by name, is a plain gzip file.
    auto direct = get(*r, "/app.js.gz");
    CHECK(direct->header("Content-Type") == "application/gzip");
    CHECK(direct->header("Content-Encoding").empty());
    CHECK(direct->header("ETag") != tags[1]);
  }

  TEST_CASE_FIXTURE(StaticFixture, "precompressed = false ignores variants") {
    tree.write("app.js", "plain");
    tree.write("app.js.gz", "GZ");
    auto r = route();
    auto resp = get(*r, "/app.js", {{"Accept-Encoding", "gzip"}});
    CHECK(resp->file_contents() == "plain");
    CHECK(resp->header("Vary").empty());
    CHECK(resp->header("Content-Encoding").empty());
  }

  TEST_CASE_FIXTURE(StaticFixture, "a variant added or removed is noticed at revalidation") {
    tree.write("a.css", "plain css");
    auto r = route(0, {.valid_ms = 0, .precompressed = true});
    CHECK(get(*r, "/a.css", {{"Accept-Encoding", "gzip"}})->file_contents() == "plain css");
    tree.write("a.css.gz", "GZ");
    CHECK(get(*r, "/a.css", {{"Accept-Encoding", "gzip"}})->file_contents() == "GZ");
    fs::remove(tree.dir() / "a.css.gz");
    auto resp = get(*r, "/a.css", {{"Accept-Encoding", "gzip"}});
    CHECK(resp->file_contents() == "plain css");
    CHECK(resp->header("Vary").empty());
  }

  TEST_CASE_FIXTURE(StaticFixture, "media types from /etc/mime.types beyond the built-in table") {
    tree.write("book.epub", "x");
    auto r = route();
    const std::string type = get(*r, "/book.epub")->header("Content-Type");
    if (fs::exists("/etc/mime.types"))
      CHECK(type == "application/epub+zip");  // media-types has it; the built-in table does not
    else
      CHECK(type == "application/octet-stream");
  }
}
