# The Node-API addon: native/*.cpp over llama + mtmd, against node-addon-api's headers.
file(GLOB_RECURSE LLAVAGUARD_ADDON_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/native/*.cpp")
add_library(llavaguard SHARED ${LLAVAGUARD_ADDON_SOURCES} ${CMAKE_JS_SRC})
set_target_properties(llavaguard PROPERTIES PREFIX "" SUFFIX ".node")

execute_process(COMMAND node -p "require('node-addon-api').include"
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} OUTPUT_VARIABLE NODE_ADDON_API_DIR
    OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REPLACE "\"" "" NODE_ADDON_API_DIR "${NODE_ADDON_API_DIR}")

target_include_directories(llavaguard PRIVATE ${CMAKE_JS_INC} "${NODE_ADDON_API_DIR}")
target_compile_definitions(llavaguard PRIVATE NAPI_VERSION=8 NAPI_CPP_EXCEPTIONS NODE_ADDON_API_DISABLE_DEPRECATED
    LLAVAGUARD_GPU_BACKEND="${LLAVAGUARD_GPU}")
target_link_libraries(llavaguard PRIVATE mtmd llama ggml ${CMAKE_JS_LIB})
if (LLAVAGUARD_PREBUILT_RPATH)
    set_target_properties(llavaguard PROPERTIES BUILD_RPATH "${LLAVAGUARD_PREBUILT_RPATH}")
endif()
if (MSVC AND CMAKE_JS_NODELIB_DEF AND CMAKE_JS_NODELIB_TARGET)
    execute_process(COMMAND ${CMAKE_AR} /def:${CMAKE_JS_NODELIB_DEF} /out:${CMAKE_JS_NODELIB_TARGET} ${CMAKE_STATIC_LINKER_FLAGS})
endif()

if (LLAVAGUARD_BUILD_TOOLS)
    add_custom_target(llavaguard-tools ALL DEPENDS llama-mtmd-cli llama-bench)
endif()
