// Loads module shared objects and checks everything the kernel will later
// rely on (version, sizes, required hooks) before any module code but the
// entry function runs, so a bad module is refused with a message instead of
// crashing a worker later.

#include "module_loader.h"

#include "module_config.h"

#include <axle/alloc.h>
#include <axle/handler.h>
#include <axle/io.h>
#include <axle/metrics.h>
#include <axle/parser.h>
#include <axle/router.h>
#include <axle/transport.h>

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <boost/dll/shared_library.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sys/stat.h>

namespace axle {

namespace {

namespace fs = std::filesystem;

// Sizes of the v1.0 layouts: the end of the last v1.0 field. Written this way
// so they stay right when later minors append fields.
#define AXLE_END_OF(type, field) (offsetof(type, field) + sizeof(static_cast<type *>(nullptr)->field))
constexpr size_t kDescriptorV1Size = AXLE_END_OF(axle_module_descriptor_t, vtable);
// The prefix every major shares: enough to read the version.
constexpr size_t kVersionPrefixSize = AXLE_END_OF(axle_module_descriptor_t, abi_minor);

struct Slot {
  const char *name;
  size_t offset;
};
#define AXLE_SLOT(type, field) Slot{#field, offsetof(type, field)}

// Per kind: the v1.0 vtable size and the slots the kernel calls without a
// NULL check. Optional slots (alloc.stats) are left out.
struct KindInfo {
  axle_module_kind_t kind;
  const char *name;
  size_t vtable_v1_size;  // of the first minor that has the kind
  std::vector<Slot> required;
  unsigned since_minor = 0;
};

const std::vector<KindInfo> &kinds() {
  static const std::vector<KindInfo> table = {
      {AXLE_KIND_IO,
       "io",
       AXLE_END_OF(axle_io_vtable_t, close),
       {AXLE_SLOT(axle_io_vtable_t, loop_create), AXLE_SLOT(axle_io_vtable_t, loop_destroy),
        AXLE_SLOT(axle_io_vtable_t, listen_add), AXLE_SLOT(axle_io_vtable_t, listen_remove),
        AXLE_SLOT(axle_io_vtable_t, run), AXLE_SLOT(axle_io_vtable_t, stop), AXLE_SLOT(axle_io_vtable_t, wake),
        AXLE_SLOT(axle_io_vtable_t, send), AXLE_SLOT(axle_io_vtable_t, sendfile),
        AXLE_SLOT(axle_io_vtable_t, recv_pause), AXLE_SLOT(axle_io_vtable_t, recv_resume),
        AXLE_SLOT(axle_io_vtable_t, close)}},
      {AXLE_KIND_ALLOC,
       "alloc",
       AXLE_END_OF(axle_alloc_vtable_t, stats),
       {AXLE_SLOT(axle_alloc_vtable_t, alloc), AXLE_SLOT(axle_alloc_vtable_t, free)}},
      {AXLE_KIND_PARSER,
       "parser",
       AXLE_END_OF(axle_parser_vtable_t, parse_trailers),
       {AXLE_SLOT(axle_parser_vtable_t, parse_request), AXLE_SLOT(axle_parser_vtable_t, parse_chunk_size),
        AXLE_SLOT(axle_parser_vtable_t, parse_trailers)}},
      {AXLE_KIND_ROUTER,
       "router",
       AXLE_END_OF(axle_router_vtable_t, match),
       {AXLE_SLOT(axle_router_vtable_t, build), AXLE_SLOT(axle_router_vtable_t, table_destroy),
        AXLE_SLOT(axle_router_vtable_t, match)}},
      {AXLE_KIND_METRICS,
       "metrics",
       AXLE_END_OF(axle_metrics_vtable_t, render),
       {AXLE_SLOT(axle_metrics_vtable_t, describe), AXLE_SLOT(axle_metrics_vtable_t, request_done),
        AXLE_SLOT(axle_metrics_vtable_t, connection_opened), AXLE_SLOT(axle_metrics_vtable_t, connection_closed),
        AXLE_SLOT(axle_metrics_vtable_t, parse_error), AXLE_SLOT(axle_metrics_vtable_t, timeout),
        AXLE_SLOT(axle_metrics_vtable_t, render)}},
      {AXLE_KIND_HANDLER,
       "handler",
       AXLE_END_OF(axle_handler_vtable_t, handle),
       {AXLE_SLOT(axle_handler_vtable_t, route_init), AXLE_SLOT(axle_handler_vtable_t, route_fini),
        AXLE_SLOT(axle_handler_vtable_t, handle)}},
      {AXLE_KIND_TRANSPORT,
       "transport",
       AXLE_END_OF(axle_transport_vtable_t, describe),
       {AXLE_SLOT(axle_transport_vtable_t, stream), AXLE_SLOT(axle_transport_vtable_t, conn_open),
        AXLE_SLOT(axle_transport_vtable_t, lower_data), AXLE_SLOT(axle_transport_vtable_t, lower_eof),
        AXLE_SLOT(axle_transport_vtable_t, lower_sent), AXLE_SLOT(axle_transport_vtable_t, lower_closed)},
       3},
  };
  return table;
}

const KindInfo *find_kind(int32_t kind) {
  for (const auto &info : kinds()) {
    if (info.kind == kind) return &info;
  }
  return nullptr;
}

const KindInfo *find_kind(const std::string &name) {
  for (const auto &info : kinds()) {
    if (name == info.name) return &info;
  }
  return nullptr;
}

// Route tables carry these keys themselves; a handler may not declare them.
constexpr const char *kRouteOwnKeys[] = {"path", "handler", "methods", "stream_body", "host", "answers"};

std::string version_text(unsigned major, unsigned minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// A transport's plaintext side: the per-connection slots of an io vtable the
// host drives a wrapped connection with (the 1.1 ones are checked at each use).
std::string check_stream_vtable(const axle_io_vtable_t &stream) {
  if (stream.struct_size < AXLE_END_OF(axle_io_vtable_t, close))
    return "transport stream vtable is " + std::to_string(stream.struct_size) + " bytes, smaller than the " +
           std::to_string(AXLE_END_OF(axle_io_vtable_t, close)) + " of an io vtable";
  const Slot slots[] = {AXLE_SLOT(axle_io_vtable_t, send), AXLE_SLOT(axle_io_vtable_t, sendfile),
                        AXLE_SLOT(axle_io_vtable_t, recv_pause), AXLE_SLOT(axle_io_vtable_t, recv_resume),
                        AXLE_SLOT(axle_io_vtable_t, close)};
  for (const Slot &slot : slots) {
    void (*fn)() = nullptr;
    std::memcpy(&fn, reinterpret_cast<const char *>(&stream) + slot.offset, sizeof fn);
    if (!fn) return std::string("required transport stream hook '") + slot.name + "' is NULL";
  }
  return {};
}

// Empty when the descriptor is usable; otherwise why not (without the file name).
std::string check_descriptor(const axle_module_descriptor_t &d) {
  if (d.struct_size < kVersionPrefixSize) {
    return "module descriptor is " + std::to_string(d.struct_size) + " bytes, too small to hold a version";
  }
  if (d.abi_major != AXLE_ABI_MAJOR) {
    return "built for axle ABI " + version_text(d.abi_major, d.abi_minor) + ", this axle speaks " +
           version_text(AXLE_ABI_MAJOR, AXLE_ABI_MINOR) + ": rebuild the module against this SDK";
  }
  if (d.struct_size < kDescriptorV1Size) {
    return "module descriptor is " + std::to_string(d.struct_size) + " bytes, smaller than the " +
           std::to_string(kDescriptorV1Size) + " of ABI " + version_text(AXLE_ABI_MAJOR, 0);
  }
  // Read as an integer: a module can store any bit pattern in the enum.
  int32_t raw_kind = 0;
  static_assert(sizeof raw_kind == sizeof d.kind);
  std::memcpy(&raw_kind, &d.kind, sizeof raw_kind);
  const KindInfo *kind = find_kind(raw_kind);
  if (!kind) return "unknown module kind " + std::to_string(raw_kind);
  if (!d.name || !*d.name) return "module name is missing";
  if (!d.version || !*d.version) return "module version is missing";
  if (!d.create) return "required hook 'create' is NULL";
  if (!d.destroy) return "required hook 'destroy' is NULL";
  if (!d.vtable) return std::string(kind->name) + " vtable is NULL";

  uint32_t vtable_size = 0;
  std::memcpy(&vtable_size, d.vtable, sizeof vtable_size);  // every vtable starts with its struct_size
  if (vtable_size < kind->vtable_v1_size) {
    return std::string(kind->name) + " vtable is " + std::to_string(vtable_size) + " bytes, smaller than the " +
           std::to_string(kind->vtable_v1_size) + " of ABI " + version_text(AXLE_ABI_MAJOR, kind->since_minor);
  }
  for (const Slot &slot : kind->required) {
    void (*fn)() = nullptr;
    std::memcpy(&fn, static_cast<const char *>(d.vtable) + slot.offset, sizeof fn);
    if (!fn) return std::string("required ") + kind->name + " hook '" + slot.name + "' is NULL";
  }

  std::string keys = validate_declared_keys(d);
  if (!keys.empty()) return keys;
  if (d.kind == AXLE_KIND_TRANSPORT) {
    std::string stream = check_stream_vtable(*static_cast<const axle_transport_vtable_t *>(d.vtable)->stream);
    if (!stream.empty()) return stream;
    for (size_t i = 0; i < d.config_key_count; ++i) {
      if (std::strcmp(d.config_keys[i].name, "listen") == 0)
        return "config key 'listen' is reserved for the kernel's [tls] listen";
    }
  }
  if (d.kind == AXLE_KIND_HANDLER) {
    for (size_t i = 0; i < d.config_key_count; ++i) {
      for (const char *own : kRouteOwnKeys) {
        if (std::strcmp(d.config_keys[i].name, own) == 0) {
          return std::string("config key '") + own + "' is reserved for the route itself";
        }
      }
    }
  }
  return {};
}

// dlerror() usually starts with the path again; the caller already names it.
std::string strip_path_prefix(std::string text, const std::string &path) {
  std::string prefix = path + ": ";
  if (text.compare(0, prefix.size(), prefix) == 0) text.erase(0, prefix.size());
  return text;
}

bool is_regular_file(const std::string &path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}


// A module file is read once into memory; the checks and the mapping use
// that copy only, so a file replaced or truncated meanwhile cannot skew them.
constexpr off_t kMaxModuleBytes = off_t{256} << 20;

bool same_version(const struct stat &a, const struct stat &b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// Empty on success; else why the file cannot be read (without the path).
std::string read_module_file(const std::string &path, std::string &bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  struct stat before {}, after {};
  std::string why;
  if (::fstat(fd, &before) != 0) {
    why = std::strerror(errno);
  } else if (!S_ISREG(before.st_mode)) {
    why = "not a regular file";
  } else if (before.st_size > kMaxModuleBytes) {
    why = "file is " + std::to_string(before.st_size) + " bytes, more than the " +
          std::to_string(kMaxModuleBytes >> 20) + " MiB a module may have";
  } else {
    bytes.resize(static_cast<size_t>(before.st_size));
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    bytes.resize(done);
    // A copy racing a writer (cp over the file) is refused, not half-used.
    if (::fstat(fd, &after) != 0 || !same_version(before, after) || done != static_cast<size_t>(before.st_size))
      why = "the file changed while it was read; try again once it is written";
  }
  ::close(fd);
  return why;
}

bool in_file(uint64_t offset, uint64_t length, size_t size) { return offset <= size && length <= size - offset; }

// Empty when the bytes are a complete shared object for this machine: every
// byte the program headers, the section header table and the sections name
// lies inside the file. Mapping a truncated file is what turned into SIGBUS.
std::string check_elf(const std::string &bytes) {
  const size_t size = bytes.size();
  if (size == 0) return "empty file, not a shared object";
  if (size < EI_NIDENT || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0) return "not an ELF file";
  if (static_cast<unsigned char>(bytes[EI_CLASS]) != ELFCLASS64) return "not a 64-bit ELF file";
  constexpr unsigned char kOwnData = std::endian::native == std::endian::little ? ELFDATA2LSB : ELFDATA2MSB;
  if (static_cast<unsigned char>(bytes[EI_DATA]) != kOwnData) return "ELF file of the other byte order";
  auto truncated = [&](const std::string &what, uint64_t end) {
    return "truncated file: " + what + " ends at byte " + std::to_string(end) + ", the file has " +
           std::to_string(size);
  };
  Elf64_Ehdr eh;
  if (size < sizeof eh) return truncated("the ELF header", sizeof eh);
  std::memcpy(&eh, bytes.data(), sizeof eh);
  if (eh.e_type != ET_DYN) return "not a shared object (ELF type " + std::to_string(eh.e_type) + ")";
#if defined(__x86_64__)
  constexpr uint16_t kOwnMachine = EM_X86_64;
#elif defined(__aarch64__)
  constexpr uint16_t kOwnMachine = EM_AARCH64;
#else
  const uint16_t kOwnMachine = eh.e_machine;  // unknown build host: not checked
#endif
  if (eh.e_machine != kOwnMachine) return "built for another machine (ELF machine " + std::to_string(eh.e_machine) + ")";

  if (eh.e_phnum == 0 || eh.e_phentsize != sizeof(Elf64_Phdr)) return "malformed ELF program header table";
  uint64_t ph_bytes = uint64_t{eh.e_phnum} * eh.e_phentsize;
  if (!in_file(eh.e_phoff, ph_bytes, size)) return truncated("the program header table", eh.e_phoff + ph_bytes);
  for (uint16_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, bytes.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
    if (!in_file(ph.p_offset, ph.p_filesz, size))
      return truncated("segment " + std::to_string(i), ph.p_offset + ph.p_filesz);
  }
  if (eh.e_shnum != 0) {
    if (eh.e_shentsize != sizeof(Elf64_Shdr)) return "malformed ELF section header table";
    uint64_t sh_bytes = uint64_t{eh.e_shnum} * eh.e_shentsize;
    if (!in_file(eh.e_shoff, sh_bytes, size)) return truncated("the section header table", eh.e_shoff + sh_bytes);
    for (uint16_t i = 0; i < eh.e_shnum; ++i) {
      Elf64_Shdr sh;
      std::memcpy(&sh, bytes.data() + eh.e_shoff + i * sizeof sh, sizeof sh);
      if (sh.sh_type != SHT_NOBITS && !in_file(sh.sh_offset, sh.sh_size, size))
        return truncated("section " + std::to_string(i), sh.sh_offset + sh.sh_size);
    }
  }
  return {};
}

// Copies the module into an anonymous memory file sealed against any change:
// the mapping can never see a later write or truncation of the original, and
// each load is a new inode and a new name to the dynamic linker, so a rebuilt
// file really loads its new code. Returns the fd, or -1 with why.
int sealed_snapshot(const std::string &path, const std::string &bytes, std::string &why) {
  // The name only shows in /proc/<pid>/maps: keep the end of the path.
  std::string name = "axle:" + (path.size() > 200 ? path.substr(path.size() - 200) : path);
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
  // MFD_EXEC says so explicitly on kernels with vm.memfd_noexec; older ones refuse the flag.
  int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    why = std::string("memfd_create: ") + std::strerror(errno);
    return -1;
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      why = std::string("copying into memory: ") + (n < 0 ? std::strerror(errno) : "short write");
      ::close(fd);
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    why = std::string("sealing the copy: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

// The names of the axle-<kind>-*.so files in dirs, sorted, for a "not found"
// message; by file name only (nothing is loaded), at most kMax of them.
std::string available_modules(const std::vector<std::string> &dirs, const std::string &kind) {
  constexpr size_t kMax = 64;
  const std::string prefix = "axle-" + kind + "-";
  std::set<std::string> names;
  for (const auto &dir : dirs) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end && names.size() < kMax; it.increment(ec)) {
      std::string file = it->path().filename().string();
      if (file.size() > prefix.size() + 3 && file.starts_with(prefix) && file.ends_with(".so"))
        names.insert(file.substr(prefix.size(), file.size() - prefix.size() - 3));
    }
  }
  if (names.empty()) return "none";
  std::string out;
  for (const auto &n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

// Boost.DLL maps the snapshot through its /proc/self/fd path. The memory file
// stays open while the library is loaded: the dynamic linker knows the object
// by that path, so the number must not be reused for another module meanwhile.
// A NO_UNLOAD module is never unmapped, so its fd is kept for the process life.
struct ModuleLibrary::Impl {
  boost::dll::shared_library library;
  int snapshot_fd = -1;
  bool pinned = false;
  ~Impl() {
    library.unload();
    if (snapshot_fd >= 0 && !pinned) ::close(snapshot_fd);
  }
};

ModuleLibrary::~ModuleLibrary() = default;

std::string ModuleLibrary::kind_name() const {
  const KindInfo *kind = find_kind(descriptor_->kind);
  return kind ? kind->name : "unknown";
}

std::shared_ptr<ModuleLibrary> ModuleLibrary::load(const std::string &path, std::string &error) {
  auto fail = [&](const std::string &why) -> std::shared_ptr<ModuleLibrary> {
    error = path + ": " + why;
    return nullptr;
  };
  try {
    std::string bytes;
    std::string why = read_module_file(path, bytes);
    if (why.empty()) why = check_elf(bytes);
    if (!why.empty()) return fail("cannot load: " + why);

    auto module = std::make_shared<ModuleLibrary>();
    module->impl_ = std::make_unique<Impl>();
    module->path_ = path;
    module->impl_->snapshot_fd = sealed_snapshot(path, bytes, why);
    if (module->impl_->snapshot_fd < 0) return fail("cannot load: " + why);
    bytes = std::string();  // the sealed copy is all that is needed now
    const std::string snapshot = "/proc/self/fd/" + std::to_string(module->impl_->snapshot_fd);

    // rtld_local: modules must not satisfy each other's symbols; rtld_now:
    // an unresolved symbol is a load error now, not a crash mid-request.
    boost::dll::fs::error_code ec;
    dlerror();  // clear a stale message so the one below is ours
    module->impl_->library.load(boost::dll::fs::path(snapshot),
                                boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now, ec);
    if (ec) {
      const char *dl_why = dlerror();
      return fail("cannot load: " + (dl_why ? strip_path_prefix(dl_why, snapshot) : ec.message()));
    }
    boost::dll::shared_library &library = module->impl_->library;
    if (!library.has(AXLE_ENTRY_SYMBOL)) {
      return fail("not an axle module: it does not export the entry symbol \"" AXLE_ENTRY_SYMBOL "\"");
    }
    auto entry = library.get<const axle_module_descriptor_t *()>(AXLE_ENTRY_SYMBOL);
    const axle_module_descriptor_t *descriptor = entry();
    if (!descriptor) return fail(AXLE_ENTRY_SYMBOL "() returned NULL");
    why = check_descriptor(*descriptor);
    if (!why.empty()) return fail(why);
    module->descriptor_ = descriptor;

    if (!module->unloadable()) {
      // Mark the mapping RTLD_NODELETE so dlclose never unmaps it, as the
      // module asked; the handle itself still balances its reference count.
      void *pin = dlopen(snapshot.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD | RTLD_NODELETE);
      if (pin) dlclose(pin);
      module->impl_->pinned = true;
    }
    return module;
  } catch (const std::exception &e) {
    return fail(std::string("cannot load: ") + e.what());
  }
}

std::string module_file_name(const std::string &kind, const std::string &name) {
  return "axle-" + kind + "-" + name + ".so";
}

std::vector<std::string> default_module_dirs() {
  std::vector<std::string> dirs;
  if (const char *env = std::getenv("AXLE_MODULE_PATH")) {
    std::string_view rest(env);
    while (!rest.empty()) {
      size_t colon = rest.find(':');
      std::string_view dir = rest.substr(0, colon);
      if (!dir.empty()) dirs.emplace_back(dir);
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back((exe.parent_path() / ".." / "lib" / "axle" / "modules").lexically_normal().string());
  return dirs;
}

std::shared_ptr<ModuleLibrary> find_and_load(const std::vector<std::string> &extra_dirs, const std::string &kind,
                                             const std::string &name, std::string &error) {
  if (!find_kind(kind)) {
    error = "unknown module kind '" + kind + "'";
    return nullptr;
  }
  // The name becomes part of a path: refuse anything that could leave the dir.
  if (name.empty() || name.find('/') != std::string::npos || name.find('\0') != std::string::npos ||
      name.front() == '.') {
    error = "invalid " + kind + " module name '" + name + "'";
    return nullptr;
  }
  std::vector<std::string> dirs = extra_dirs;
  for (auto &dir : default_module_dirs()) dirs.push_back(std::move(dir));

  const std::string file = module_file_name(kind, name);
  for (const auto &dir : dirs) {
    std::string path = (fs::path(dir) / file).string();
    if (!is_regular_file(path)) continue;
    auto module = ModuleLibrary::load(path, error);
    if (!module) return nullptr;
    const axle_module_descriptor_t &d = module->descriptor();
    if (module->kind_name() != kind || name != d.name) {
      error = path + ": declares itself as " + module->kind_name() + " module '" + d.name + "', expected " + kind +
              " module '" + name + "'";
      return nullptr;
    }
    return module;
  }
  std::string searched;
  for (const auto &dir : dirs) searched += (searched.empty() ? "" : ", ") + dir;
  error = "no " + kind + " module '" + name + "' (" + file + ") in " + (searched.empty() ? "no directories" : searched) +
          "; available " + kind + " modules: " + available_modules(dirs, kind);
  return nullptr;
}

std::vector<ModuleListing> list_modules(const std::vector<std::string> &dirs) {
  std::map<std::string, std::string> by_file;  // file name -> path; sorted by name
  for (const auto &dir : dirs) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string file = it->path().filename().string();
      bool module_like = file.size() > 8 && file.compare(0, 5, "axle-") == 0 &&
                         file.compare(file.size() - 3, 3, ".so") == 0;
      if (module_like && is_regular_file(it->path().string())) by_file.emplace(file, it->path().string());
    }
  }
  std::vector<ModuleListing> listing;
  for (const auto &[file, path] : by_file) {
    ModuleListing entry;
    entry.path = path;
    entry.library = ModuleLibrary::load(path, entry.error);
    listing.push_back(std::move(entry));
  }
  return listing;
}

}  // namespace axle
