// The loader against the fixture modules: each broken one is refused with a
// message naming the file and the reason; good ones load, and unloading
// really unmaps them.
#include "host_api.h"
#include "module_config.h"
#include "module_loader.h"

#include <axle/handler.h>
#include <axle/router.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string &kind, const std::string &name) {
  return std::string(AXLE_FIXTURE_DIR) + "/" + axle::module_file_name(kind, name);
}

std::string refusal(const std::string &path) {
  std::string error;
  auto module = axle::ModuleLibrary::load(path, error);
  CHECK(module == nullptr);
  return error;
}

bool mapped(const std::string &path) {
  std::ifstream maps("/proc/self/maps");
  std::stringstream text;
  text << maps.rdbuf();
  return text.str().find(path) != std::string::npos;
}

// A fresh directory, removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    char name[] = "/tmp/axle-loader-test-XXXXXX";
    REQUIRE(mkdtemp(name));
    path = name;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string copy(const std::string &from, const std::string &file_name) const {
    fs::copy_file(from, path / file_name);
    return (path / file_name).string();
  }
};

std::string v(unsigned major, unsigned minor) { return std::to_string(major) + "." + std::to_string(minor); }

}  // namespace

TEST_SUITE("loader") {

TEST_CASE("a valid out-of-tree handler loads") {
  std::string error;
  auto module = axle::ModuleLibrary::load(fixture("handler", "hello"), error);
  INFO(error);
  REQUIRE(module);
  CHECK(module->path() == fixture("handler", "hello"));
  CHECK(module->kind_name() == "handler");
  CHECK(std::string(module->descriptor().name) == "hello");
  CHECK(module->unloadable());
}

TEST_CASE("a transport loads, and one without a stream slot is refused") {
  std::string error;
  auto module = axle::ModuleLibrary::load(fixture("transport", "xor"), error);
  INFO(error);
  REQUIRE(module);
  CHECK(module->kind_name() == "transport");
  CHECK(refusal(fixture("transport", "nostreamsend")) ==
        fixture("transport", "nostreamsend") + ": required transport stream hook 'send' is NULL");
}

TEST_CASE("a module from a later minor, with larger structs, loads") {
  std::string error;
  auto module = axle::ModuleLibrary::load(fixture("handler", "futureminor"), error);
  INFO(error);
  REQUIRE(module);
  CHECK(module->descriptor().abi_minor == AXLE_ABI_MINOR + 1);
  CHECK(module->descriptor().struct_size > sizeof(axle_module_descriptor_t));
}

TEST_CASE("a handler built for 1.2 loads, and its short descriptor has no sections") {
  // tests/fixtures/abi-compat: compat_handler.c against the 1.2 headers.
  std::string error;
  auto module = axle::ModuleLibrary::load(fixture("handler", "lastminor"), error);
  INFO(error);
  REQUIRE(module);
  const axle_module_descriptor_t &d = module->descriptor();
  CHECK(d.abi_minor == 2);
  CHECK(d.struct_size == offsetof(axle_module_descriptor_t, config_sections));
  CHECK(axle::module_schema(d).section_count == 0);
  axle_config_t cfg;
  axle::OptionTable route;
  route.path = "route[0]";
  REQUIRE(axle::build_module_config(d, route, {}, "/b", cfg, error));
  CHECK(std::get<std::string>(cfg.values.at("greeting")) == "lastminor");
}

TEST_CASE("broken modules are refused, naming the file and the reason") {
  const std::string major_error = ": built for axle ABI " + v(AXLE_ABI_MAJOR + 1, 3) + ", this axle speaks " +
                                  v(AXLE_ABI_MAJOR, AXLE_ABI_MINOR) + ": rebuild the module against this SDK";
  std::string path = fixture("parser", "wrongmajor");
  CHECK(refusal(path) == path + major_error);

  path = fixture("handler", "noentry");
  CHECK(refusal(path) == path + ": not an axle module: it does not export the entry symbol \"axle_module_entry\"");
  path = fixture("handler", "nulldescriptor");
  CHECK(refusal(path) == path + ": axle_module_entry() returned NULL");
  path = fixture("handler", "missinghook");
  CHECK(refusal(path) == path + ": required hook 'create' is NULL");
  path = fixture("handler", "badkind");
  CHECK(refusal(path) == path + ": unknown module kind 42");
  path = fixture("handler", "noname");
  CHECK(refusal(path) == path + ": module name is missing");
  path = fixture("handler", "smalldescriptor");
  CHECK(refusal(path) == path + ": module descriptor is " +
                             std::to_string(offsetof(axle_module_descriptor_t, create)) + " bytes, smaller than the " +
                             std::to_string(offsetof(axle_module_descriptor_t, vtable) + sizeof(void *)) + " of ABI " +
                             v(AXLE_ABI_MAJOR, 0));
  path = fixture("handler", "badkey");
  CHECK(refusal(path) == path + ": config key 'count' has default \"lots\", which is not an integer");

  path = fixture("router", "nullvtable");
  CHECK(refusal(path) == path + ": router vtable is NULL");
  path = fixture("router", "shortvtable");
  CHECK(refusal(path) == path + ": router vtable is " + std::to_string(offsetof(axle_router_vtable_t, match)) +
                             " bytes, smaller than the " + std::to_string(sizeof(axle_router_vtable_t)) + " of ABI " +
                             v(AXLE_ABI_MAJOR, 0));
  path = fixture("router", "missingslot");
  CHECK(refusal(path) == path + ": required router hook 'match' is NULL");
}

TEST_CASE("files the dynamic linker rejects carry its message") {
  std::string path = fixture("handler", "undefined");
  std::string error = refusal(path);
  CHECK(error.rfind(path + ": cannot load: ", 0) == 0);
  CHECK(error.find("undefined symbol: axle_fixture_symbol_nobody_defines") != std::string::npos);

  path = fixture("handler", "does-not-exist");
  CHECK(refusal(path) == path + ": cannot load: No such file or directory");
  CHECK(refusal(AXLE_FIXTURE_DIR) == std::string(AXLE_FIXTURE_DIR) + ": cannot load: not a regular file");
}

// Regression: mapping a truncated module file made the first page fault past
// its end a SIGBUS, in the server, --check and --list-modules alike.
TEST_CASE("truncated, empty and garbage files are refused before anything is mapped") {
  TempDir dir;
  const std::string real = fixture("handler", "hello");
  const auto full = fs::file_size(real);
  for (uintmax_t size : {full - 1, full / 2, full / 8, uintmax_t{64}}) {
    CAPTURE(size);
    std::string path = dir.copy(real, "axle-handler-cut" + std::to_string(size) + ".so");
    fs::resize_file(path, size);
    std::string error = refusal(path);
    CHECK(error.rfind(path + ": cannot load: truncated file: ", 0) == 0);
    CHECK(error.find("the file has " + std::to_string(size)) != std::string::npos);
    CHECK_FALSE(mapped(path));
  }
  std::string path = dir.copy(real, "axle-handler-cut10.so");
  fs::resize_file(path, 10);
  CHECK(refusal(path) == path + ": cannot load: not an ELF file");

  path = (dir.path / "axle-handler-empty.so").string();
  std::ofstream(path).close();
  CHECK(refusal(path) == path + ": cannot load: empty file, not a shared object");

  path = fixture("handler", "garbage");
  CHECK(refusal(path) == path + ": cannot load: not an ELF file");

  // A list of such files reports each one instead of dying.
  auto listing = axle::list_modules({dir.path.string()});
  CHECK(listing.size() == 6);
  for (const auto &entry : listing) {
    CHECK_FALSE(entry.library);
    CHECK(entry.error.find(": cannot load: ") != std::string::npos);
  }
}

// Regression: `cp new.so loaded.so` rewrote pages the server had mapped
// (SIGBUS), and a reload of a rebuilt file got the old object back from dlopen.
TEST_CASE("a loaded module is a private copy: the file may change, and a changed file loads anew") {
  TempDir dir;
  std::string path = dir.copy(fixture("handler", "hello"), "axle-handler-swap.so");
  std::string error;
  auto old_module = axle::ModuleLibrary::load(path, error);
  INFO(error);
  REQUIRE(old_module);
  CHECK(old_module->descriptor().abi_minor == AXLE_ABI_MINOR);

  fs::resize_file(path, 100);  // truncate in place under the loaded module
  fs::copy_file(fixture("handler", "futureminor"), path, fs::copy_options::overwrite_existing);  // what cp does
  auto new_module = axle::ModuleLibrary::load(path, error);
  REQUIRE(new_module);
  CHECK(new_module->descriptor().abi_minor == AXLE_ABI_MINOR + 1);
  CHECK(std::string(new_module->descriptor().name) == "futureminor");

  // The old code still runs from its own copy, next to the new one.
  CHECK(old_module->descriptor().abi_minor == AXLE_ABI_MINOR);
  CHECK(std::string(old_module->descriptor().name) == "hello");
  axle_error_t err;
  void *instance = nullptr;
  REQUIRE(old_module->descriptor().create(axle::host_api(), nullptr, &instance, &err) == AXLE_OK);
  old_module->descriptor().destroy(instance);

  // Loading the same unchanged file twice gives two independent objects.
  auto again = axle::ModuleLibrary::load(path, error);
  REQUIRE(again);
  CHECK(&again->descriptor() != &new_module->descriptor());
}

TEST_CASE("a module whose create fails reports its own message") {
  std::string error;
  auto module = axle::ModuleLibrary::load(fixture("handler", "failinginit"), error);
  INFO(error);
  REQUIRE(module);
  axle_error_t err;
  void *instance = reinterpret_cast<void *>(1);
  CHECK(module->descriptor().create(axle::host_api(), nullptr, &instance, &err) == AXLE_ERR_INVALID);
  CHECK(err.message == "fixture: init refused");
}

TEST_CASE("a loaded handler reads its validated config through the host") {
  std::string error;
  auto module = axle::ModuleLibrary::load(fixture("handler", "hello"), error);
  REQUIRE(module);
  const auto &d = module->descriptor();
  axle::OptionTable options;
  options.values["greeting"] = std::string("hi there");
  axle_config_t route_cfg;
  REQUIRE(axle::build_module_config(d, options, {}, "/base", route_cfg, error));

  axle_error_t err;
  void *instance = nullptr;
  REQUIRE(d.create(axle::host_api(), nullptr, &instance, &err) == AXLE_OK);
  const auto *vtable = static_cast<const axle_handler_vtable_t *>(d.vtable);
  void *route = nullptr;
  CHECK(vtable->route_init(instance, &route_cfg, axle_str_t{"/", 1}, &route, &err) == AXLE_OK);
  CHECK(route != nullptr);
  vtable->route_fini(instance, route);
  d.destroy(instance);
}

TEST_CASE("the library is unmapped when its last reference dies") {
  TempDir dir;
  std::string path = dir.copy(fixture("handler", "hello"), "axle-handler-unmapme.so");
  CHECK_FALSE(mapped(path));
  std::string error;
  auto first = axle::ModuleLibrary::load(path, error);
  REQUIRE(first);
  auto second = first;
  CHECK(mapped(path));
  first.reset();
  CHECK(mapped(path));
  second.reset();
  CHECK_FALSE(mapped(path));
}

TEST_CASE("a NO_UNLOAD module stays mapped") {
  TempDir dir;
  std::string path = dir.copy(fixture("handler", "pinned"), "axle-handler-pinned.so");
  std::string error;
  auto module = axle::ModuleLibrary::load(path, error);
  REQUIRE(module);
  CHECK_FALSE(module->unloadable());
  module.reset();
  CHECK(mapped(path));
}

TEST_CASE("module file names and default dirs") {
  CHECK(axle::module_file_name("parser", "simd") == "axle-parser-simd.so");

  const char *saved = std::getenv("AXLE_MODULE_PATH");
  std::string saved_value = saved ? saved : "";
  setenv("AXLE_MODULE_PATH", "/a::/b:", 1);
  auto dirs = axle::default_module_dirs();
  REQUIRE(dirs.size() == 3);
  CHECK(dirs[0] == "/a");
  CHECK(dirs[1] == "/b");
  fs::path exe_dir = fs::read_symlink("/proc/self/exe").parent_path();
  CHECK(dirs[2] == (exe_dir.parent_path() / "lib" / "axle" / "modules").string());
  unsetenv("AXLE_MODULE_PATH");
  CHECK(axle::default_module_dirs().size() == 1);
  if (saved) setenv("AXLE_MODULE_PATH", saved_value.c_str(), 1);
}

TEST_CASE("find_and_load searches the extra dirs first") {
  std::string error;
  auto hello = axle::find_and_load({AXLE_FIXTURE_DIR}, "handler", "hello", error);
  INFO(error);
  REQUIRE(hello);
  CHECK(hello->path() == fixture("handler", "hello"));

  // A config selecting parser = "wrongmajor" gets the ABI refusal.
  CHECK_FALSE(axle::find_and_load({AXLE_FIXTURE_DIR}, "parser", "wrongmajor", error));
  CHECK(error.find(fixture("parser", "wrongmajor") + ": built for axle ABI") == 0);

  CHECK_FALSE(axle::find_and_load({"/nonexistent-a", AXLE_FIXTURE_DIR}, "handler", "nosuch", error));
  CHECK(error.rfind("no handler module 'nosuch' (axle-handler-nosuch.so) in /nonexistent-a, " AXLE_FIXTURE_DIR ", ",
                    0) == 0);

  CHECK_FALSE(axle::find_and_load({AXLE_FIXTURE_DIR}, "handler", "../fixtures/axle-handler-hello", error));
  CHECK(error == "invalid handler module name '../fixtures/axle-handler-hello'");
  CHECK_FALSE(axle::find_and_load({AXLE_FIXTURE_DIR}, "gadget", "hello", error));
  CHECK(error == "unknown module kind 'gadget'");

  // The file name and the descriptor must agree on kind and name.
  TempDir dir;
  std::string path = dir.copy(fixture("handler", "hello"), "axle-router-hello.so");
  CHECK_FALSE(axle::find_and_load({dir.path.string()}, "router", "hello", error));
  CHECK(error == path + ": declares itself as handler module 'hello', expected router module 'hello'");
}

TEST_CASE("list_modules: sorted, deduplicated by file name, earlier dirs win") {
  TempDir first;
  first.copy(fixture("handler", "hello"), "axle-handler-hello.so");
  first.copy(fixture("handler", "nulldescriptor"), "axle-handler-aaa.so");
  first.copy(fixture("handler", "hello"), "libnot-a-module.so");
  first.copy(fixture("handler", "hello"), "axle-handler-hello.so.bak");

  auto listing = axle::list_modules({first.path.string(), "/nonexistent", AXLE_FIXTURE_DIR});
  std::vector<std::string> names;
  for (const auto &entry : listing) names.push_back(fs::path(entry.path).filename().string());
  CHECK(std::is_sorted(names.begin(), names.end()));
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
  CHECK(std::find(names.begin(), names.end(), "libnot-a-module.so") == names.end());
  CHECK(std::find(names.begin(), names.end(), "axle-handler-hello.so.bak") == names.end());

  for (const auto &entry : listing) {
    std::string name = fs::path(entry.path).filename().string();
    if (name == "axle-handler-hello.so") {
      CHECK(entry.path == (first.path / name).string());
      CHECK(entry.library);
    }
    if (name == "axle-handler-aaa.so") {
      CHECK_FALSE(entry.library);
      CHECK(entry.error == entry.path + ": axle_module_entry() returned NULL");
    }
    if (name == "axle-parser-wrongmajor.so") CHECK(entry.error.find("built for axle ABI") != std::string::npos);
  }
  CHECK(names.front() == "axle-handler-aaa.so");
}

}  // TEST_SUITE
