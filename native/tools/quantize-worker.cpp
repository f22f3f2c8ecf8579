#include "quantize-worker.h"

#include <cstdio>

#include "../util/js-args.h"
#include "../util/log-capture.h"

namespace lg {
namespace {

llama_ftype ParseFtype(Napi::Env env, const std::string& t) {
    if (t == "q4_k_m") return LLAMA_FTYPE_MOSTLY_Q4_K_M;
    if (t == "q5_k_m") return LLAMA_FTYPE_MOSTLY_Q5_K_M;
    if (t == "q8_0") return LLAMA_FTYPE_MOSTLY_Q8_0;
    if (t == "q4_0") return LLAMA_FTYPE_MOSTLY_Q4_0;
    if (t == "f16") return LLAMA_FTYPE_MOSTLY_F16;
    ThrowType(env, "option 'type' must be q4_k_m, q5_k_m, q8_0, q4_0 or f16 (got '" + t + "')");
}

}  // namespace

Napi::Value QuantizeWorker::Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = RequireObject(info, 0, "quantize options");
    const std::string input = RequireString(o, "input");
    const std::string output = RequireString(o, "output");
    if (input.empty() || output.empty()) ThrowType(env, "quantize needs non-empty 'input' and 'output' paths");
    if (input == output) ThrowType(env, "quantize: 'output' must differ from 'input'");
    const llama_ftype ftype = ParseFtype(env, RequireString(o, "type"));
    const int32_t threads = static_cast<int32_t>(OptionalInt(o, "threads", 0, 0, 1024));
    return (new QuantizeWorker(env, input, output, ftype, threads))->QueueWithPromise();
}

QuantizeWorker::QuantizeWorker(Napi::Env env, std::string input, std::string output, llama_ftype ftype, int32_t threads)
    : PromiseWorker(env, "llavaguard.quantize", WorkerThread::kPool),
      input_(std::move(input)),
      output_(std::move(output)),
      ftype_(ftype),
      threads_(threads) {}

void QuantizeWorker::Compute() {
    BeginLogScope();
    if (FILE* f = std::fopen(input_.c_str(), "rb")) {
        std::fclose(f);
    } else {
        SetError("cannot open '" + input_ + "'");
        return;
    }
    llama_model_quantize_params p = llama_model_quantize_default_params();
    p.ftype = ftype_;
    p.nthread = threads_;
    if (llama_model_quantize(input_.c_str(), output_.c_str(), &p) != 0) {
        SetError(WithLogDetail("quantizing '" + input_ + "' failed"));
    }
}

}  // namespace lg
