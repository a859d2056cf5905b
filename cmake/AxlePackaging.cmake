# Debian packages, one per install component (cpack -G DEB in the build dir):
#   axle                      kernel binary + share/axle/default.toml, /etc/axle/axle.toml
#                             (conffile), systemd units; provides axle-abi-<major>   (component kernel)
#   axle-module-<kind>-<name> one module each, depends on axle-abi-<major>  (component module-<kind>-<name>)
#   axle-sdk                  C ABI + C++ SDK headers, CMake package  (component sdk)
#   <package>-dbgsym          detached debug symbols of each package with ELF files (.ddeb)
# Every package carries /usr/share/doc/<package>/copyright and changelog.Debian.gz.
# Include after every module has been added: the module list is complete
# only then, and include(CPack) writes its config immediately.
include_guard(GLOBAL)

set(CPACK_PACKAGE_NAME axle)
set(CPACK_PACKAGE_VENDOR "axle")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "axle maintainers <maintainers@axle-server.org>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)

# Each component's description below: first line is the package summary.
# (No CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPackDeb would put it first in all.)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING IGNORE)  # one package per component
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <name>_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION httpd)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${CPACK_PACKAGE_CONTACT})
# Stripped binaries, their debug info in <package>-dbgsym (by build id).
# CPackDeb strips them itself while splitting: CPACK_STRIP_FILES would strip
# them first and leave nothing to split.
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
# Library dependencies (libstdc++, boost, spdlog, liburing...) from the ELF files.
find_program(AXLE_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(AXLE_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()

# The ABI major the kernel loads: a module package depends on the virtual
# axle-abi-<major>, so one built for another major cannot be installed beside it.
file(STRINGS ${PROJECT_SOURCE_DIR}/plugin-api/include/axle/module.h axle_abi_line
     REGEX "^#define AXLE_ABI_MAJOR [0-9]+$")
string(REGEX REPLACE ".* " "" axle_abi_major "${axle_abi_line}")
set(axle_abi_package axle-abi-${axle_abi_major})

set(CPACK_DEBIAN_KERNEL_PACKAGE_NAME axle)
set(CPACK_DEBIAN_KERNEL_PACKAGE_PROVIDES ${axle_abi_package})
# The operator's config and the systemd units (deploy/README.md). A file
# under /etc is listed in conffiles, so dpkg keeps local edits on upgrade.
install(FILES ${PROJECT_SOURCE_DIR}/deploy/axle.toml DESTINATION /etc/axle COMPONENT kernel)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/axle.service ${PROJECT_SOURCE_DIR}/deploy/axle.socket
        DESTINATION /lib/systemd/system COMPONENT kernel)
file(WRITE ${PROJECT_BINARY_DIR}/packaging/conffiles "/etc/axle/axle.toml\n")
set(CPACK_DEBIAN_KERNEL_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/packaging/conffiles)
set(CPACK_COMPONENT_KERNEL_DESCRIPTION
    "axle modular HTTP/1.1 server (kernel)\nLoads io, allocator, parser, router, metrics and handler modules from\n/usr/lib/axle/modules; install the axle-module-* packages it needs.")

set(CPACK_DEBIAN_SDK_PACKAGE_NAME axle-sdk)
set(CPACK_DEBIAN_SDK_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_SDK_PACKAGE_SHLIBDEPS OFF)
set(CPACK_COMPONENT_SDK_DESCRIPTION
    "axle module SDK\nC ABI headers, the C++20 handler SDK and the axle-sdk CMake package\n(find_package(axle-sdk), axle_add_module) to build modules out of tree.")

# Modules a newer kernel of the same ABI major still loads, hence >= not =.
set(axle_kernel_dependency "axle (>= ${PROJECT_VERSION}), ${axle_abi_package}")
get_property(axle_module_components GLOBAL PROPERTY AXLE_MODULE_COMPONENTS)
set(axle_module_packages)
foreach(component IN LISTS axle_module_components)
  string(TOUPPER ${component} upper)
  string(REGEX REPLACE "^module-" "" kind_name ${component})
  # Debian package names have no '_'.
  string(REPLACE "_" "-" package axle-${component})
  list(APPEND axle_module_packages ${package})
  set(CPACK_DEBIAN_${upper}_PACKAGE_NAME ${package})
  set(CPACK_DEBIAN_${upper}_PACKAGE_DEPENDS ${axle_kernel_dependency})
  set(CPACK_COMPONENT_${upper}_DESCRIPTION "axle module ${kind_name}\nThe axle-${kind_name}.so module of the axle HTTP/1.1 server, selected in its\nconfig; see axle --help-module.")
endforeach()
# static reads /etc/mime.types when present (built-in table otherwise).
set(CPACK_DEBIAN_MODULE-HANDLER-STATIC_PACKAGE_RECOMMENDS media-types)

# What the embedded default config (configs/default.toml) selects, so a
# plain `apt install axle` gets a server that runs with no flags.
set(axle_default_modules io-epoll alloc-malloc parser-scalar router-linear handler-ping handler-echo handler-static)
set(axle_recommends)
foreach(module IN LISTS axle_default_modules)
  if(axle-module-${module} IN_LIST axle_module_packages)
    list(APPEND axle_recommends axle-module-${module})
  endif()
endforeach()
list(JOIN axle_recommends ", " CPACK_DEBIAN_KERNEL_PACKAGE_RECOMMENDS)

# Debian's per-package documentation: the copyright file and the changelog.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/deploy/debian/changelog)
file(ARCHIVE_CREATE OUTPUT ${PROJECT_BINARY_DIR}/packaging/changelog.Debian.gz
     PATHS ${PROJECT_SOURCE_DIR}/deploy/debian/changelog FORMAT raw COMPRESSION GZip)
foreach(component IN ITEMS kernel sdk ${axle_module_components})
  string(TOUPPER ${component} upper)
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/debian/copyright ${PROJECT_BINARY_DIR}/packaging/changelog.Debian.gz
          DESTINATION share/doc/${CPACK_DEBIAN_${upper}_PACKAGE_NAME} COMPONENT ${component})
endforeach()

set(CPACK_COMPONENTS_ALL kernel sdk ${axle_module_components})
# package_source: the tree without VCS data or build dirs (build, build-*).
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/[.]git/" "/build[^/]*/")
include(CPack)
