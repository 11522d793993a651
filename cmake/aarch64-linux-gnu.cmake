# CMake toolchain file: cross-compiles strands-c for 64-bit ARM Linux on a
# Debian amd64 host with gcc-aarch64-linux-gnu and the :arm64 -dev packages
# installed through multiarch (/usr/lib/aarch64-linux-gnu). Target binaries
# (ctest's unit tests) run under qemu-aarch64 user emulation.
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# scripts/test-arm64.sh installs the packages and drives the whole stage.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_AR aarch64-linux-gnu-ar CACHE FILEPATH "")
set(CMAKE_RANLIB aarch64-linux-gnu-ranlib CACHE FILEPATH "")

# Multiarch keeps the arm64 libraries under /usr/lib/aarch64-linux-gnu (and
# shared headers under /usr/include), so "/" is a find root alongside the
# cross toolchain's own tree; CMAKE_LIBRARY_ARCHITECTURE makes the library
# searches pick the aarch64-linux-gnu directories. Host programs (pkg-config,
# python) are found normally; libraries and headers only in the roots.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config must see only the arm64 .pc files, never the host's.
set(ENV{PKG_CONFIG_LIBDIR}
    "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# ctest (and any other "run a target" step) goes through user emulation.
# -L gives qemu the directory that holds the arm64 dynamic loader
# (/lib/ld-linux-aarch64.so.1): libc6:arm64 puts it in the host root.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /)
