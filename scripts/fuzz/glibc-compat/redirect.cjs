// Preloaded (NODE_OPTIONS --require) by prepare.mjs's environment: loads the patched copy of @jazzer.js/fuzzer's
// prebuilt addon in place of the original.
const target = process.env.LLAVAGUARD_JAZZER_ADDON;
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
    const redirected =
        target && /[\\/]@jazzer\.js[\\/]fuzzer[\\/]prebuilds[\\/]fuzzer-/.test(filename) ? target : filename;
    return dlopen.call(this, module, redirected, ...rest);
};
