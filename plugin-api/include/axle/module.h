/* axle plugin ABI — common part: version, status codes, the module
 * descriptor, the entry symbol and the host services table.
 *
 * Pure C, C standard headers only. Read plugin-api/ABI.md for the rules
 * (versioning, ownership, threading). Name families:
 *   axle_*_t         types
 *   axle_*_vtable    hooks the MODULE implements, called by the host
 *   axle_host_api    callbacks the HOST implements, called by the module
 */
#ifndef AXLE_MODULE_H
#define AXLE_MODULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A different major is refused; a higher minor only appends fields/slots. */
#define AXLE_ABI_MAJOR 1
#define AXLE_ABI_MINOR 1

/* True when a struct that starts with struct_size (as its writer compiled it)
 * is large enough to hold `field`. Every reader of a struct written by the
 * other side checks a field appended after 1.0 this way before reading it;
 * a struct may be larger than the reader's own sizeof (a newer writer). */
#define AXLE_STRUCT_HAS(ptr, type, field) \
  ((size_t)(ptr)->struct_size >= offsetof(type, field) + sizeof(((const type *)0)->field))

/* The one symbol every module exports. */
#define AXLE_ENTRY_SYMBOL "axle_module_entry"

#if defined(__GNUC__)
#define AXLE_EXPORT __attribute__((visibility("default")))
#else
#define AXLE_EXPORT
#endif

typedef enum axle_status_t {
  AXLE_OK = 0,
  AXLE_ERR_INVALID = 1,     /* bad argument or configuration */
  AXLE_ERR_NOMEM = 2,       /* allocation failed */
  AXLE_ERR_IO = 3,          /* system call failed; see message */
  AXLE_ERR_UNSUPPORTED = 4, /* the platform or module cannot do this */
  AXLE_ERR_NOT_FOUND = 5,   /* requested item does not exist */
  AXLE_ERR_INTERNAL = 6     /* bug; the message says where */
} axle_status_t;

typedef enum axle_module_kind_t {
  AXLE_KIND_IO = 1,
  AXLE_KIND_ALLOC = 2,
  AXLE_KIND_PARSER = 3,
  AXLE_KIND_ROUTER = 4,
  AXLE_KIND_METRICS = 5,
  AXLE_KIND_HANDLER = 6
} axle_module_kind_t;

/* A byte range. Never NUL-terminated unless stated. OWNERSHIP: stated at each use. */
typedef struct axle_str_t {
  const char *ptr;
  size_t len;
} axle_str_t;

typedef enum axle_log_level_t {
  AXLE_LOG_DEBUG = 0,
  AXLE_LOG_INFO = 1,
  AXLE_LOG_WARN = 2,
  AXLE_LOG_ERROR = 3
} axle_log_level_t;

/* ---- configuration keys a module declares (drive validation and --help-module) ---- */

typedef enum axle_config_type_t {
  AXLE_CONFIG_STRING = 1,
  AXLE_CONFIG_INT = 2,
  AXLE_CONFIG_BOOL = 3
} axle_config_type_t;

typedef struct axle_config_key_t {
  const char *name;          /* OWNERSHIP: module, static. e.g. "root" */
  axle_config_type_t type;
  const char *default_value; /* OWNERSHIP: module, static. Text form ("64", "true"); NULL = required */
  const char *doc;           /* OWNERSHIP: module, static. One line of help */
} axle_config_key_t;

/* ---- opaque host handles ---- */

/* A validated key/value view of one config table (module options or one route). */
typedef struct axle_config_t axle_config_t;
/* Where a module reports why a call failed; the host copies the text. */
typedef struct axle_error_t axle_error_t;
/* One worker of the host: passed to thread_init, valid until thread_fini. */
typedef struct axle_worker_t axle_worker_t;
/* A response under construction; valid only during axle_handler_vtable_t.handle. */
typedef struct axle_response_t axle_response_t;

/* Called by the host when bytes it was lent are no longer needed, on the same
 * worker thread that lent them. */
typedef void (*axle_release_fn)(void *release_arg);

/* ---- host services: the only way a module reaches the kernel ----
 * OWNERSHIP: host; valid from create() until destroy() returns.
 * Every function is thread-safe unless it takes a worker or response handle,
 * in which case it must be called on that worker's thread. */
typedef struct axle_host_api_t {
  uint32_t struct_size; /* sizeof as the host compiled it: check before reading a newer field */
  uint16_t abi_major;
  uint16_t abi_minor;

  /* Log a line under the module's name. msg: borrowed for the call. */
  void (*log)(const axle_config_t *module_config, axle_log_level_t level, const char *msg, size_t len);

  /* Record why a call failed. msg: borrowed for the call; the host copies it. */
  void (*error_set)(axle_error_t *err, const char *msg, size_t len);

  /* Config lookups. Keys were declared by the module and validated by the host,
   * so a declared key always resolves (to its value or its default).
   * A string result points into host memory that lives as long as the config. */
  axle_status_t (*config_get_string)(const axle_config_t *cfg, const char *key, axle_str_t *out);
  axle_status_t (*config_get_int)(const axle_config_t *cfg, const char *key, int64_t *out);
  axle_status_t (*config_get_bool)(const axle_config_t *cfg, const char *key, int *out);
  /* Directory of the config file, NUL-terminated: to resolve relative paths. */
  const char *(*config_base_dir)(const axle_config_t *cfg);

  /* Monotonic clock, nanoseconds. */
  uint64_t (*now_ns)(void);
  /* The worker's cached IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", 29 bytes),
   * refreshed once per second. OWNERSHIP: host, changes every second. */
  axle_str_t (*http_date)(const axle_worker_t *worker);
  /* Worker index in [0, worker_count). */
  uint32_t (*worker_index)(const axle_worker_t *worker);

  /* ---- response building (only inside handle(), on that worker's thread) ---- */
  void (*response_set_status)(axle_response_t *resp, uint16_t status);
  /* Adds a header. name/value: borrowed for the call; the host copies them.
   * The host writes Date, Content-Length/Transfer-Encoding and Connection itself. */
  axle_status_t (*response_add_header)(axle_response_t *resp, axle_str_t name, axle_str_t value);
  /* Body copied by the host. */
  axle_status_t (*response_body_copy)(axle_response_t *resp, const void *data, size_t len);
  /* Body lent by the module, sent without copying. The bytes must stay valid and
   * unchanged until release(release_arg) is called (release may be NULL when
   * the bytes outlive the route, e.g. built at route_init). The host calls
   * release exactly once whatever the return value, also on failure. */
  axle_status_t (*response_body_lend)(axle_response_t *resp, const void *data, size_t len,
                                      axle_release_fn release, void *release_arg);
  /* Body from a file, sent with sendfile/splice. The host takes ownership of fd
   * (closes it) whatever the return value. */
  axle_status_t (*response_body_file)(axle_response_t *resp, int fd, uint64_t offset, uint64_t length);
  /* A complete response on the wire (status line, headers, blank line, body),
   * lent like response_body_lend, sent as is. head_len: bytes up to and
   * including the blank line's CRLF; the host may insert a
   * "Connection: close" line just before that CRLF and sends only the head to
   * HEAD requests. The image carries its own Date (the module keeps it
   * current, e.g. once per second per worker) and Content-Length, and no
   * Connection header. status: the status in the image, for logs and metrics.
   * Other response_* calls made in the same handle() are ignored. Like
   * response_body_lend, release runs exactly once whatever the return value. */
  axle_status_t (*response_prebuilt)(axle_response_t *resp, const void *wire, size_t len, size_t head_len,
                                     uint16_t status, axle_release_fn release, void *release_arg);
} axle_host_api_t;

/* ---- the descriptor a module returns from its entry symbol ---- */

enum {
  /* The module keeps state that cannot be unloaded (e.g. a library with
   * thread-local destructors); the host keeps it mapped for the process life. */
  AXLE_MODULE_FLAG_NO_UNLOAD = 1u << 0
};

typedef struct axle_module_descriptor_t {
  uint32_t struct_size; /* sizeof(axle_module_descriptor_t) as the module compiled it */
  uint16_t abi_major;   /* AXLE_ABI_MAJOR the module was built with */
  uint16_t abi_minor;
  axle_module_kind_t kind;
  uint32_t flags;           /* AXLE_MODULE_FLAG_* */
  const char *name;         /* OWNERSHIP: module, static. Config name, e.g. "epoll" */
  const char *version;      /* OWNERSHIP: module, static. Module's own version, e.g. "1.0.0" */
  const char *description;  /* OWNERSHIP: module, static. One line */
  /* Keys of the module's option table ([module.<name>]); for handlers, the keys
   * allowed in a [[route]] that uses it. OWNERSHIP: module, static. */
  const axle_config_key_t *config_keys;
  size_t config_key_count;

  /* Lifecycle, common to every kind. Only create and destroy are required. */

  /* Make an instance. host: see axle_host_api_t. cfg: the module's validated
   * options, valid until destroy. On failure return non-OK and set err. */
  axle_status_t (*create)(const axle_host_api_t *host, const axle_config_t *cfg, void **instance_out,
                          axle_error_t *err);
  /* Free the instance. Called after every thread_fini, on the control thread. */
  void (*destroy)(void *instance);
  /* Per-worker state, called on the worker's thread before it serves. May be NULL. */
  axle_status_t (*thread_init)(void *instance, axle_worker_t *worker, void **thread_ctx_out, axle_error_t *err);
  /* Called on the worker's thread after it stops serving. May be NULL. */
  void (*thread_fini)(void *instance, void *thread_ctx);

  /* Kind-specific hooks: points to the axle_<kind>_vtable_t matching `kind`,
   * whose first field is its struct_size. OWNERSHIP: module, static. */
  const void *vtable;
} axle_module_descriptor_t;

/* The entry symbol: returns a static descriptor; never NULL for a valid module. */
typedef const axle_module_descriptor_t *(*axle_module_entry_fn)(void);

/* Declares the entry point in a module's source file. */
#ifdef __cplusplus
#define AXLE_MODULE_ENTRY extern "C" AXLE_EXPORT const axle_module_descriptor_t *axle_module_entry(void)
#else
#define AXLE_MODULE_ENTRY AXLE_EXPORT const axle_module_descriptor_t *axle_module_entry(void)
#endif

#ifdef __cplusplus
}
#endif

#endif /* AXLE_MODULE_H */
