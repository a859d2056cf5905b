#include "vectors.h"

#include <string_view>

#include "sample_requests.h"

namespace axle::test {
namespace {

using namespace std::string_literals;

constexpr size_t kWholeInput = static_cast<size_t>(-1);

RequestVector ok(std::string name, std::string input, std::string method, std::string target, std::string path,
                 std::string query, std::vector<ExpectedHeader> headers, uint8_t minor = 1,
                 size_t consumed = kWholeInput, Limits limits = {}) {
  RequestVector v;
  v.name = std::move(name);
  v.input = std::move(input);
  v.result = AXLE_PARSE_COMPLETE;
  v.consumed = consumed == kWholeInput ? v.input.size() : consumed;
  v.method = std::move(method);
  v.target = std::move(target);
  v.path = std::move(path);
  v.query = std::move(query);
  v.version_minor = minor;
  v.headers = std::move(headers);
  v.limits = limits;
  return v;
}

RequestVector bad(std::string name, std::string input, uint16_t status, Limits limits = {}) {
  RequestVector v;
  v.name = std::move(name);
  v.input = std::move(input);
  v.result = AXLE_PARSE_ERROR;
  v.error_status = status;
  v.limits = limits;
  return v;
}

RequestVector incomplete(std::string name, std::string input, Limits limits = {}) {
  RequestVector v;
  v.name = std::move(name);
  v.input = std::move(input);
  v.result = AXLE_PARSE_INCOMPLETE;
  v.limits = limits;
  return v;
}

const std::string kHead = "GET / HTTP/1.1\r\n";

std::vector<RequestVector> build_request_vectors() {
  std::vector<RequestVector> v;
  // ---- valid ----
  v.push_back(ok("minimal", "GET / HTTP/1.1\r\n\r\n", "GET", "/", "/", "", {}));
  v.push_back(ok("short ping", std::string(kShortRequest), "GET", "/ping", "/ping", "", {{"Host", "x"}}));
  v.push_back(ok("browser-like (Chrome)", std::string(kBrowserRequest), "GET", "/static/app/main.js?v=3f9a2c7",
                 "/static/app/main.js", "v=3f9a2c7",
                 {{"Host", "www.example.com"},
                  {"Connection", "keep-alive"},
                  {"sec-ch-ua", "\"Chromium\";v=\"118\", \"Google Chrome\";v=\"118\", \"Not=A?Brand\";v=\"99\""},
                  {"sec-ch-ua-mobile", "?0"},
                  {"User-Agent",
                   "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 "
                   "Safari/537.36"},
                  {"sec-ch-ua-platform", "\"Linux\""},
                  {"Accept", "*/*"},
                  {"Sec-Fetch-Site", "same-origin"},
                  {"Sec-Fetch-Mode", "no-cors"},
                  {"Sec-Fetch-Dest", "script"},
                  {"Referer", "https://www.example.com/products/list?page=2"},
                  {"Accept-Encoding", "gzip, deflate, br"},
                  {"Accept-Language", "en-US,en;q=0.9,de;q=0.8"},
                  {"Cookie", "session=5f2b8c0e9a7d4e31b6c2; theme=dark; _ga=GA1.1.1234567890.1700000000"}}));
  v.push_back(ok("HTTP/1.0", "GET /index.html HTTP/1.0\r\n\r\n", "GET", "/index.html", "/index.html", "", {}, 0));
  v.push_back(ok("HTTP/1.9 is handled as 1.1", "GET / HTTP/1.9\r\n\r\n", "GET", "/", "/", "", {}, 1));
  v.push_back(ok("query split at first ?", "GET /search?q=a+b&x=%20?y HTTP/1.1\r\nHost: h\r\n\r\n", "GET",
                 "/search?q=a+b&x=%20?y", "/search", "q=a+b&x=%20?y", {{"Host", "h"}}));
  v.push_back(ok("empty query", "GET /p? HTTP/1.1\r\n\r\n", "GET", "/p?", "/p", "", {}));
  v.push_back(ok("absolute-form", "GET http://example.com:8080/a/b?c=d HTTP/1.1\r\n\r\n", "GET",
                 "http://example.com:8080/a/b?c=d", "/a/b", "c=d", {}));
  v.push_back(ok("absolute-form without path", "GET http://example.com HTTP/1.1\r\n\r\n", "GET",
                 "http://example.com", "", "", {}));
  v.push_back(ok("absolute-form query without path", "GET https://example.com?x=1 HTTP/1.1\r\n\r\n", "GET",
                 "https://example.com?x=1", "", "x=1", {}));
  v.push_back(ok("asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS", "*", "*", "", {{"Host", "h"}}));
  v.push_back(ok("leading empty lines are consumed", "\r\n\r\nGET / HTTP/1.1\r\n\r\n", "GET", "/", "/", "", {}));
  v.push_back(ok("four leading empty lines", "\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", "GET", "/", "/", "", {}));
  v.push_back(ok("pipelined: only the first head is consumed", "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", "GET",
                 "/a", "/a", "", {}, 1, 19));
  v.push_back(ok("body bytes after the head are not consumed",
                 "POST /f HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "POST", "/f", "/f", "",
                 {{"Content-Length", "5"}}, 1, 39));
  v.push_back(ok("OWS trimmed from values", kHead + "X: \t a  b \t\r\nY:z\r\n\r\n", "GET", "/", "/", "",
                 {{"X", "a  b"}, {"Y", "z"}}));
  v.push_back(ok("empty values", kHead + "A:\r\nB:   \r\n\r\n", "GET", "/", "/", "", {{"A", ""}, {"B", ""}}));
  v.push_back(ok("obs-text in value", kHead + "X: caf\xc3\xa9 \xff\r\n\r\n", "GET", "/", "/", "",
                 {{"X", "caf\xc3\xa9 \xff"}}));
  v.push_back(ok("extension methods", "M-SEARCH * HTTP/1.1\r\n\r\n", "M-SEARCH", "*", "*", "", {}));
  v.push_back(ok("every tchar in a name", kHead + "!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n", "GET", "/", "/", "",
                 {{"!#$%&'*+-.^_`|~09azAZ", "v"}}));
  v.push_back(ok("colons, quotes and DQUOTE in value", kHead + "X: a:b \"c\" ; d=e\r\n\r\n", "GET", "/", "/", "",
                 {{"X", "a:b \"c\" ; d=e"}}));
  v.push_back(ok("case and duplicates kept", kHead + "hOsT: a\r\nHost: b\r\n\r\n", "GET", "/", "/", "",
                 {{"hOsT", "a"}, {"Host", "b"}}));
  v.push_back(ok("target with every VCHAR class but '#'", "GET /a-z_~.!$&'()*+,;=:@%2F\"<>[]\\^`{|} HTTP/1.1\r\n\r\n",
                 "GET", "/a-z_~.!$&'()*+,;=:@%2F\"<>[]\\^`{|}", "/a-z_~.!$&'()*+,;=:@%2F\"<>[]\\^`{|}", "", {}));
  {
    Limits three{.max_headers = 3};
    v.push_back(ok("exactly max_headers fields", kHead + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", "GET", "/", "/", "",
                   {{"A", "1"}, {"B", "2"}, {"C", "3"}}, 1, kWholeInput, three));
  }
  {
    const std::string input = kHead + "X: " + std::string(40, 'v') + "\r\n\r\n";
    Limits exact{.max_head_bytes = static_cast<uint32_t>(input.size())};
    v.push_back(ok("head of exactly max_head_bytes", input, "GET", "/", "/", "", {{"X", std::string(40, 'v')}}, 1,
                   kWholeInput, exact));
  }
  {
    const std::string target = "/" + std::string(63, 't');
    Limits exact{.max_target_bytes = 64};
    v.push_back(ok("target of exactly max_target_bytes", "GET " + target + " HTTP/1.1\r\n\r\n", "GET", target, target,
                   "", {}, 1, kWholeInput, exact));
  }
  {
    // Long lines cross every SIMD block size and tail length.
    const std::string value(300, 'q');
    const std::string target = "/" + std::string(200, 'p') + "?" + std::string(70, 'k');
    v.push_back(ok("long target and value", "GET " + target + " HTTP/1.1\r\nLong-Value-Name-" + std::string(40, 'n') +
                                                ": " + value + "\r\n\r\n",
                   "GET", target, "/" + std::string(200, 'p'), std::string(70, 'k'),
                   {{"Long-Value-Name-" + std::string(40, 'n'), value}}));
  }

  // ---- request line ----
  v.push_back(bad("empty method", " / HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("invalid byte in method", "GE(T / HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("tab after method", "GET\t/ HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("two SP after method", "GET  / HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("two SP after target", "GET /  HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("SP after version", "GET / HTTP/1.1 \r\n\r\n", 400));
  v.push_back(bad("method only", "GET\r\n\r\n", 400));
  v.push_back(bad("no version (HTTP/0.9 form)", "GET /\r\n\r\n", 400));
  v.push_back(bad("no target (two tokens)", "GET HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("no version, bare LF", "GET /\n\n", 400));
  v.push_back(bad("'#' ends the target", "GET /a# HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("fragment in the target", "GET /a#frag HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("fragment in the query", "GET /a?b=c#d HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("fragment in an absolute-form target", "GET http://h/a#d HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("fragment only", "GET # HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("control byte in target", "GET /a\x01z HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("NUL in target", "GET /a"s + '\0' + "z HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("DEL in target", "GET /a\x7fz HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("byte >= 0x80 in target", "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("tab in target", "GET /a\tb HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("target without slash", "GET index.html HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("authority-form", "CONNECT example.com:443 HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("asterisk with more", "OPTIONS *x HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("absolute-form without authority", "GET http:///a HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("scheme without //", "GET http:/a HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505));
  v.push_back(bad("HTTP/3.0", "GET / HTTP/3.0\r\n\r\n", 505));
  v.push_back(bad("HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505));
  v.push_back(bad("lower-case version", "GET / http/1.1\r\n\r\n", 400));
  v.push_back(bad("two-digit minor", "GET / HTTP/1.10\r\n\r\n", 400));
  v.push_back(bad("version without minor", "GET / HTTP/1\r\n\r\n", 400));
  v.push_back(bad("version without dot", "GET / HTTP/11\r\n\r\n", 400));
  v.push_back(bad("version misspelt", "GET / HTXP/1.1\r\n\r\n", 400));
  v.push_back(bad("five leading empty lines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("leading bare LF", "\nGET / HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("leading bare CR", "\rGET / HTTP/1.1\r\n\r\n", 400));
  v.push_back(bad("leading SP", " GET / HTTP/1.1\r\n\r\n", 400));

  // ---- request smuggling: line endings and folding ----
  v.push_back(bad("bare LF ends request line", "GET / HTTP/1.1\nHost: x\r\n\r\n", 400));
  v.push_back(bad("bare LF ends field line", kHead + "Host: x\nX: y\r\n\r\n", 400));
  v.push_back(bad("bare LF ends head", kHead + "Host: x\r\n\n", 400));
  v.push_back(bad("LF-only request", "GET / HTTP/1.1\n\n", 400));
  v.push_back(bad("bare CR in request line", "GET / HTTP/1.1\rX\r\n\r\n", 400));
  v.push_back(bad("CR CR LF", "GET / HTTP/1.1\r\r\n\r\n", 400));
  v.push_back(bad("bare CR in value", kHead + "X: a\rb\r\n\r\n", 400));
  v.push_back(bad("bare CR at the final line", kHead + "Host: x\r\n\rX", 400));
  v.push_back(bad("bare CR in name", kHead + "Ho\rst: x\r\n\r\n", 400));
  v.push_back(bad("obs-fold with SP", kHead + "X: a\r\n b\r\n\r\n", 400));
  v.push_back(bad("obs-fold with HTAB", kHead + "Transfer-Encoding: chunked\r\n\tidentity\r\n\r\n", 400));
  v.push_back(bad("first field line starts with SP", kHead + " Host: x\r\n\r\n", 400));
  v.push_back(bad("SP before colon", kHead + "Transfer-Encoding : chunked\r\n\r\n", 400));
  v.push_back(bad("HTAB before colon", kHead + "Content-Length\t: 5\r\n\r\n", 400));
  v.push_back(bad("NUL in value", kHead + "X: a" + '\0' + "b\r\n\r\n", 400));
  v.push_back(bad("VT in value", kHead + "Transfer-Encoding:\x0b" "chunked\r\n\r\n", 400));
  v.push_back(bad("ESC in value", kHead + "X: a\x1b[0m\r\n\r\n", 400));
  v.push_back(bad("DEL in value", kHead + "X: a\x7f\r\n\r\n", 400));
  v.push_back(bad("empty field-name", kHead + ": x\r\n\r\n", 400));
  v.push_back(bad("invalid byte in field-name", kHead + "Ho(st: x\r\n\r\n", 400));
  v.push_back(bad("byte >= 0x80 in field-name", kHead + "Hos\xc3\xa9: x\r\n\r\n", 400));
  v.push_back(bad("field line without colon", kHead + "Host\r\n\r\n", 400));
  v.push_back(bad("NUL in field-name", kHead + "Ho" + '\0' + "st: x\r\n\r\n", 400));

  // ---- limits ----
  {
    Limits small_target{.max_target_bytes = 16};
    v.push_back(bad("target over max_target_bytes", "GET /" + std::string(16, 'a') + " HTTP/1.1\r\n\r\n", 414,
                    small_target));
    v.push_back(bad("414 before the head is complete", "GET /" + std::string(16, 'a'), 414, small_target));
    v.push_back(incomplete("target of max_target_bytes still incomplete", "GET /" + std::string(15, 'a'),
                           small_target));
  }
  {
    Limits two{.max_headers = 2};
    v.push_back(bad("more than max_headers", kHead + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, two));
    v.push_back(bad("431 on the first byte of the extra field", kHead + "A: 1\r\nB: 2\r\nC", 431, two));
    Limits small_array{.header_capacity = 1};
    v.push_back(bad("more than header_capacity", kHead + "A: 1\r\nB: 2\r\n\r\n", 431, small_array));
  }
  {
    const std::string input = kHead + "X: " + std::string(40, 'v') + "\r\n\r\n";
    Limits short_head{.max_head_bytes = static_cast<uint32_t>(input.size() - 1)};
    v.push_back(bad("head over max_head_bytes", input, 431, short_head));
    v.push_back(bad("incomplete head at max_head_bytes", input.substr(0, input.size() - 1), 431, short_head));
    v.push_back(incomplete("incomplete head below max_head_bytes", input.substr(0, input.size() - 2), short_head));
  }
  return v;
}

ChunkSizeVector chunk_ok(std::string input, uint64_t size, size_t consumed) {
  return {input, input, AXLE_PARSE_COMPLETE, size, consumed};
}
ChunkSizeVector chunk_bad(std::string input) { return {input, input, AXLE_PARSE_ERROR}; }
ChunkSizeVector chunk_incomplete(std::string input) { return {input, input, AXLE_PARSE_INCOMPLETE}; }

std::vector<ChunkSizeVector> build_chunk_size_vectors() {
  return {
      chunk_ok("0\r\n", 0, 3),
      chunk_ok("1a\r\n", 0x1a, 4),
      chunk_ok("FfFf\r\n", 0xffff, 6),
      chunk_ok("5\r\nhello\r\n", 5, 3),
      chunk_ok("1000000000000000\r\n", uint64_t{1} << 60, 18),
      chunk_ok("000000000000000A\r\n", 10, 18),
      chunk_ok("5;name\r\n", 5, 8),
      chunk_ok("5;name=value\r\n", 5, 14),
      chunk_ok("5 ; a = b ;c\t=\t\"q s\\\"x\\\\\" ;d\r\n", 5, 30),
      chunk_ok("5;a=\"\"\r\n", 5, 8),
      chunk_ok("5;a=\"caf\xc3\xa9\"\r\n", 5, 13),
      chunk_bad("0x10\r\n"),
      chunk_bad("-1\r\n"),
      chunk_bad("\r\n"),
      chunk_bad(";a\r\n"),
      chunk_bad(" 1\r\n"),
      chunk_bad("fffffffffffffffffff\r\n"),
      chunk_bad("fffffffffffffffffff"),
      chunk_bad("1000000000000001\r\n"),
      chunk_bad("ffffffffffffffff\r\n"),
      chunk_bad("00000000000000001\r\n"),
      chunk_bad("1 ;\r\n"),
      chunk_bad("1 \r\n"),
      chunk_bad("1\n"),
      chunk_bad("1\rX"),
      chunk_bad("1;\r\n"),
      chunk_bad("1;=v\r\n"),
      chunk_bad("1;a=\r\n"),
      chunk_bad("1;a b\r\n"),
      chunk_bad("1;a=\"x\r\n"),
      chunk_bad("1;a=\"\x01\"\r\n"),
      chunk_bad("1;a=\"\\\x01\"\r\n"),
      chunk_bad("1;a=b\"c\"\r\n"),
      chunk_bad("1;a=b;\r\n"),
      chunk_bad("g\r\n"),
      chunk_bad("1;" + std::string(5000, 'e') + "\r\n"),
      chunk_incomplete(""),
      chunk_incomplete("1"),
      chunk_incomplete("1 ;"),
      chunk_incomplete("1;a="),
      chunk_incomplete("1;a=\"x\\"),
      chunk_incomplete("1\r"),
  };
}

std::vector<TrailerVector> build_trailer_vectors() {
  return {
      {"no trailers", "\r\n", 64, AXLE_PARSE_COMPLETE, 2},
      {"two trailers", "Expires: never\r\nX-Sum:  abc \r\n\r\n", 64, AXLE_PARSE_COMPLETE, 32},
      {"next request not consumed", "X: y\r\n\r\nGET / HTTP/1.1\r\n\r\n", 64, AXLE_PARSE_COMPLETE, 8},
      {"exactly max_bytes", "X: y\r\n\r\n", 8, AXLE_PARSE_COMPLETE, 8},
      {"over max_bytes", "X: y\r\n\r\n", 7, AXLE_PARSE_ERROR},
      {"incomplete at max_bytes", "X: y\r\n\r", 7, AXLE_PARSE_ERROR},
      {"incomplete", "X: y\r\n", 64, AXLE_PARSE_INCOMPLETE},
      {"SP before colon", "X : y\r\n\r\n", 64, AXLE_PARSE_ERROR},
      {"bare LF", "X: y\n\r\n", 64, AXLE_PARSE_ERROR},
      {"bare LF at end", "X: y\r\n\n", 64, AXLE_PARSE_ERROR},
      {"bare CR", "X: y\r\r\n", 64, AXLE_PARSE_ERROR},
      {"obs-fold", "X: y\r\n z\r\n\r\n", 64, AXLE_PARSE_ERROR},
      {"NUL in value", "X: "s + '\0' + "\r\n\r\n", 64, AXLE_PARSE_ERROR},
      {"empty name", ": y\r\n\r\n", 64, AXLE_PARSE_ERROR},
  };
}

}  // namespace

const std::vector<RequestVector> &request_vectors() {
  static const std::vector<RequestVector> vectors = build_request_vectors();
  return vectors;
}

const std::vector<ChunkSizeVector> &chunk_size_vectors() {
  static const std::vector<ChunkSizeVector> vectors = build_chunk_size_vectors();
  return vectors;
}

const std::vector<TrailerVector> &trailer_vectors() {
  static const std::vector<TrailerVector> vectors = build_trailer_vectors();
  return vectors;
}

}  // namespace axle::test
