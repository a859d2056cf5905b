# axle_add_module(<kind> <name> SOURCES ... [LIBRARIES ...])
# Builds modules/<kind>-<name> as axle-<kind>-<name>.so against plugin-api
# only, exporting nothing but the entry symbol.
set(AXLE_MODULE_EXPORTS_MAP ${CMAKE_CURRENT_LIST_DIR}/module-exports.map)

function(axle_add_module kind name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  set(target axle-${kind}-${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE axle::plugin-api ${ARG_LIBRARIES})
  # -fno-gnu-unique (GCC): STB_GNU_UNIQUE symbols would pin the library in
  # memory and make dlclose a no-op, which breaks unloading old generations.
  target_compile_options(${target} PRIVATE $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-fno-gnu-unique>)
  # The version script keeps template instances with default visibility
  # (std::to_string tables and the like) from being exported too.
  target_link_options(${target} PRIVATE -Wl,--no-undefined -Wl,-z,defs
                      -Wl,--version-script=${AXLE_MODULE_EXPORTS_MAP})
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${AXLE_MODULE_EXPORTS_MAP})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${AXLE_MODULE_OUTPUT_DIR})
  install(TARGETS ${target} LIBRARY DESTINATION ${AXLE_MODULE_INSTALL_DIR} COMPONENT module-${kind}-${name})
endfunction()
