#include "admin.h"

#include "http/http_status.h"

#include <cctype>

namespace axle {
namespace {

// A reload must not be a CORS "simple request": a page may send those
// without asking first. So a body needs application/json, and no body may
// carry a Content-Type at all other than that.
bool reload_media_type_ok(const AdminRequest &request) {
  const std::string *type = request.field("content-type");
  if (!type) return request.body.empty();
  std::string media = type->substr(0, type->find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.pop_back();
  for (char &c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return media == "application/json";
}

AdminResponse method_not_allowed(const char *allow) {
  AdminResponse r = admin_error(405, std::string("use ") + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

}  // namespace

AdminResponse admin_error(int status, const std::string &message) {
  return AdminResponse{status, nlohmann::json{{"error", message}}, {}};
}

AdminResponse admin_answer(const AdminRequest &request, const AdminHandlers &handlers) {
  if (auto refusal = check_caller(request, handlers.policy())) {
    AdminResponse r = admin_error(refusal->status, refusal->message);
    if (refusal->status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"axle-admin\"");
    return r;
  }
  if (request.target == "/generations") {
    if (request.method != "GET") return method_not_allowed("GET");
    return AdminResponse{200, handlers.generations(), {}};
  }
  if (request.target == "/reload") {
    if (request.method != "POST") return method_not_allowed("POST");
    if (!reload_media_type_ok(request)) {
      return admin_error(415, "POST /reload takes no body, or an application/json one");
    }
    std::string failure = handlers.reload();
    if (failure.empty()) return AdminResponse{200, nlohmann::json{{"reloaded", true}}, {}};
    return AdminResponse{409, nlohmann::json{{"reloaded", false}, {"error", failure}}, {}};
  }
  return admin_error(404, "try GET /generations or POST /reload");
}

std::string admin_serialize(const AdminResponse &response) {
  // replace: a byte that is not UTF-8 (a Latin-1 file name) becomes U+FFFD
  // instead of an exception or invalid JSON.
  std::string body = response.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + std::string(http::reason_phrase(static_cast<uint16_t>(response.status))) + "\r\n";
  for (const auto &[name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n" + body;
  return out;
}

}  // namespace axle
