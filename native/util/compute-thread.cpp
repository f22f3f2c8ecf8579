#include "compute-thread.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace lg {
namespace {

thread_local bool t_on_compute_thread = false;

struct Job {
    const std::function<void()>* run;
    bool between_steps;
    std::exception_ptr error;
    bool done = false;
};

class ComputeThread {
 public:
    static ComputeThread& Get() {
        // Never destroyed: the thread may still wait for work while the process exits.
        static ComputeThread* instance = new ComputeThread();
        return *instance;
    }

    void Run(const std::function<void()>& job, ComputeJob kind) {
        // Nested use (a job that runs another) would wait for itself.
        if (t_on_compute_thread) {
            job();
            return;
        }
        Job j{&job, kind == ComputeJob::kBetweenSteps, nullptr, false};
        {
            std::lock_guard<std::mutex> lock(mutex_);
            queue_.push_back(&j);
        }
        wake_.notify_one();
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [&j] { return j.done; });
        if (j.error) std::rethrow_exception(j.error);
    }

    void RunBetweenSteps() {
        if (!t_on_compute_thread) return;
        for (;;) {
            Job* j = nullptr;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                for (auto it = queue_.begin(); it != queue_.end(); ++it) {
                    if ((*it)->between_steps) {
                        j = *it;
                        queue_.erase(it);
                        break;
                    }
                }
            }
            if (j == nullptr) return;
            Execute(j);
        }
    }

 private:
    ComputeThread() : thread_([this] { Loop(); }) { thread_.detach(); }

    void Loop() {
        t_on_compute_thread = true;
        while (true) {
            Job* j;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [this] { return !queue_.empty(); });
                j = queue_.front();
                queue_.pop_front();
            }
            Execute(j);
        }
    }

    void Execute(Job* j) {
        try {
            (*j->run)();
        } catch (...) {
            j->error = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            j->done = true;
        }
        done_.notify_all();
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    std::deque<Job*> queue_;
    std::thread thread_;
};

}  // namespace

void RunOnComputeThread(const std::function<void()>& job, ComputeJob kind) {
    ComputeThread::Get().Run(job, kind);
}

void RunJobsBetweenSteps() {
    ComputeThread::Get().RunBetweenSteps();
}

}  // namespace lg
