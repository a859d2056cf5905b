// Target rewriting (route key `rewrite`).
#include "rewrite.h"

#include <doctest/doctest.h>

using namespace axle::proxy;

TEST_CASE("the literal prefix of a pattern") {
  CHECK(literal_prefix("/app/*") == "/app/");
  CHECK(literal_prefix("/u/{id}/x") == "/u/");
  CHECK(literal_prefix("/exact") == "/exact");
}

TEST_CASE("no rewrite: the target as sent, absolute form reduced") {
  CHECK(rewrite_target("/app/x?q=1", "/app/x", "q=1", "/app/", "") == "/app/x?q=1");
  CHECK(rewrite_target("http://h:1/app/x?q", "/app/x", "q", "/app/", "") == "/app/x?q");
  CHECK(rewrite_target("http://h", "/", "", "/app/", "") == "/");
}

TEST_CASE("rewrite replaces the prefix") {
  CHECK(rewrite_target("/app/x?q", "/app/x", "q", "/app/", "/") == "/x?q");
  CHECK(rewrite_target("/app/a/b", "/app/a/b", "", "/app/", "/v2/") == "/v2/a/b");
  CHECK(rewrite_target("/app/", "/app/", "", "/app/", "/") == "/");
}

TEST_CASE("a target that spells the prefix differently is rebuilt from the decoded path") {
  CHECK(rewrite_target("/ap%70/a%20b?x=1", "/app/a b", "x=1", "/app/", "/") == "/a%20b?x=1");
}
