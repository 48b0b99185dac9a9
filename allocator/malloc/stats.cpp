// RCA_SHOW_STATS=1: the process heap's statistics at exit, on stderr. Gathered from the region's
// descriptors and the huge-block table when printed, so the hot paths count nothing; written
// with prim::write_stderr from a stack buffer (no stdio, no malloc: the process is exiting, and
// its malloc is this one).
#include "malloc.h"
#include "../prim/prim.h"

#include <unistd.h>

namespace rca::detail::malloc_layer {
namespace {

class line_writer {
 public:
  line_writer &str(const char *s) noexcept {
    while (*s && n_ < sizeof buf_) buf_[n_++] = *s++;
    return *this;
  }
  line_writer &num(std::uint64_t v, int width = 0) noexcept {
    char digits[24];
    int k = 0;
    do {
      digits[k++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    for (int pad = width - k; pad > 0; --pad) str(" ");
    while (k > 0 && n_ < sizeof buf_) buf_[n_++] = digits[--k];
    return *this;
  }
  void flush() noexcept {
    prim::write_stderr(buf_, n_);
    n_ = 0;
  }

 private:
  char buf_[4096];
  std::size_t n_ = 0;
};

struct class_totals {
  std::uint64_t spans = 0, blocks = 0, capacity = 0;
};

}  // namespace

void print_stats() noexcept {
  rca_heap_t *heap = process_heap();
  span_region &r = heap->spans;
  class_totals cls[kSizeClasses + 1];
  std::size_t units_in_use, units_peak, spans_in_use, committed_free, retain_limit, next_fresh,
      abandoned = 0, spare = 0;
  {
    std::lock_guard<std::mutex> g(r.lock);
    for (std::size_t u = 0; u < r.next_fresh; ++u) {
      const span_desc &d = r.descs[u];
      const span_state st = d.state.load(std::memory_order_relaxed);
      spare += st == span_state::spare;
      if (st != span_state::owned && st != span_state::abandoned) continue;
      abandoned += st == span_state::abandoned;
      class_totals &t = cls[d.size_class];
      ++t.spans;
      t.blocks += d.used;  // as its owner knows it: frees by other threads not yet collected count
      t.capacity += d.capacity;
    }
    units_in_use = r.units_in_use;
    units_peak = r.units_peak;
    spans_in_use = r.spans_in_use;
    committed_free = r.committed_free_units;
    retain_limit = spans_retain_limit(r);
    next_fresh = r.next_fresh;
  }
  const huge_totals huge = huge_stats();
  line_writer w;
  w.str("rca malloc stats (pid ").num(static_cast<std::uint64_t>(getpid())).str(")\n");
  w.str("  region      ").num(r.units_limit << kSpanShift).str(" bytes reserved, ");
  w.num(units_in_use).str(" units of 64 KiB in use (peak ").num(units_peak).str(", ever touched ");
  w.num(next_fresh).str("), ").num(committed_free).str(" free units kept committed (limit ");
  w.num(retain_limit).str(")\n");
  w.str("  spans       ").num(spans_in_use).str(" in use, ").num(abandoned);
  w.str(" abandoned by exited threads, ").num(spare).str(" kept spare by threads\n");
  w.str("  class     size  spans   blocks in use / capacity\n");
  for (unsigned c = 0; c <= kSizeClasses; ++c) {
    if (!cls[c].spans) continue;
    if (c < kSizeClasses) w.str("  ").num(c, 5).num(class_size(c), 9);
    else w.str("  large         ");
    w.num(cls[c].spans, 7).num(cls[c].blocks, 12).str(" / ").num(cls[c].capacity).str("\n");
  }
  w.str("  huge        ").num(huge.blocks).str(" live blocks, ").num(huge.bytes);
  w.str(" bytes (peak ").num(huge.peak_bytes).str("), ").num(huge.made).str(" made\n");
  w.str("  threads     ").num(thread_caches_made()).str(" caches made\n");
  w.str("  checks      ").str(options().checks ? "on (RCA_CHECKS)" : "off").str("\n");
  const std::size_t rss = prim::peak_rss();
  w.str("  peak RSS    ");
  if (rss) w.num(rss).str(" bytes\n");
  else w.str("unavailable\n");
  w.flush();
}

}  // namespace rca::detail::malloc_layer
