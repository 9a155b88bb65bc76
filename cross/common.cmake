# Shared part of the toolchain files. Needs GW_CROSS_TRIPLE, GW_CROSS_QEMU and GW_CROSS_SYSROOT
# (the unpacked target packages; cross/build sets it).
set(CMAKE_SYSTEM_NAME Linux)
string(REGEX MATCH "^[a-z0-9_]+" CMAKE_SYSTEM_PROCESSOR ${GW_CROSS_TRIPLE})
set(CMAKE_C_COMPILER ${GW_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${GW_CROSS_TRIPLE}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${GW_CROSS_TRIPLE})
if(NOT GW_CROSS_SYSROOT)
  set(GW_CROSS_SYSROOT $ENV{GW_CROSS_SYSROOT})
endif()
if(NOT GW_CROSS_SYSROOT)
  message(FATAL_ERROR "GW_CROSS_SYSROOT is not set: run cross/build, which prepares it")
endif()
set(CMAKE_TRY_COMPILE_PLATFORM_VARIABLES GW_CROSS_SYSROOT)

# Libraries and headers only from the target root (the toolchain's libc, and the unpacked
# packages); programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${GW_CROSS_TRIPLE} ${GW_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(_gw_libdirs "${GW_CROSS_SYSROOT}/usr/lib/${GW_CROSS_TRIPLE}:${GW_CROSS_SYSROOT}/lib/${GW_CROSS_TRIPLE}")
# Multiarch headers (openssl/configuration.h and the like) live under include/<triple>.
set(CMAKE_CXX_FLAGS_INIT "-isystem ${GW_CROSS_SYSROOT}/usr/include/${GW_CROSS_TRIPLE} -isystem ${GW_CROSS_SYSROOT}/usr/include")
# Shared libraries of the sysroot need each other at link time.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_gw_libdirs}")

set(ENV{PKG_CONFIG_SYSROOT_DIR} ${GW_CROSS_SYSROOT})
set(ENV{PKG_CONFIG_LIBDIR} "${GW_CROSS_SYSROOT}/usr/lib/${GW_CROSS_TRIPLE}/pkgconfig:${GW_CROSS_SYSROOT}/usr/share/pkgconfig")
# doctest is header-only and architecture-independent: the host's copy.
set(doctest_DIR /usr/lib/cmake/doctest CACHE PATH "")

# Tests run under qemu with the toolchain's libc and the sysroot's libraries.
set(CMAKE_CROSSCOMPILING_EMULATOR ${GW_CROSS_QEMU} -L /usr/${GW_CROSS_TRIPLE} -E LD_LIBRARY_PATH=${_gw_libdirs})
