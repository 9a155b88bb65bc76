# Toolchain: 32-bit ARM hard-float (Debian armhf) with Debian's cross compiler; see aarch64.cmake.
set(GW_CROSS_TRIPLE arm-linux-gnueabihf)
set(GW_CROSS_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
