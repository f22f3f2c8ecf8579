# mtmd (tools/mtmd) is always ours to compile: no prebuilt llama.cpp package carries it.
if (NOT TARGET mtmd)
    set(MTMD_VIDEO OFF CACHE BOOL "" FORCE)
    set(LLAMA_SUBPROCESS OFF)
    add_subdirectory("${LLAVAGUARD_LLAMA_DIR}/tools/mtmd" llama.cpp/tools/mtmd EXCLUDE_FROM_ALL)
    if (NOT MSVC)
        # __FILE__ in mtmd's asserts would otherwise carry the build machine's folders into the shipped binary.
        target_compile_options(mtmd PRIVATE "-ffile-prefix-map=${LLAVAGUARD_LLAMA_DIR}=llama.cpp")
    endif()
endif()
