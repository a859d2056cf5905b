# axle_add_module(<kind> <name> SOURCES <src>... [LIBRARIES <lib>...]
#                 [OUTPUT_DIRECTORY <dir>] [NO_INSTALL])
#
# Builds axle-<kind>-<name>.so, a module exporting nothing but its entry
# symbol, and installs it to ${AXLE_MODULE_INSTALL_DIR} (lib/axle/modules)
# as component module-<kind>-<name>. The single definition: used in-tree and
# installed with the axle-sdk CMake package for out-of-tree modules.
#
#   LIBRARIES         linked privately (e.g. axle::sdk for the C++ SDK)
#   OUTPUT_DIRECTORY  where the .so is built; default ${AXLE_MODULE_OUTPUT_DIR}
#                     if set (in-tree: build/lib/axle/modules), else the
#                     usual library output directory
#   NO_INSTALL        build only (test modules)
include_guard(GLOBAL)

if(NOT DEFINED AXLE_MODULE_INSTALL_DIR)
  # Fixed, not GNUInstallDirs' libdir: the binary looks in <bin>/../lib/axle/modules.
  set(AXLE_MODULE_INSTALL_DIR lib/axle/modules)
endif()

function(axle_add_module kind name)
  cmake_parse_arguments(PARSE_ARGV 2 ARG "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "axle_add_module(${kind} ${name}): unexpected arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT kind MATCHES "^(io|alloc|parser|router|metrics|handler|transport)$")
    message(FATAL_ERROR "axle_add_module: unknown module kind \"${kind}\" "
                        "(io, alloc, parser, router, metrics, handler or transport)")
  endif()
  # The name is the descriptor's name, part of a file name and of a package name.
  if(NOT name MATCHES "^[a-z0-9][a-z0-9_-]*$")
    message(FATAL_ERROR "axle_add_module(${kind} ${name}): a module name is lowercase letters, digits, '_' and '-'")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "axle_add_module(${kind} ${name}): SOURCES is required")
  endif()

  # Next to this file both in the source tree and in the installed package.
  set(exports_map ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/module-exports.map)
  set(target axle-${kind}-${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE axle::plugin-api ${ARG_LIBRARIES})
  # -fno-gnu-unique (GCC): STB_GNU_UNIQUE symbols would pin the library in
  # memory and make dlclose a no-op, which breaks unloading old generations.
  target_compile_options(${target} PRIVATE $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-fno-gnu-unique>)
  # The version script keeps template instances with default visibility
  # (std::to_string tables and the like) from being exported too.
  target_link_options(${target} PRIVATE -Wl,--no-undefined -Wl,-z,defs
                      -Wl,--version-script=${exports_map})
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${exports_map})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(DEFINED AXLE_MODULE_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${AXLE_MODULE_OUTPUT_DIR})
  endif()
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${AXLE_MODULE_INSTALL_DIR} COMPONENT module-${kind}-${name})
    # Packaging makes one package per module from this list.
    set_property(GLOBAL APPEND PROPERTY AXLE_MODULE_COMPONENTS module-${kind}-${name})
  endif()
endfunction()
