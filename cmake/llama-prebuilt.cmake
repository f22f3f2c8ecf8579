# ggml + llama from the prebuilt shared libraries that node-llama-cpp's @node-llama-cpp/<platform> package carries
# (the same llama.cpp tree as the bundle; libggml-base, libggml, libllama and the CPU variants libggml-cpu-*, which
# lib/bindings picks from at run time). Headers still come from the source tree, which must be the same commit.
find_library(LLAVAGUARD_LIB_LLAMA NAMES llama llama.v0.4.0 PATHS "${LLAVAGUARD_LLAMA_PREBUILT_DIR}" NO_DEFAULT_PATH REQUIRED)
find_library(LLAVAGUARD_LIB_GGML NAMES ggml ggml.v0.4.0 PATHS "${LLAVAGUARD_LLAMA_PREBUILT_DIR}" NO_DEFAULT_PATH REQUIRED)
find_library(LLAVAGUARD_LIB_GGML_BASE NAMES ggml-base PATHS "${LLAVAGUARD_LLAMA_PREBUILT_DIR}" NO_DEFAULT_PATH REQUIRED)

add_library(ggml-base SHARED IMPORTED GLOBAL)
set_target_properties(ggml-base PROPERTIES IMPORTED_LOCATION "${LLAVAGUARD_LIB_GGML_BASE}"
    INTERFACE_INCLUDE_DIRECTORIES "${LLAVAGUARD_LLAMA_DIR}/ggml/include")
add_library(ggml SHARED IMPORTED GLOBAL)
set_target_properties(ggml PROPERTIES IMPORTED_LOCATION "${LLAVAGUARD_LIB_GGML}"
    INTERFACE_LINK_LIBRARIES ggml-base INTERFACE_INCLUDE_DIRECTORIES "${LLAVAGUARD_LLAMA_DIR}/ggml/include")
add_library(llama SHARED IMPORTED GLOBAL)
set_target_properties(llama PROPERTIES IMPORTED_LOCATION "${LLAVAGUARD_LIB_LLAMA}"
    INTERFACE_LINK_LIBRARIES ggml INTERFACE_INCLUDE_DIRECTORIES "${LLAVAGUARD_LLAMA_DIR}/include")

# vendor/ and mtmd call llama_add_compile_flags() from llama.cpp's cmake/common.cmake, which cannot be included
# from outside its tree (it includes a path relative to that tree's root); the function only adds warning flags.
function(llama_add_compile_flags)
endfunction()
set(LLAMA_VERSION_BASE 0.4.0)
set(LLAMA_VERSION_MAJOR 0)
set(BUILD_SHARED_LIBS OFF)
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bin")
add_subdirectory("${LLAVAGUARD_LLAMA_DIR}/vendor" llama.cpp/vendor EXCLUDE_FROM_ALL)

# Where the addon finds those libraries at run time, relative to itself (nothing absolute is baked in):
# a platform package beside @node-llama-cpp/<pkg> (npm's hoisted layout, pnpm's store), one with it nested, and
# build/Release/ of a checkout.
set(LLAVAGUARD_PREBUILT_PACKAGE "" CACHE STRING "the @node-llama-cpp/<package> the libraries come from, e.g. linux-x64")
if (NOT LLAVAGUARD_PREBUILT_PACKAGE)
    message(FATAL_ERROR "LLAVAGUARD_PREBUILT_PACKAGE must name the @node-llama-cpp package (e.g. linux-x64)")
endif()
if (APPLE)
    set(_origin "@loader_path")
else()
    set(_origin "$ORIGIN")
endif()
set(_libs "@node-llama-cpp/${LLAVAGUARD_PREBUILT_PACKAGE}/bins/${LLAVAGUARD_PREBUILT_PACKAGE}")
set(LLAVAGUARD_PREBUILT_RPATH "${_origin}/../../${_libs};${_origin}/node_modules/${_libs};${_origin}/../../node_modules/${_libs}")

if (LLAVAGUARD_BUILD_TOOLS)
    # llama.cpp's own tools for the benchmarks and reference checks, on the same prebuilt libraries.
    find_library(LLAVAGUARD_LIB_LLAMA_COMMON NAMES llama-common PATHS "${LLAVAGUARD_LLAMA_PREBUILT_DIR}" NO_DEFAULT_PATH REQUIRED)
    add_library(llama-common SHARED IMPORTED GLOBAL)
    set_target_properties(llama-common PROPERTIES IMPORTED_LOCATION "${LLAVAGUARD_LIB_LLAMA_COMMON}"
        INTERFACE_LINK_LIBRARIES "llama;vendor::nlohmann;vendor::sheredom"
        INTERFACE_INCLUDE_DIRECTORIES "${LLAVAGUARD_LLAMA_DIR}/common")
    set(LLAMA_BUILD_TOOLS ON)
    find_package(Threads REQUIRED)
    add_subdirectory("${LLAVAGUARD_LLAMA_DIR}/tools/llama-bench" llama.cpp/tools/llama-bench EXCLUDE_FROM_ALL)

    # llama-server, for `npm run bench:serve` (ours against llama.cpp's own server on the same libraries). Its
    # web UI is left out: the table of embedded assets is generated empty (no npm build, no download).
    function(license_add_file)
    endfunction()
    add_subdirectory("${LLAVAGUARD_LLAMA_DIR}/vendor/cpp-httplib" llama.cpp/vendor/cpp-httplib EXCLUDE_FROM_ALL)
    add_executable(llama-ui-embed "${LLAVAGUARD_LLAMA_DIR}/tools/ui/embed.cpp")
    target_compile_features(llama-ui-embed PRIVATE cxx_std_17)
    set(_ui "${CMAKE_BINARY_DIR}/llama.cpp/tools/ui")
    add_custom_command(OUTPUT "${_ui}/ui.cpp" "${_ui}/ui.h"
        COMMAND ${CMAKE_COMMAND} -E make_directory "${_ui}"
        COMMAND llama-ui-embed "${_ui}/ui.cpp" "${_ui}/ui.h"
        DEPENDS llama-ui-embed VERBATIM)
    add_library(llama-ui STATIC "${_ui}/ui.cpp" "${_ui}/ui.h")
    target_include_directories(llama-ui PUBLIC "${_ui}")
    add_subdirectory("${LLAVAGUARD_LLAMA_DIR}/tools/server" llama.cpp/tools/server EXCLUDE_FROM_ALL)
endif()
