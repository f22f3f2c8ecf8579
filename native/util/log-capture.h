// llama.cpp and mtmd log through global callbacks. We keep the recent warnings and errors so that a failed call
// can tell JS *why* it failed (llama.cpp mostly reports the reason only in its log), and stay quiet otherwise.
#pragma once
#include <string>

namespace lg {

void InstallLogCapture();
// Marks the start of an operation on this thread; LastLogErrors() returns what was logged since.
void BeginLogScope();
std::string LastLogErrors();
// Appends ": <recent llama.cpp errors>" when there are any.
std::string WithLogDetail(const std::string& message);

}  // namespace lg
