// Loads module shared objects with Boost.DLL, each from a private sealed copy
// of its file, and checks their descriptor before anything else of theirs runs.
#pragma once

#include <axle/module.h>

#include <memory>
#include <string>
#include <vector>

namespace axle {

// One loaded shared object. The library stays mapped while any
// shared_ptr<ModuleLibrary> lives (generations hold them).
class ModuleLibrary {
 public:
  ~ModuleLibrary();
  const axle_module_descriptor_t &descriptor() const { return *descriptor_; }
  const std::string &path() const { return path_; }
  std::string kind_name() const;  // "io", "alloc", ...
  bool unloadable() const { return !(descriptor_->flags & AXLE_MODULE_FLAG_NO_UNLOAD); }

  // Reads the file once, checks it is a complete ELF shared object for this
  // machine (a truncated file is never mapped), loads that private copy (so
  // the file may be overwritten or truncated afterwards, and a changed file
  // always loads as new code) and validates it; on failure returns nullptr and
  // an error naming the file and the reason (truncated or not ELF, wrong ABI
  // major with both versions, missing entry symbol, NULL descriptor, struct
  // too small, missing create/destroy, wrong kind, NULL/short vtable or
  // missing required vtable slot).
  static std::shared_ptr<ModuleLibrary> load(const std::string &path, std::string &error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  const axle_module_descriptor_t *descriptor_ = nullptr;
  std::string path_;
};

// File name of a module: "axle-<kind>-<name>.so".
std::string module_file_name(const std::string &kind, const std::string &name);

// Built-in search dirs: $AXLE_MODULE_PATH (colon separated), then
// <dir of the axle binary>/../lib/axle/modules.
std::vector<std::string> default_module_dirs();

// Finds and loads kind/name from extra_dirs then the default dirs. The error
// lists the dirs searched when the file is not found.
std::shared_ptr<ModuleLibrary> find_and_load(const std::vector<std::string> &extra_dirs, const std::string &kind,
                                             const std::string &name, std::string &error);

// Every axle-*.so in the dirs (for --list-modules); load failures are reported
// as entries with an error text.
struct ModuleListing {
  std::string path;
  std::shared_ptr<ModuleLibrary> library;  // null if it failed to load
  std::string error;
};
std::vector<ModuleListing> list_modules(const std::vector<std::string> &dirs);

}  // namespace axle
