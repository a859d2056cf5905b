// The admin endpoint without a socket: the request reader fed bytes split
// anywhere, the caller policy, the routes with stub handlers, and the
// [admin] config keys (hosts, token_file).
#include "admin.h"
#include "config.h"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace {

using State = axle::AdminRequestReader::State;

// Feeds `bytes` one byte at a time (the worst split); returns the final state.
State feed_bytewise(axle::AdminRequestReader &reader, std::string_view bytes) {
  State s = State::NeedMore;
  for (char c : bytes) s = reader.feed(std::string_view(&c, 1));
  return s;
}

int error_of(std::string_view bytes) {
  axle::AdminRequestReader reader;
  State s = reader.feed(bytes);
  if (s != State::Error) return static_cast<int>(s) * -1 - 1;  // -1 NeedMore, -2 Done
  return reader.error_status();
}

axle::AdminRequest parsed(std::string_view bytes) {
  axle::AdminRequestReader reader;
  REQUIRE(feed_bytewise(reader, bytes) == State::Done);
  return reader.request();
}

int status_of(const std::string &head, const axle::AdminPolicy &policy = {}, int *reloads = nullptr) {
  axle::AdminRequest request = parsed(head);
  axle::AdminHandlers handlers{[] { return nlohmann::json{{"generations", nlohmann::json::array()}}; },
                               [reloads] {
                                 if (reloads) ++*reloads;
                                 return std::string();
                               },
                               [policy] { return policy; }};
  return axle::admin_answer(request, handlers).status;
}

}  // namespace

TEST_SUITE("admin_request") {

TEST_CASE("a request split at every byte reads the same as in one piece") {
  std::string bytes = "POST /reload HTTP/1.1\r\nHost: 127.0.0.1:9\r\nContent-Type: application/json\r\n"
                      "Content-Length: 2\r\n\r\n{}";
  axle::AdminRequest r = parsed(bytes);
  CHECK(r.method == "POST");
  CHECK(r.target == "/reload");
  CHECK(r.minor == 1);
  CHECK(*r.field("host") == "127.0.0.1:9");
  CHECK(*r.field("content-type") == "application/json");
  CHECK(r.body == "{}");
  CHECK(r.field("origin") == nullptr);
}

TEST_CASE("field names are case-insensitive and values lose their surrounding blanks") {
  axle::AdminRequest r = parsed("GET /generations HTTP/1.0\r\nhOsT: \t localhost \t\r\n\r\n");
  CHECK(r.minor == 0);
  CHECK(*r.field("host") == "localhost");
}

TEST_CASE("malformed requests get the status that fits") {
  CHECK(error_of("GET /generations\r\n\r\n") == 400);                      // two tokens
  CHECK(error_of("GET  /generations HTTP/1.1\r\n\r\n") == 400);            // two spaces
  CHECK(error_of("GET generations HTTP/1.1\r\n\r\n") == 400);              // not origin-form
  CHECK(error_of("GET /a#b HTTP/1.1\r\n\r\n") == 400);
  CHECK(error_of("G@T /generations HTTP/1.1\r\n\r\n") == 400);
  CHECK(error_of("GET /generations HTTP/2.0\r\n\r\n") == 505);
  CHECK(error_of("GET /generations HTTP/1.2\r\n\r\n") == 505);
  CHECK(error_of("GET /generations HTTP/1.1x\r\n\r\n") == 400);
  CHECK(error_of("GET /generations HTTP/1.1\nHost: a\r\n\r\n") == 400);    // bare LF
  CHECK(error_of("GET /generations HTTP/1.1\rHost: a\r\n\r\n") == 400);    // bare CR
  CHECK(error_of("GET /generations HTTP/1.1\r\nHost : a\r\n\r\n") == 400); // space before colon
  CHECK(error_of("GET /generations HTTP/1.1\r\nHost: a\r\n b\r\n\r\n") == 400);  // obs-fold
  CHECK(error_of("GET /generations HTTP/1.1\r\nX: a\x01\r\n\r\n") == 400);
  CHECK(error_of("GET /generations HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
  CHECK(error_of("POST /reload HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx") == 400);
  CHECK(error_of("POST /reload HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == 400);
  CHECK(error_of("POST /reload HTTP/1.1\r\nContent-Length: 4097\r\n\r\n") == 413);
  CHECK(error_of("POST /reload HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\n") == 413);
  CHECK(error_of("POST /reload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 411);
}

TEST_CASE("the head and the field count are bounded") {
  std::string big = "GET /generations HTTP/1.1\r\nX: " + std::string(9000, 'a');
  CHECK(error_of(big) == 431);  // no end of head yet, already too long
  CHECK(error_of(big + "\r\n\r\n") == 431);
  std::string many = "GET /generations HTTP/1.1\r\n";
  for (int i = 0; i < 33; ++i) many += "X" + std::to_string(i) + ": 1\r\n";
  CHECK(error_of(many + "\r\n") == 431);
}

TEST_CASE("a body is read to its Content-Length, bytes after it are dropped") {
  axle::AdminRequestReader reader;
  CHECK(reader.feed("POST /reload HTTP/1.1\r\nContent-Length: 4\r\n\r\nab") == State::NeedMore);
  CHECK(reader.feed("cdEXTRA") == State::Done);
  CHECK(reader.request().body == "abcd");
  CHECK(reader.feed("more") == State::Done);
  std::string full_body = "POST /reload HTTP/1.1\r\nContent-Length: 4096\r\n\r\n" + std::string(4096, 'b');
  CHECK(error_of(full_body) == -2);
}

}  // TEST_SUITE

TEST_SUITE("admin_policy") {

TEST_CASE("loopback Host values and configured names pass, others do not") {
  std::vector<std::string> names = {"admin.example"};
  for (const char *ok : {"127.0.0.1", "127.0.0.1:8080", "127.9.8.7:1", "[::1]", "[::1]:65535", "localhost",
                         "LOCALHOST:80", "admin.example", "Admin.Example:9000"}) {
    CAPTURE(ok);
    CHECK(axle::admin_host_allowed(ok, names));
  }
  for (const char *bad : {"", "evil.com", "localhost.evil.com", "127.0.0.1.evil.com", "128.0.0.1", "[::2]",
                          "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536", "localhost:80:80", "[::1", "[::1]x",
                          "admin.example.evil", "0.0.0.0"}) {
    CAPTURE(bad);
    CHECK_FALSE(axle::admin_host_allowed(bad, names));
  }
}

TEST_CASE("the token compares whole") {
  CHECK(axle::admin_token_matches("secret-token-123", "secret-token-123"));
  CHECK_FALSE(axle::admin_token_matches("secret-token-12", "secret-token-123"));
  CHECK_FALSE(axle::admin_token_matches("secret-token-1234", "secret-token-123"));
  CHECK_FALSE(axle::admin_token_matches("secret-token-124", "secret-token-123"));
  // A prefix repeated to the token's length is not the token.
  CHECK_FALSE(axle::admin_token_matches("abab", "ab"));
  CHECK_FALSE(axle::admin_token_matches("", "ab"));
  CHECK_FALSE(axle::admin_token_matches("", ""));
}

TEST_CASE("browser requests are refused, command-line ones pass") {
  const std::string get = "GET /generations HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  CHECK(status_of(get + "\r\n") == 200);
  CHECK(status_of(get + "Origin: http://127.0.0.1\r\n\r\n") == 403);
  CHECK(status_of(get + "Origin: null\r\n\r\n") == 403);
  CHECK(status_of(get + "Sec-Fetch-Site: cross-site\r\n\r\n") == 403);
  CHECK(status_of(get + "Sec-Fetch-Site: same-site\r\n\r\n") == 403);
  CHECK(status_of(get + "Sec-Fetch-Site: same-origin\r\n\r\n") == 200);
  CHECK(status_of(get + "Sec-Fetch-Site: none\r\n\r\n") == 200);
  CHECK(status_of("GET /generations HTTP/1.1\r\nHost: rebind.evil\r\n\r\n") == 403);
  CHECK(status_of("GET /generations HTTP/1.1\r\n\r\n") == 400);
  CHECK(status_of("GET /generations HTTP/1.0\r\n\r\n") == 200);
  CHECK(status_of("GET /generations HTTP/1.1\r\nHost: ops.local\r\n\r\n", {{"ops.local"}, ""}) == 200);
}

TEST_CASE("with a token, only the right bearer passes, before any route") {
  axle::AdminPolicy policy{{}, "0123456789abcdef"};
  const std::string get = "GET /generations HTTP/1.1\r\nHost: localhost\r\n";
  CHECK(status_of(get + "\r\n", policy) == 401);
  CHECK(status_of(get + "Authorization: Bearer 0123456789abcdeX\r\n\r\n", policy) == 401);
  CHECK(status_of(get + "Authorization: Basic 0123456789abcdef\r\n\r\n", policy) == 401);
  CHECK(status_of(get + "Authorization: Bearer 0123456789abcdef\r\n\r\n", policy) == 200);
  CHECK(status_of(get + "Authorization: bearer 0123456789abcdef\r\n\r\n", policy) == 200);
  CHECK(status_of("GET /nothing HTTP/1.1\r\nHost: localhost\r\n\r\n", policy) == 401);

  axle::AdminRequest request = parsed(get + "\r\n");
  axle::AdminHandlers handlers{[] { return nlohmann::json::object(); }, [] { return std::string(); },
                               [policy] { return policy; }};
  std::string wire = axle::admin_serialize(axle::admin_answer(request, handlers));
  CHECK(wire.find("\r\nWWW-Authenticate: Bearer") != std::string::npos);
}

TEST_CASE("reload is a POST with no body or a JSON one") {
  int reloads = 0;
  const std::string post = "POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  CHECK(status_of(post + "\r\n", {}, &reloads) == 200);
  CHECK(status_of(post + "Content-Length: 0\r\n\r\n", {}, &reloads) == 200);
  CHECK(status_of(post + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", {}, &reloads) == 200);
  CHECK(status_of(post + "Content-Type: Application/JSON; charset=utf-8\r\n\r\n", {}, &reloads) == 200);
  CHECK(reloads == 4);
  CHECK(status_of(post + "Content-Type: text/plain\r\n\r\n", {}, &reloads) == 415);
  CHECK(status_of(post + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1\r\n\r\nx", {},
                  &reloads) == 415);
  CHECK(status_of(post + "Content-Type: multipart/form-data; boundary=x\r\n\r\n", {}, &reloads) == 415);
  CHECK(status_of(post + "Content-Length: 1\r\n\r\nx", {}, &reloads) == 415);  // a body without a type
  CHECK(status_of("GET /reload HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", {}, &reloads) == 405);
  CHECK(status_of("POST /generations HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", {}, &reloads) == 405);
  CHECK(status_of("GET /other HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", {}, &reloads) == 404);
  CHECK(reloads == 4);
}

TEST_CASE("bytes that are not UTF-8 come out as valid JSON") {
  axle::AdminResponse r = axle::admin_error(409, std::string("/etc/caf\xe9/axle.toml: bad"));
  std::string wire = axle::admin_serialize(r);
  CHECK(wire.find("caf\xef\xbf\xbd/axle.toml") != std::string::npos);  // U+FFFD
  CHECK(wire.find("\xe9") == std::string::npos);
  size_t body = wire.find("\r\n\r\n") + 4;
  CHECK(wire.find("Content-Length: " + std::to_string(wire.size() - body) + "\r\n") != std::string::npos);
}

}  // TEST_SUITE

TEST_SUITE("admin_config") {

namespace fs = std::filesystem;

struct TokenDir {
  fs::path dir = fs::temp_directory_path() / ("axle-admin-test-" + std::to_string(::getpid()));
  TokenDir() { fs::create_directories(dir); }
  ~TokenDir() { fs::remove_all(dir); }
  std::string write(const std::string &name, const std::string &text, mode_t mode) {
    fs::path p = dir / name;
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p.string();
  }
  std::string parse(const std::string &admin, std::optional<axle::Config> &cfg) {
    std::string error;
    cfg = axle::parse_config("[server]\nlisten = [\"127.0.0.1:0\"]\n[admin]\n" + admin, "t.toml", dir.string(),
                             error);
    return error;
  }
};

TEST_CASE("token_file is read relative to the config, one line, not readable by others") {
  TokenDir d;
  std::optional<axle::Config> cfg;
  d.write("token", "0123456789abcdef+/==\n", 0600);
  CHECK(d.parse("token_file = \"token\"\n", cfg) == "");
  REQUIRE(cfg);
  CHECK(cfg->admin_token == "0123456789abcdef+/==");
  d.write("group", "0123456789abcdef", 0640);
  CHECK(d.parse("token_file = \"group\"\n", cfg) == "");

  CHECK(d.parse("token_file = \"missing\"\n", cfg).find("t.toml:4: admin.token_file: ") == 0);
  d.write("world", "0123456789abcdef", 0644);
  CHECK(d.parse("token_file = \"world\"\n", cfg).find("readable by every user") != std::string::npos);
  d.write("empty", "\n", 0600);
  CHECK(d.parse("token_file = \"empty\"\n", cfg).find("16 to 1024 characters") != std::string::npos);
  d.write("short", "abc", 0600);
  CHECK(d.parse("token_file = \"short\"\n", cfg).find("16 to 1024 characters") != std::string::npos);
  d.write("lines", "0123456789abcdef\nsecond", 0600);
  CHECK(d.parse("token_file = \"lines\"\n", cfg).find("only letters, digits") != std::string::npos);
  d.write("pads", std::string(16, '='), 0600);
  CHECK(d.parse("token_file = \"pads\"\n", cfg).find("only letters, digits") != std::string::npos);
  d.write("space", "0123456789 abcdef", 0600);
  CHECK(d.parse("token_file = \"space\"\n", cfg).find("only letters, digits") != std::string::npos);
  CHECK(d.parse("token_file = \".\"\n", cfg).find("not a regular file") != std::string::npos);
}

TEST_CASE("hosts are plain names, kept lowercase") {
  TokenDir d;
  std::optional<axle::Config> cfg;
  CHECK(d.parse("hosts = [\"Admin.Example\", \"ops\"]\n", cfg) == "");
  REQUIRE(cfg);
  CHECK(cfg->admin_hosts == std::vector<std::string>{"admin.example", "ops"});
  CHECK(d.parse("hosts = [\"a.example:80\"]\n", cfg).find("t.toml:4: admin.hosts[0]: expected a host name") == 0);
  CHECK(d.parse("hosts = [\"*.example\"]\n", cfg).find("admin.hosts[0]") != std::string::npos);
  CHECK(d.parse("hosts = \"one\"\n", cfg).find("expected an array of strings") != std::string::npos);
}

}  // TEST_SUITE
