// The process heap's statistics: RCA_SHOW_STATS=1 prints them at exit on stderr, mallinfo and
// mallinfo2 (entry.cpp) return them. Gathered from the region's descriptors and the huge-block
// table when asked, so the hot paths count nothing; printed with prim::write_stderr from a stack
// buffer (no stdio, no malloc: the process is exiting, and its malloc is this one).
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

}  // namespace

heap_totals gather_totals() noexcept {
  rca_heap_t *heap = process_heap();
  span_region &r = heap->spans;
  heap_totals t;
  {
    std::lock_guard<std::mutex> g(r.lock);
    for (std::size_t u = 0; u < r.next_fresh; ++u) {
      const span_desc &d = r.descs[u];
      const span_state st = d.state.load(std::memory_order_relaxed);
      t.spare_spans += st == span_state::spare;
      if (st != span_state::owned && st != span_state::abandoned) continue;
      t.abandoned_spans += st == span_state::abandoned;
      heap_totals::per_class &c = t.cls[d.size_class];
      ++c.spans;
      c.blocks += d.used;
      c.capacity += d.capacity;
      t.live_bytes += std::uint64_t(d.used) * d.block_size;
      t.free_blocks += d.capacity - d.used;
    }
    t.units_in_use = r.units_in_use;
    t.units_peak = r.units_peak;
    t.spans_in_use = r.spans_in_use;
    t.committed_free_units = r.committed_free_units;
    t.retain_limit = spans_retain_limit(r);
    t.next_fresh = r.next_fresh;
  }
  t.huge = huge_stats();
  return t;
}

void print_stats() noexcept {
  const span_region &r = process_heap()->spans;
  const heap_totals t = gather_totals();
  const huge_totals &huge = t.huge;
  line_writer w;
  w.str("rca malloc stats (pid ").num(static_cast<std::uint64_t>(getpid())).str(")\n");
  w.str("  region      ").num(r.units_limit << kSpanShift).str(" bytes reserved, ");
  w.num(t.units_in_use)
      .str(" units of 64 KiB in use (peak ")
      .num(t.units_peak)
      .str(", ever touched ");
  w.num(t.next_fresh)
      .str("), ")
      .num(t.committed_free_units)
      .str(" free units kept committed (limit ");
  w.num(t.retain_limit).str(")\n");
  w.str("  spans       ").num(t.spans_in_use).str(" in use, ").num(t.abandoned_spans);
  w.str(" abandoned by exited threads, ").num(t.spare_spans).str(" kept spare by threads\n");
  w.str("  class     size  spans   blocks in use / capacity\n");
  for (unsigned c = 0; c <= kSizeClasses; ++c) {
    if (!t.cls[c].spans) continue;
    if (c < kSizeClasses) w.str("  ").num(c, 5).num(class_size(c), 9);
    else w.str("  large         ");
    w.num(t.cls[c].spans, 7).num(t.cls[c].blocks, 12).str(" / ").num(t.cls[c].capacity).str("\n");
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
