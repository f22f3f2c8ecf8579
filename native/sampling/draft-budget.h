// How long a draft may be. A rejected draft token costs about a prompt token's compute (~20 ms for the 0.5B
// model on 2 cores, more than half a decode step), so drafting has to earn its place: what the context's
// model confirmed in earlier generations decides how a sequence starts (full-length drafts, none, or short
// ones while unknown); within a sequence the limit grows each time a draft is confirmed whole, and drafting
// stops after two drafts in a row that were not.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace lg {

// Draft tokens proposed and confirmed on one context so far.
struct DraftRecord {
    int64_t proposed = 0;
    int64_t confirmed = 0;
};

class DraftBudget {
 public:
    static constexpr size_t kFirst = 2;
    static constexpr size_t kMax = 32;
    static constexpr int32_t kMissesAllowed = 2;
    static constexpr int64_t kEnoughEvidence = 32;  // proposed tokens before a context's record decides

    explicit DraftBudget(const DraftRecord& record) {
        if (record.proposed < kEnoughEvidence) return;
        if (record.confirmed * 4 < record.proposed)
            limit_ = 0;
        else if (record.confirmed * 2 >= record.proposed)
            limit_ = kMax;
    }

    size_t Limit() const { return limit_; }

    void Record(size_t proposed, size_t confirmed) {
        if (proposed == 0) return;
        // Drafts end where the verdict's choices begin: a model writing the canonical tokens confirms them whole.
        if (confirmed < proposed) {
            if (++misses_ >= kMissesAllowed) limit_ = 0;
            return;
        }
        misses_ = 0;
        limit_ = std::min(kMax, limit_ * 2);
    }

 private:
    size_t limit_ = kFirst;
    int32_t misses_ = 0;
};

}  // namespace lg
