// What a context owns, shared by the JS object and the worker running on it (see ModelResources).
#pragma once
#include <atomic>
#include <memory>

#include "../model/model-resources.h"
#include "../sampling/draft-budget.h"
#include "../util/handles.h"

namespace lg {

struct AdmissionQueue;  // generate-worker.h

struct ContextResources {
    std::shared_ptr<ModelResources> model;  // declared first: outlives ctx
    ContextPtr ctx;
    uint32_t n_seq = 1;
    std::atomic<bool> busy{false};
    std::atomic<bool> closing{false};
    // Raised flag of the operation now running, read by llama_decode's abort callback (CPU backends).
    std::atomic<std::atomic<bool>*> current_abort{nullptr};
    // Only touched by the operation holding the context (BusyLease).
    DraftRecord drafts;
    // The running continuous generation's queue (context.admit), null when none runs. Only touched on the JS thread.
    std::shared_ptr<AdmissionQueue> admission;

    static bool AbortCallback(void* data) {
        auto* self = static_cast<ContextResources*>(data);
        if (self->closing.load()) return true;
        std::atomic<bool>* flag = self->current_abort.load();
        return flag != nullptr && flag->load();
    }
};

// Marks the context busy for the lifetime of one operation; a second concurrent operation is a JS error,
// never two threads inside one llama_context.
class BusyGuard {
 public:
    static bool TryAcquire(ContextResources& res) { return !res.busy.exchange(true); }
    static void Release(ContextResources& res) { res.busy.store(false); }
};

}  // namespace lg
