# ggml + llama (and, for benchmarks, llama.cpp's own tools) built statically into the addon.
set(BUILD_SHARED_LIBS OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_TESTS OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_EXAMPLES OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_SERVER ${LLAVAGUARD_BUILD_TOOLS} CACHE BOOL "" FORCE)  # llama-server for bench:serve
set(LLAMA_USE_PREBUILT_UI OFF CACHE BOOL "" FORCE)  # no download at build time
set(LLAMA_BUILD_APP OFF CACHE BOOL "" FORCE)
set(LLAMA_OPENSSL OFF CACHE BOOL "" FORCE)
set(LLAMA_SUBPROCESS OFF CACHE BOOL "" FORCE)
set(MTMD_VIDEO OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_COMMON ${LLAVAGUARD_BUILD_TOOLS} CACHE BOOL "" FORCE)
set(LLAMA_BUILD_TOOLS ${LLAVAGUARD_BUILD_TOOLS} CACHE BOOL "" FORCE)
set(LLAMA_BUILD_MTMD ON CACHE BOOL "" FORCE)
set(GGML_BUILD_TESTS OFF CACHE BOOL "" FORCE)
set(GGML_BUILD_EXAMPLES OFF CACHE BOOL "" FORCE)

add_subdirectory("${LLAVAGUARD_LLAMA_DIR}" llama.cpp EXCLUDE_FROM_ALL)

# Hosts exist (these build machines among them) whose CPUs advertise AMX and whose kernel grants it, yet
# AMX instructions trap: -march=native would then kill the process with SIGILL on the first quantized matmul.
# target_compile_options appends, so these flags come after ggml's -march=native and win.
if (NOT LLAVAGUARD_CPU_AMX AND TARGET ggml-cpu AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64"
    AND NOT MSVC)
    target_compile_options(ggml-cpu PRIVATE -mno-amx-tile -mno-amx-int8 -mno-amx-bf16)
    message(STATUS "llavaguard: ggml-cpu compiled without AMX (set LLAVAGUARD_CPU_AMX=ON to keep it)")
endif()
