# axle_add_module(<kind> <name> SOURCES ... [LIBRARIES ...])
# Builds modules/<kind>-<name> as axle-<kind>-<name>.so against plugin-api
# only, exporting nothing but the entry symbol.
function(axle_add_module kind name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  set(target axle-${kind}-${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE axle::plugin-api ${ARG_LIBRARIES})
  # -fno-gnu-unique: STB_GNU_UNIQUE symbols would pin the library in memory
  # and make dlclose a no-op, which breaks unloading old generations.
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fno-gnu-unique>)
  target_link_options(${target} PRIVATE -Wl,--no-undefined -Wl,-z,defs)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${AXLE_MODULE_OUTPUT_DIR})
  install(TARGETS ${target} LIBRARY DESTINATION ${AXLE_MODULE_INSTALL_DIR} COMPONENT module-${kind}-${name})
endfunction()
