# mtmd (tools/mtmd) is always ours to compile: no prebuilt llama.cpp package carries it.
if (NOT TARGET mtmd)
    set(MTMD_VIDEO OFF CACHE BOOL "" FORCE)
    set(LLAMA_SUBPROCESS OFF)
    add_subdirectory("${LLAVAGUARD_LLAMA_DIR}/tools/mtmd" llama.cpp/tools/mtmd EXCLUDE_FROM_ALL)
endif()
