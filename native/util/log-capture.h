// llama.cpp and mtmd log through global callbacks. We keep the recent warnings and errors so that a failed call
// can tell JS *why* it failed (llama.cpp mostly reports the reason only in its log), and stay quiet otherwise.
#pragma once
#include <string>
#include <vector>

namespace lg {

void InstallLogCapture();
// Marks the start of an operation on this thread; LastLogErrors() returns what was logged since.
void BeginLogScope();
std::string LastLogErrors();
// Appends ": <recent llama.cpp errors>" when there are any.
std::string WithLogDetail(const std::string& message);

void CollectLogLine(const std::string& line);

// While alive, keeps this thread's log lines (any level) that contain one of `needles`: llama.cpp says only in
// its log where it put a model's layers ("offloaded 25/25 layers to GPU", "CLIP using Vulkan backend").
class ScopedLogCollector {
 public:
    explicit ScopedLogCollector(std::vector<std::string> needles);
    ~ScopedLogCollector();
    ScopedLogCollector(const ScopedLogCollector&) = delete;
    ScopedLogCollector& operator=(const ScopedLogCollector&) = delete;
    std::vector<std::string> Take() { return std::move(lines_); }

 private:
    friend void CollectLogLine(const std::string& line);
    std::vector<std::string> needles_;
    std::vector<std::string> lines_;
    ScopedLogCollector* previous_;
};

}  // namespace lg
