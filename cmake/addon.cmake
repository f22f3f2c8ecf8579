# The Node-API addon: native/*.cpp over llama + mtmd, against node-addon-api's headers.
file(GLOB_RECURSE LLAVAGUARD_ADDON_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/native/*.cpp")
add_library(llavaguard SHARED ${LLAVAGUARD_ADDON_SOURCES} ${CMAKE_JS_SRC})
set_target_properties(llavaguard PROPERTIES PREFIX "" SUFFIX ".node")

execute_process(COMMAND node -p "require('node-addon-api').include"
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} OUTPUT_VARIABLE NODE_ADDON_API_DIR
    OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REPLACE "\"" "" NODE_ADDON_API_DIR "${NODE_ADDON_API_DIR}")

target_include_directories(llavaguard PRIVATE ${CMAKE_JS_INC} "${NODE_ADDON_API_DIR}")
# NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: in a worker_thread terminated mid-operation, callbacks and completions
# run while its environment is torn down, when no JS can run; node-addon-api would otherwise turn the failed call
# into a C++ exception (or a fatal error) that ends the whole process.
target_compile_definitions(llavaguard PRIVATE NAPI_VERSION=8 NAPI_CPP_EXCEPTIONS NODE_ADDON_API_DISABLE_DEPRECATED
    NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS
    LLAVAGUARD_GPU_BACKEND="${LLAVAGUARD_GPU}")
target_link_libraries(llavaguard PRIVATE mtmd llama ggml ${CMAKE_JS_LIB})
if (NOT MSVC)
    target_compile_options(llavaguard PRIVATE "-ffile-prefix-map=${CMAKE_CURRENT_SOURCE_DIR}=llavaguard")
    if (NOT APPLE AND CMAKE_BUILD_TYPE STREQUAL "Release")
        target_link_options(llavaguard PRIVATE -s)  # symbols for debugging are not shipped
    endif()
endif()
if (LLAVAGUARD_PREBUILT_RPATH)
    # Only the relative paths: CMake would otherwise add the absolute folder the libraries were linked from.
    set_target_properties(llavaguard PROPERTIES BUILD_WITH_INSTALL_RPATH ON INSTALL_RPATH "${LLAVAGUARD_PREBUILT_RPATH}")
endif()
if (MSVC AND CMAKE_JS_NODELIB_DEF AND CMAKE_JS_NODELIB_TARGET)
    execute_process(COMMAND ${CMAKE_AR} /def:${CMAKE_JS_NODELIB_DEF} /out:${CMAKE_JS_NODELIB_TARGET} ${CMAKE_STATIC_LINKER_FLAGS})
endif()

if (LLAVAGUARD_BUILD_TOOLS)
    add_custom_target(llavaguard-tools ALL DEPENDS llama-mtmd-cli llama-bench llama-server)
    if (LLAVAGUARD_LLAMA_PREBUILT_DIR)
        # The tools call ggml_backend_load_all(), which looks beside the executable: link the CPU variants there,
        # without the AMX one unless asked (it traps on some hosts that advertise AMX).
        file(GLOB _variants "${LLAVAGUARD_LLAMA_PREBUILT_DIR}/libggml-cpu-*${CMAKE_SHARED_LIBRARY_SUFFIX}")
        if (NOT LLAVAGUARD_CPU_AMX)
            list(FILTER _variants EXCLUDE REGEX "sapphirerapids")
        endif()
        foreach(_v ${_variants})
            get_filename_component(_name "${_v}" NAME)
            add_custom_command(TARGET llavaguard-tools POST_BUILD
                COMMAND ${CMAKE_COMMAND} -E create_symlink "${_v}" "${CMAKE_BINARY_DIR}/bin/${_name}")
        endforeach()
    endif()
endif()
