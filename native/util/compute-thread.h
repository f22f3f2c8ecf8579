// Every ggml graph of this process is computed on one thread. ggml's CPU backend runs a graph as an OpenMP
// parallel region, and libgomp gives each thread that opens one its own team of workers: with the workers of
// several libuv pool threads alive (loading, probing, encoding and decoding each ran on whichever pool thread
// was free), there are more OpenMP threads than CPUs, libgomp then throttles its spinning at barriers and the
// threads sleep and wake at every one of them (measured: the 0.5B prefill used 1.8-1.9 of 2 CPUs and ran ~8%
// slower than llama-bench's; with one thread, 2.0 CPUs and llama-bench's rate). llama-mtmd-cli has one team,
// on its main thread, and so do we now. The libuv thread of an AsyncWorker waits while its job runs here, so
// the event loop still never blocks; work of different models and contexts runs one after another.
#pragma once
#include <functional>

namespace lg {

enum class ComputeJob {
    kWhole,         // runs when the compute thread is free
    kBetweenSteps,  // may also run inside a running continuous decode loop, between two of its steps
};

// Runs job on the compute thread and waits for it; an exception it throws is rethrown here.
void RunOnComputeThread(const std::function<void()>& job, ComputeJob kind = ComputeJob::kWhole);

// Called by a long job on the compute thread at a point where it holds nothing another job could touch: runs the
// kBetweenSteps jobs queued so far (an image encode, so that a new request need not wait for the loop to drain).
void RunJobsBetweenSteps();

}  // namespace lg
