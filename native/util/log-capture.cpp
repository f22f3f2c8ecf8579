#include "log-capture.h"

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>

#include "ggml.h"
#include "llama.h"
#include "mtmd-helper.h"
#include "mtmd.h"

namespace lg {
namespace {

std::mutex g_mutex;
std::deque<std::string> g_lines;
thread_local size_t t_scope_start = 0;
size_t g_total = 0;  // lines ever captured, so scopes can find "since"
int g_print_level = -1;

thread_local ScopedLogCollector* t_collector = nullptr;

void OnLog(ggml_log_level level, const char* text, void*) {
    if (g_print_level >= 0 && static_cast<int>(level) >= g_print_level) {
        std::fputs(text, stderr);
    }
    if (t_collector) CollectLogLine(text);
    if (level != GGML_LOG_LEVEL_ERROR && level != GGML_LOG_LEVEL_WARN) {
        return;
    }
    std::lock_guard<std::mutex> lock(g_mutex);
    std::string line(text);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.empty()) return;
    g_lines.push_back(line);
    g_total++;
    if (g_lines.size() > 64) g_lines.pop_front();
}

}  // namespace

void CollectLogLine(const std::string& text) {
    std::string line(text);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    for (const auto& needle : t_collector->needles_) {
        if (line.find(needle) != std::string::npos) {
            t_collector->lines_.push_back(line);
            return;
        }
    }
}

ScopedLogCollector::ScopedLogCollector(std::vector<std::string> needles)
    : needles_(std::move(needles)), previous_(t_collector) {
    t_collector = this;
}

ScopedLogCollector::~ScopedLogCollector() {
    t_collector = previous_;
}

void InstallLogCapture() {
    // LLAVAGUARD_LOG=debug|info|warn|error prints llama.cpp's own log from that level up.
    if (const char* env = std::getenv("LLAVAGUARD_LOG")) {
        std::string v(env);
        g_print_level = v == "debug"   ? GGML_LOG_LEVEL_DEBUG
                        : v == "info"  ? GGML_LOG_LEVEL_INFO
                        : v == "warn"  ? GGML_LOG_LEVEL_WARN
                        : v == "error" ? GGML_LOG_LEVEL_ERROR
                                       : -1;
    }
    llama_log_set(OnLog, nullptr);
    mtmd_log_set(OnLog, nullptr);
    mtmd_helper_log_set(OnLog, nullptr);
}

void BeginLogScope() {
    std::lock_guard<std::mutex> lock(g_mutex);
    t_scope_start = g_total;
}

std::string LastLogErrors() {
    std::lock_guard<std::mutex> lock(g_mutex);
    const size_t available = g_lines.size();
    const size_t since = g_total - t_scope_start;
    const size_t n = since < available ? since : available;
    std::string out;
    for (size_t i = available - n; i < available; i++) {
        if (!out.empty()) out += "; ";
        out += g_lines[i];
    }
    return out;
}

std::string WithLogDetail(const std::string& message) {
    const std::string detail = LastLogErrors();
    return detail.empty() ? message : message + " (llama.cpp: " + detail + ")";
}

}  // namespace lg
