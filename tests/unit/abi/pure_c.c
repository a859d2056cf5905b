/* Every ABI header compiled as C11 with -pedantic -Werror (see CMakeLists):
 * proves the headers are pure C, and pins the C compiler's layout to the
 * same numbers as the C++ test. Each header comes first in the list that
 * needs it, so a header relying on an earlier include would break here. */
#include <axle/transport.h>
#include <axle/handler.h>
#include <axle/io.h>
#include <axle/alloc.h>
#include <axle/metrics.h>
#include <axle/parser.h>
#include <axle/router.h>
#include <axle/module.h>

#include <stdio.h>

#if !defined(__LP64__) || !defined(__linux__)
#error "the ABI pins are written for LP64 Linux"
#endif

#define AXLE_PIN_VALUE(name, value) _Static_assert((name) == (value), #name " changed: see abi_pins.inc");
#define AXLE_PIN_SIZE(type, bytes) _Static_assert(sizeof(type) == (bytes), "sizeof(" #type ") changed: see abi_pins.inc");
#define AXLE_PIN_OFFSET(type, field, bytes) \
  _Static_assert(offsetof(type, field) == (bytes), "offsetof(" #type ", " #field ") changed: see abi_pins.inc");
#include "abi_pins.inc"

/* A module written in plain C compiles against the entry macro. */
static const axle_handler_vtable_t no_vtable_slots = {.struct_size = sizeof(axle_handler_vtable_t)};

AXLE_MODULE_ENTRY {
  static const axle_module_descriptor_t d = {
      .struct_size = sizeof(axle_module_descriptor_t),
      .abi_major = AXLE_ABI_MAJOR,
      .abi_minor = AXLE_ABI_MINOR,
      .kind = AXLE_KIND_HANDLER,
      .name = "c-check",
      .version = "0",
      .vtable = &no_vtable_slots,
  };
  return &d;
}

int main(void) {
  const axle_module_descriptor_t *d = axle_module_entry();
  printf("C11 view of the axle ABI %d.%d matches the pins (descriptor %u bytes)\n", AXLE_ABI_MAJOR, AXLE_ABI_MINOR,
         (unsigned)d->struct_size);
  return d->struct_size == sizeof(axle_module_descriptor_t) ? 0 : 1;
}
