// prodcons: every block is freed on another thread than the one that made it. Producers
// allocate batches of blocks (16..1024 B, filled), hand each batch over a bounded queue, and
// consumers check and free them: the remote-free path of a thread-caching allocator, as in a
// pipeline of server stages. --threads N runs max(1, N/2) producers and max(1, N/2) consumers,
// so one thread still means a producer and a consumer (the suite runs this at 2 threads only).
// Work figure: blocks handed over.
#include "workload.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace {

constexpr const char *kName = "prodcons";
constexpr std::size_t kBatch = 256;    // blocks per hand-over
constexpr std::size_t kQueueMax = 64;  // batches in flight: the producer waits beyond this

struct item {
  void *p;
  std::size_t size;
};

class queue {
 public:
  void push(std::vector<item> *b) {
    std::unique_lock lock(m_);
    not_full_.wait(lock, [&] { return q_.size() < kQueueMax; });
    q_.push_back(b);
    not_empty_.notify_one();
  }
  /// nullptr once every producer is done and the queue is empty.
  std::vector<item> *pop() {
    std::unique_lock lock(m_);
    not_empty_.wait(lock, [&] { return !q_.empty() || producers_ == 0; });
    if (q_.empty()) return nullptr;
    std::vector<item> *b = q_.front();
    q_.pop_front();
    not_full_.notify_one();
    return b;
  }
  void producers(unsigned n) { producers_ = n; }
  void producer_done() {
    std::lock_guard lock(m_);
    if (--producers_ == 0) not_empty_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable not_empty_, not_full_;
  std::deque<std::vector<item> *> q_;
  unsigned producers_ = 0;
};

}  // namespace

int main(int argc, char **argv) {
  const mbench::args a = mbench::parse(argc, argv, kName);
  const unsigned producers = a.threads / 2 ? a.threads / 2 : 1;
  const unsigned consumers = producers;
  const std::size_t batches = mbench::scaled(a, 12000, 4) / producers;  // per producer
  queue q;
  q.producers(producers);
  std::vector<std::uint64_t> made(producers), freed(consumers), bytes(producers);
  const double t0 = mbench::now_ms();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < producers; ++t)
    pool.emplace_back([&, t] {
      mbench::rng r(a.seed + t);
      std::uint64_t sum = 0;
      for (std::size_t i = 0; i < batches; ++i) {
        auto *b = new std::vector<item>(kBatch);
        for (item &it : *b) {
          it.size = r.range(16, 1024);
          it.p = mbench::take(kName, it.size);
          sum += it.size;
        }
        q.push(b);
      }
      made[t] = batches * kBatch;
      bytes[t] = sum;
      q.producer_done();
    });
  for (unsigned t = 0; t < consumers; ++t)
    pool.emplace_back([&, t] {
      std::uint64_t n = 0;
      while (std::vector<item> *b = q.pop()) {
        for (const item &it : *b) mbench::give(kName, it.p, it.size);
        n += b->size();
        delete b;
      }
      freed[t] = n;
    });
  for (auto &th : pool) th.join();
  const double ms = mbench::now_ms() - t0;
  std::uint64_t m = 0, f = 0, by = 0;
  for (auto x : made) m += x;
  for (auto x : freed) f += x;
  for (auto x : bytes) by += x;
  if (m != f) mbench::fail(kName, "consumers freed a different number of blocks than were made");
  mbench::report(kName, a, ms, m, by);
  return 0;
}
