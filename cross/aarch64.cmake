# Toolchain: 64-bit ARM (Debian arm64) with Debian's cross compiler. Target libraries come from a
# sysroot of Debian arm64 packages that cross/build unpacks (GW_CROSS_SYSROOT), so the host's own
# packages are never touched; tests run under qemu user emulation.
set(GW_CROSS_TRIPLE aarch64-linux-gnu)
set(GW_CROSS_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
