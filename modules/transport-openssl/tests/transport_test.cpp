// transport "openssl" against the fake host and lower io (harness.h) and an
// in-process OpenSSL client. No timing: the host clock is manual.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "harness.h"
#include "test_certs.h"

using harness::ClientOptions;
using harness::Link;
using harness::Server;

namespace {

std::string pattern(size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed + i / 251) % 26);
  return s;
}

std::string str(axle_str_t s) { return std::string(s.ptr ? s.ptr : "", s.len); }

// An established link with the host echoing nothing yet.
void handshake(Link &l, size_t split = 0) {
  REQUIRE(l.open_status() == AXLE_OK);
  l.run(split);
  REQUIRE(l.client_handshake_done());
  REQUIRE((l.info().flags & AXLE_TRANSPORT_ESTABLISHED) != 0);
}

void check_clean(const Link &l) {
  for (const std::string &v : l.violations) FAIL_CHECK(v);
  for (const std::string &v : fake::violations()) FAIL_CHECK(v);
}

// Upper ceiling of one lower send: the queue bound plus one record (16 KiB + header, tag, padding).
constexpr size_t kMaxLowerSend = 64 * 1024 + 16 * 1024 + 256;

std::string create_error(axle_config_t cfg) {
  Server server(std::move(cfg));
  return server.ok() ? std::string() : server.error();
}

}  // namespace

TEST_CASE("descriptor: a transport named openssl with its [tls] keys and the sni section") {
  fake::reset();
  Server server(Server::config());
  REQUIRE(server.ok());
  const axle_module_descriptor_t &d = server.desc();
  CHECK(d.kind == AXLE_KIND_TRANSPORT);
  CHECK(std::string(d.name) == "openssl");
  bool cert_required = false, alpn_default = false;
  for (size_t i = 0; i < d.config_key_count; ++i) {
    const std::string name = d.config_keys[i].name;
    CHECK(d.config_keys[i].doc != nullptr);
    if (name == "certificate") cert_required = d.config_keys[i].default_value == nullptr;
    if (name == "alpn") alpn_default = std::string(d.config_keys[i].default_value) == "http/1.1,http/1.0";
  }
  CHECK(cert_required);
  CHECK(alpn_default);
  REQUIRE(d.config_section_count == 1);
  CHECK(std::string(d.config_sections[0].name) == "sni");
  const bool stream_only = server.vt().stream->send && !server.vt().stream->loop_create;
  CHECK(stream_only);
  CHECK(std::string(server.vt().describe(server.instance())).find("user-space TLS") == 0);
}

TEST_CASE("handshake byte by byte, then bytes both ways split at every boundary") {
  fake::reset();
  Server server(Server::config());
  REQUIRE(server.ok());
  Link l(server);
  handshake(l, 1);  // the ClientHello and Finished fed one byte per lower_data
  CHECK(fake::counter("axle_tls_handshakes_total") == 1);
  CHECK(str(l.info().protocol) == "TLSv1.3");

  // Client → host: one record per message, fed split at every position.
  l.client_write("m0");
  const std::string first = l.client_pending_ciphertext();
  const size_t record_len = first.size();  // every message below makes a record this long
  l.feed_server(first);
  std::string expected = "m0";
  for (size_t cut = 1; cut < record_len; ++cut) {
    const std::string msg = "m" + std::to_string(cut % 10);
    l.client_write(msg);
    const std::string wire = l.client_pending_ciphertext();
    l.feed_server(wire.substr(0, cut));
    l.feed_server(wire.substr(cut));
    expected += msg;
  }
  CHECK(l.upper.data == expected);

  // Host → client: echo it back.
  REQUIRE(l.send(l.upper.data) == AXLE_OK);
  CHECK(l.upper.sents == 0);  // never inside the call
  l.run();
  CHECK(l.upper.sents == 1);
  CHECK(l.upper.sent_err == 0);
  CHECK(l.client_received == expected);
  check_clean(l);
}

TEST_CASE("a large send is encrypted as the lower side takes it: bounded, one send in flight") {
  fake::reset();
  Server server(Server::config());
  Link l(server);
  handshake(l);
  const std::string big = pattern(3 * 1024 * 1024 + 17);
  const size_t sends_before = l.lower.sends;
  REQUIRE(l.send(big) == AXLE_OK);
  l.run();
  CHECK(l.upper.sents == 1);
  CHECK(l.upper.completed_at_last_sent == l.lower.completed);  // on_sent after the last lower send completed
  CHECK(l.lower.sends - sends_before > 3 * 1024 * 1024 / kMaxLowerSend);
  CHECK(l.lower.largest_send <= kMaxLowerSend);
  CHECK(l.client_received == big);
  check_clean(l);
}

TEST_CASE("sendfile in user space: a real file range, read through the bounded buffer") {
  fake::reset();
  Server server(Server::config());
  Link l(server);
  handshake(l);
  char path[] = "/tmp/axle-tls-file-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  const std::string content = pattern(700 * 1024 + 333, 5);
  REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  REQUIRE(l.sendfile(fd, 1000, content.size() - 2000) == AXLE_OK);
  l.run();
  CHECK(l.upper.sents == 1);
  CHECK(l.upper.sent_err == 0);
  CHECK(l.client_received == content.substr(1000, content.size() - 2000));
  CHECK(l.lower.largest_send <= kMaxLowerSend);

  SUBCASE("a range past the end of the file fails on_sent, after what exists was sent") {
    l.client_received.clear();
    REQUIRE(l.sendfile(fd, content.size() - 10, 100) == AXLE_OK);
    l.run();
    CHECK(l.upper.sents == 2);
    CHECK(l.upper.sent_err == EIO);
    CHECK(l.client_received == content.substr(content.size() - 10));
  }
  ::close(fd);
  unlink(path);
  check_clean(l);
}

TEST_CASE("SNI picks the certificate of the requested name; others get the default") {
  fake::reset();
  axle_config_t cfg = Server::config();
  axle_config_t a, b;
  a.strings["certificate"] = "a-chain.crt";
  a.strings["key"] = "a.key";
  a.lists["names"] = {"a.example.test", "A.Other.Test"};
  b.strings["certificate"] = "b.crt";
  b.strings["key"] = "b.key";
  b.lists["names"] = {"*.b.example.test"};
  cfg.sections["sni"]["a"] = a;
  cfg.sections["sni"]["b"] = b;
  Server server(cfg);
  REQUIRE(server.ok());
  struct Case {
    const char *name, *cn;
  } cases[] = {{"a.example.test", "a.example.test"}, {"a.other.test", "a.example.test"},
               {"www.b.example.test", "*.b.example.test"}, {"b.example.test", "default.test"},
               {"x.y.b.example.test", "default.test"}, {"", "default.test"}};
  for (const Case &c : cases) {
    CAPTURE(c.name);
    ClientOptions o;
    o.server_name = c.name;
    Link l(server, o);
    handshake(l);
    CHECK(l.peer_cn() == c.cn);
    CHECK(str(l.info().server_name) == c.name);
    check_clean(l);
  }
}

TEST_CASE("ALPN: http/1.1 is selected, http/1.0 too; a client offering only protocols we lack is refused") {
  fake::reset();
  Server server(Server::config());
  {
    ClientOptions o;
    o.alpn = {"h2", "http/1.1"};
    Link l(server, o);
    handshake(l);
    CHECK(str(l.info().alpn) == "http/1.1");
    check_clean(l);
  }
  {
    ClientOptions o;
    o.alpn = {"http/1.0"};  // an HTTP/1.0 client (curl -0) is served by default
    Link l(server, o);
    handshake(l);
    CHECK(str(l.info().alpn) == "http/1.0");
    check_clean(l);
  }
  {
    ClientOptions o;
    o.alpn = {"h2"};
    Link l(server, o);
    l.run();
    CHECK_FALSE(l.client_handshake_done());
    CHECK(l.lower.closed);
    CHECK(l.upper.closed == 1);
    CHECK(fake::counter("axle_tls_handshake_failures_total") == 1);
    check_clean(l);
  }
}

TEST_CASE("TLS 1.2 works too, with the default ECDHE+AEAD ciphers") {
  fake::reset();
  Server server(Server::config());
  ClientOptions o;
  o.max_version = TLS1_2_VERSION;
  Link l(server, o);
  handshake(l);
  CHECK(str(l.info().protocol) == "TLSv1.2");
  CHECK(str(l.info().cipher).find("ECDHE-ECDSA") == 0);
  l.client_write("ping");
  l.run();
  CHECK(l.upper.data == "ping");
  check_clean(l);
}

namespace {

// A full handshake that reads the server's tickets; returns the session (caller frees).
SSL_SESSION *session_from(Server &server, int max_version = 0) {
  ClientOptions o;
  o.max_version = max_version;
  Link l(server, o);
  handshake(l);
  l.run();  // the client reads the NewSessionTicket messages
  SSL_SESSION *s = SSL_get1_session(l.client());
  REQUIRE(s != nullptr);
  REQUIRE(SSL_SESSION_is_resumable(s));
  return s;
}

bool resumes(Server &server, SSL_SESSION *s, int max_version = 0) {
  ClientOptions o;
  o.session = s;
  o.max_version = max_version;
  Link l(server, o);
  handshake(l);
  const bool reused = SSL_session_reused(l.client()) == 1;
  CHECK(reused == ((l.info().flags & AXLE_TRANSPORT_RESUMED) != 0));
  check_clean(l);
  return reused;
}

}  // namespace

TEST_CASE("resumption with a ticket, counted") {
  fake::reset();
  Server server(Server::config());
  SSL_SESSION *s = session_from(server);
  CHECK(resumes(server, s));
  CHECK(fake::counter("axle_tls_resumed_total") == 1);
  SSL_SESSION_free(s);

  SUBCASE("TLS 1.2 tickets") {
    SSL_SESSION *s12 = session_from(server, TLS1_2_VERSION);
    CHECK(resumes(server, s12, TLS1_2_VERSION));
    CHECK(fake::counter("axle_tls_resumed_total") == 2);
    SSL_SESSION_free(s12);
  }
  SUBCASE("session_tickets = false: no resumption") {
    axle_config_t cfg = Server::config();
    cfg.bools["session_tickets"] = false;
    Server plain(cfg);
    Link l(plain);
    handshake(l);
    l.run();
    SSL_SESSION *none = SSL_get1_session(l.client());
    CHECK_FALSE(SSL_SESSION_is_resumable(none));
    SSL_SESSION_free(none);
  }
}

TEST_CASE("ticket keys rotate: one period old still resumes, two periods old is a full handshake") {
  fake::reset();
  axle_config_t cfg = Server::config();
  cfg.ints["ticket_key_rotation_s"] = 60;
  Server server(cfg);
  SSL_SESSION *old = session_from(server);
  fake::advance(60 * 1000 + 1);  // the key is now the previous one
  CHECK(resumes(server, old));
  SSL_SESSION *fresh = session_from(server);
  fake::advance(60 * 1000);  // `old` is two periods old now; `fresh` one
  CHECK_FALSE(resumes(server, old));
  CHECK(resumes(server, fresh));
  SSL_SESSION_free(old);
  SSL_SESSION_free(fresh);
}

TEST_CASE("garbage or plaintext HTTP instead of a ClientHello: closed, counted, nothing goes up") {
  const std::string inputs[] = {std::string("\x16\x03\x01\x00\x05hello-garbage-after-a-header", 33),
                                "GET / HTTP/1.1\r\nHost: example\r\n\r\n", std::string(300, '\0')};
  int n = 0;
  for (const std::string &input : inputs) {
    CAPTURE(n);
    fake::reset();
    Server server(Server::config());
    Link l(server);
    REQUIRE(l.open_status() == AXLE_OK);
    l.feed_server(input);
    l.run();
    CHECK(l.lower.closed);
    CHECK(l.upper.closed == 1);
    CHECK(l.upper.data.empty());
    CHECK(l.upper.eofs == 0);  // the host never saw data: the transport closes by itself
    CHECK(fake::counter("axle_tls_handshake_failures_total") == 1);
    CHECK(fake::counter("axle_tls_handshakes_total") == 0);
    // Nothing, or TLS alert records only.
    for (size_t i = 0; i + 5 <= l.lower.wire.size(); i += 5 + ((unsigned char)l.lower.wire[i + 3] << 8 | (unsigned char)l.lower.wire[i + 4]))
      CHECK(l.lower.wire[i] == '\x15');
    check_clean(l);
    ++n;
  }
}

TEST_CASE("a silent connection is closed by the worker's sweep after handshake_timeout_ms") {
  fake::reset();
  axle_config_t cfg = Server::config();
  cfg.ints["handshake_timeout_ms"] = 2000;
  Server server(cfg);
  const size_t timers = fake::live_timers();
  Link silent(server), done(server);
  CHECK(fake::live_timers() == timers);  // one sweep timer per worker, none per connection
  handshake(done);
  fake::advance(1500);
  CHECK_FALSE(silent.lower.closed);
  fake::advance(1000);  // past 2000 ms: the sweep (every 500 ms) closes it
  CHECK(silent.lower.closed);
  silent.run();
  CHECK(silent.upper.closed == 1);
  CHECK(silent.upper.eofs == 0);
  CHECK_FALSE(done.lower.closed);  // an established connection is not the sweep's
  CHECK(fake::counter("axle_tls_handshake_timeouts_total") == 1);
  check_clean(silent);
  check_clean(done);
}

TEST_CASE("a half-sent ClientHello times out too") {
  fake::reset();
  axle_config_t cfg = Server::config();
  cfg.ints["handshake_timeout_ms"] = 1000;
  Server server(cfg);
  Link l(server);
  SSL_do_handshake(l.client());
  const std::string hello = l.client_pending_ciphertext();
  l.feed_server(hello.substr(0, hello.size() / 2));
  fake::advance(999);
  CHECK_FALSE(l.lower.closed);
  fake::advance(300);  // the sweep runs every 250 ms
  CHECK(l.lower.closed);
  CHECK(fake::counter("axle_tls_handshake_timeouts_total") == 1);
  l.run();
  CHECK(l.upper.closed == 1);
  check_clean(l);
}

TEST_CASE("max_handshakes: conn_open answers AXLE_AGAIN beyond, until one finishes") {
  fake::reset();
  axle_config_t cfg = Server::config();
  cfg.ints["max_handshakes"] = 2;
  Server server(cfg);
  Link one(server), two(server);
  CHECK(one.open_status() == AXLE_OK);
  CHECK(two.open_status() == AXLE_OK);
  {
    Link three(server);
    CHECK(three.open_status() == AXLE_AGAIN);
  }
  one.run();
  REQUIRE(one.client_handshake_done());
  Link four(server);
  CHECK(four.open_status() == AXLE_OK);
  check_clean(one);
}

TEST_CASE("pause: no on_data while paused, the lower side is paused, resume delivers from a timer") {
  fake::reset();
  Server server(Server::config());
  Link l(server);
  handshake(l);
  l.pause();
  CHECK(l.lower.paused);
  l.client_write("first");
  l.client_write("second");
  l.feed_server(l.client_pending_ciphertext());  // a completion engine may still deliver after the pause
  CHECK(l.upper.data.empty());
  l.resume();
  CHECK_FALSE(l.lower.paused);
  CHECK(l.upper.data.empty());  // not from inside resume
  fake::advance(0);
  CHECK(l.upper.data == "firstsecond");
  check_clean(l);
}

TEST_CASE("a host that pauses inside on_data gets nothing more until it resumes") {
  fake::reset();
  Server server(Server::config());
  Link l(server);
  handshake(l);
  for (int i = 0; i < 4; ++i) l.client_write("record" + std::to_string(i));
  const std::string wire = l.client_pending_ciphertext();
  l.pause_after_data = true;
  l.feed_server(wire);  // four records in one lower chunk
  CHECK(l.upper.data == "record0");
  CHECK(l.lower.paused);
  l.pause_after_data = false;
  l.resume();
  fake::advance(0);
  CHECK(l.upper.data == "record0record1record2record3");
  check_clean(l);
}

TEST_CASE("close sends close_notify, then closes the lower connection once it is sent") {
  fake::reset();
  Server server(Server::config());
  Link l(server);
  handshake(l);
  l.close();
  CHECK_FALSE(l.lower.closed);  // waits for the close_notify to be sent
  l.run();
  CHECK(l.client_saw_close_notify);
  CHECK(l.lower.closed);
  CHECK(l.upper.closed == 1);
  CHECK(l.upper.eofs == 0);
  check_clean(l);
}

TEST_CASE("the client's close_notify and a plain lower EOF both reach the host as on_eof(0)") {
  fake::reset();
  Server server(Server::config());
  {
    Link l(server);
    handshake(l);
    l.client_write("bye");
    SSL_shutdown(l.client());
    l.run();
    CHECK(l.upper.data == "bye");
    CHECK(l.upper.eofs == 1);
    CHECK(l.upper.eof_err == 0);
    check_clean(l);
  }
  {
    Link l(server);
    handshake(l);
    l.lower_eof(0);
    CHECK(l.upper.eofs == 1);
    check_clean(l);
  }
}

TEST_CASE("shutdown_write: close_notify after the data, then the lower half-close") {
  fake::reset();
  Server server(Server::config());
  Link l(server);
  handshake(l);
  REQUIRE(l.send("last words") == AXLE_OK);
  REQUIRE(l.shutdown_write() == AXLE_OK);
  l.run();
  CHECK(l.client_received == "last words");
  CHECK(l.client_saw_close_notify);
  CHECK(l.lower.shut);
  CHECK(l.upper.sents == 1);
  check_clean(l);
}

TEST_CASE("TLS 1.3 AES-GCM records sealed by the module: KeyUpdates with and without a request keep going") {
  fake::reset();
  Server server(Server::config());
  REQUIRE(std::string(server.vt().describe(server.instance())).find("sealed by the module") != std::string::npos);
  {
    Link l(server);
    handshake(l);
    REQUIRE(SSL_key_update(l.client(), SSL_KEY_UPDATE_NOT_REQUESTED) == 1);  // goes out with the next write
    l.client_write("after");
    l.run();
    CHECK(l.upper.data == "after");
    REQUIRE(l.send(pattern(40000)) == AXLE_OK);  // several records, still under the first key
    l.run();
    CHECK(l.client_received == pattern(40000));
    CHECK(l.upper.eofs == 0);
    check_clean(l);
  }
  {
    // The sealer answers a request with its own KeyUpdate under the old key
    // and seals on under the next one; twice, so the second derives from the
    // first. The client (OpenSSL) opens every record only if both agree.
    Link l(server);
    handshake(l);
    for (int round = 0; round < 2; ++round) {
      REQUIRE(SSL_key_update(l.client(), SSL_KEY_UPDATE_REQUESTED) == 1);
      l.client_write("x");
      l.run();
      REQUIRE(l.send(pattern(40000)) == AXLE_OK);  // our KeyUpdate first, then records under the next key
      l.run();
    }
    CHECK(l.upper.data == "xx");
    CHECK(l.client_received == pattern(40000) + pattern(40000));
    CHECK(l.upper.eofs == 0);
    CHECK_FALSE(l.client_failed);
    check_clean(l);
  }
}

TEST_CASE("seal_records = false: OpenSSL seals, and answers a KeyUpdate request itself") {
  fake::reset();
  axle_config_t cfg = Server::config();
  cfg.bools["seal_records"] = false;
  Server server(std::move(cfg));
  REQUIRE(server.ok());
  CHECK(std::string(server.vt().describe(server.instance())).find("seal_records = false") != std::string::npos);
  Link l(server);
  handshake(l);
  REQUIRE(SSL_key_update(l.client(), SSL_KEY_UPDATE_REQUESTED) == 1);
  l.client_write("x");
  l.run();
  CHECK(l.upper.data == "x");
  REQUIRE(l.send(pattern(40000)) == AXLE_OK);  // OpenSSL's KeyUpdate first, then records under its new key
  l.run();
  CHECK(l.client_received == pattern(40000));
  CHECK(l.upper.eofs == 0);
  check_clean(l);
}

TEST_CASE("create() refuses bad files, each with the file and the config position") {
  fake::reset();
  const certs::Pki &pki = certs::pki();
  struct Case {
    const char *cert, *key, *expect_file, *expect_position, *expect_text;
  } cases[] = {
      {"missing.crt", "default.key", "missing.crt", "test.toml:21: tls.certificate", "cannot read"},
      {"garbage.pem", "default.key", "garbage.pem", "tls.certificate", "not a PEM certificate"},
      {"default.crt", "garbage.pem", "garbage.pem", "test.toml:13: tls.key", "not a PEM private key"},
      {"default.crt", "other.key", "other.key", "tls.key", "does not match"},
      {"expired.crt", "expired.key", "expired.crt", "tls.certificate", "expired"},
      {"future.crt", "future.key", "future.crt", "tls.certificate", "not valid before"},
  };
  for (const Case &c : cases) {
    CAPTURE(c.cert);
    CAPTURE(c.key);
    axle_config_t cfg = Server::config();
    cfg.strings["certificate"] = c.cert;
    cfg.strings["key"] = c.key;
    const std::string error = create_error(cfg);
    CAPTURE(error);
    CHECK(error.find(pki.path(c.expect_file)) != std::string::npos);
    CHECK(error.find(c.expect_position) != std::string::npos);
    CHECK(error.find(c.expect_text) != std::string::npos);
  }
  SUBCASE("an SNI table's bad key names that table") {
    axle_config_t cfg = Server::config();
    axle_config_t a;
    a.strings["certificate"] = "a.crt";
    a.strings["key"] = "b.key";
    a.lists["names"] = {"a.example.test"};
    cfg.sections["sni"]["a"] = a;
    const std::string error = create_error(cfg);
    CHECK(error.find("tls.sni.a.key") != std::string::npos);
    CHECK(error.find("does not match") != std::string::npos);
  }
  SUBCASE("values") {
    axle_config_t cfg = Server::config();
    cfg.lists["protocols"] = {"TLSv1.1"};
    CHECK(create_error(cfg).find("tls.protocols: \"TLSv1.1\"") != std::string::npos);
    cfg = Server::config();
    cfg.strings["ciphersuites"] = "NOPE";
    CHECK(create_error(cfg).find("tls.ciphersuites") != std::string::npos);
    cfg = Server::config();
    cfg.ints["handshake_timeout_ms"] = 0;
    CHECK(create_error(cfg).find("tls.handshake_timeout_ms") != std::string::npos);
    cfg = Server::config();
    axle_config_t bad;
    bad.strings["certificate"] = "a.crt";
    bad.strings["key"] = "a.key";
    bad.lists["names"] = {"bad name"};
    cfg.sections["sni"]["x"] = bad;
    CHECK(create_error(cfg).find("tls.sni.x.names") != std::string::npos);
  }
  for (const std::string &v : fake::violations()) FAIL_CHECK(v);
}
