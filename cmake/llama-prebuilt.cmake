# ggml + llama from prebuilt shared libraries of the same llama.cpp tree (node-llama-cpp's
# @node-llama-cpp/<platform> packages carry libggml-base, libggml, libggml-cpu-*, libllama with RUNPATH $ORIGIN).
# Headers still come from the source tree, which must be the same commit.
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

set(LLAMA_VERSION_BASE 0.4.0)
set(LLAMA_VERSION_MAJOR 0)
set(BUILD_SHARED_LIBS OFF)
add_subdirectory("${LLAVAGUARD_LLAMA_DIR}/vendor" llama.cpp/vendor EXCLUDE_FROM_ALL)
set(LLAVAGUARD_PREBUILT_RPATH "${LLAVAGUARD_LLAMA_PREBUILT_DIR}")
