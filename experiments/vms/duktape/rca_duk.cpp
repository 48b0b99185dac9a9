// rca-duk: runs JavaScript on Duktape retrofitted with rca (duktape-rca.patch).
//
// One build of this file links against each Duktape variant (inline count, pointer handle,
// index handle; freeze check on or off): the variant is compiled in, the placement and the
// backend are chosen here at run time. Object memory comes from the rca heap through
// duk_create_heap's alloc hooks; in handle variants every heap object, buffer and string also
// holds one rca slot for its count.
//
// Output: one line per event, "rca-duk <what> key=value ...", for people and for rcalab vm.
// Exit: 0 ok, 1 JS exception (a program's self-check throws), 2 usage or setup error,
// 3 slot accounting mismatch, 4 a prefork worker failed.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <barrier>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../common/cli.h"
#include "../common/cow_probe.h"
#include "../common/prefork.h"
#include "duk_rca.h"

namespace {

using clk = std::chrono::steady_clock;

const char *variant_name() {
  static char buf[32];
  static const char *modes[] = {"inline", "ptr", "idx", "computed"};
  std::snprintf(buf, sizeof buf, "%s-%s%s", modes[duk_rca_mode()],
                duk_rca_freeze_check() ? "freeze" : "nofreeze", duk_rca_side_bits() ? "-side" : "");
  return buf;
}

// Every heap object of a handle build holds an rca slot for its count, and every object of the
// inline build with side bits one for the position of its side bits alone; computed builds keep
// counts found from the object's address (no slot; side bits are not built for them).
bool has_slots() { return duk_rca_mode() == 1 || duk_rca_mode() == 2 || duk_rca_side_bits(); }

struct options {
  std::string placement, backend;
  int repeat = 1;
  int threads = 0;
  int prefork = 0;
  bool freeze = false;
  bool worker_gc = false;
  bool gc_per_task = false;  // a forced full collection (duk_gc) after each task
  int tasks = 1;             // tasks per prefork worker
  bool stats = true;
  std::vector<std::string> scripts;  // run: [script]; prefork: [setup, task]
  std::vector<std::string> args;     // scriptArgs
};

[[noreturn]] void usage(const char *msg) {
  if (msg) std::fprintf(stderr, "rca-duk: %s\n", msg);
  std::fprintf(
      stderr,
      "usage: rca-duk [--placement P] [--backend B] [--repeat R] [--no-stats] script.js [args...]\n"
      "       rca-duk [...] --threads N script.js [args...]\n"
      "       rca-duk [...] --prefork K [--freeze] [--worker-gc] [--gc-per-task] [--tasks T] "
      "setup.js task.js [args...]\n"
      "  P: inline (inline builds) | shared | thread | padded (handle builds, and where an inline\n"
      "     side-bits build keeps its positions); env RCA_PLACEMENT\n"
      "  B: system | mimalloc | jemalloc; env RCA_BACKEND\n"
      "  this build: %s\n",
      variant_name());
  std::exit(2);
}

options parse(int argc, char **argv) {
  options o;
  rca::vms::command_line cl(argc, argv, usage);
  for (std::string a; !(a = cl.next_option()).empty();) {
    if (a == "--placement") o.placement = cl.value();
    else if (a == "--backend") o.backend = cl.value();
    else if (a == "--repeat") o.repeat = cl.count(1, 4096);
    else if (a == "--threads") o.threads = cl.count(1, 4096);
    else if (a == "--prefork") o.prefork = cl.count(1, 4096);
    else if (a == "--freeze") o.freeze = true;
    else if (a == "--worker-gc") o.worker_gc = true;
    else if (a == "--gc-per-task") o.gc_per_task = o.worker_gc = true;
    else if (a == "--tasks") o.tasks = cl.count(1, 4096);
    else if (a == "--no-stats") o.stats = false;
    else cl.unknown();
  }
  o.scripts =
      cl.take(o.prefork ? 2 : 1,
              o.prefork ? "--prefork needs a setup script and a task script" : "no script given");
  o.args = cl.rest();
  if (o.threads && o.prefork) usage("--threads and --prefork do not combine");
  if ((o.freeze || o.worker_gc || o.tasks != 1) && !o.prefork)
    usage("--freeze, --worker-gc, --gc-per-task and --tasks apply to --prefork");
  return o;
}

bool read_file(const std::string &path, std::string *out) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out->append(buf, n);
  std::fclose(f);
  return true;
}

// ---- the rca heap ---------------------------------------------------------------------------

rca_heap_t *make_rca_heap(const options &o) {
  rca_config_t cfg;
  rca_config_init(&cfg);
  if (rca_config_from_env(&cfg) != 0) {
    std::fprintf(stderr, "rca-duk: bad RCA_* environment: %s\n", rca_last_error());
    std::exit(2);
  }
  if (!o.placement.empty() && rca_config_set(&cfg, "placement", o.placement.c_str()) != 0) {
    std::fprintf(stderr,
                 "rca-duk: unknown placement '%s' (inline|shared|thread|padded|computed): %s\n",
                 o.placement.c_str(), rca_last_error());
    std::exit(2);
  }
  if (!o.backend.empty() && rca_config_set(&cfg, "backend", o.backend.c_str()) != 0) {
    std::fprintf(stderr, "rca-duk: unknown backend '%s' (system|mimalloc|jemalloc): %s\n",
                 o.backend.c_str(), rca_last_error());
    std::exit(2);
  }
  const int mode = duk_rca_mode();
  const bool slots = has_slots();
  // Without a flag or RCA_PLACEMENT the library default (shared) fits builds with slots; an
  // inline build without side bits can only run inline, a computed build only computed.
  if (mode == 0 && !slots && o.placement.empty() && !std::getenv("RCA_PLACEMENT"))
    cfg.placement = RCA_PLACEMENT_INLINE;
  if (mode == 3 && o.placement.empty() && !std::getenv("RCA_PLACEMENT"))
    cfg.placement = RCA_PLACEMENT_COMPUTED;
  if ((mode == 3) != (cfg.placement == RCA_PLACEMENT_COMPUTED)) {
    std::fprintf(stderr,
                 "rca-duk: placement '%s' does not fit %s (computed builds run computed only)\n",
                 rca_placement_name(cfg.placement), variant_name());
    std::exit(2);
  }
  if (mode == 0 && !slots && cfg.placement != RCA_PLACEMENT_INLINE) {
    std::fprintf(stderr, "rca-duk: placement '%s' needs a handle build; %s runs inline only\n",
                 rca_placement_name(cfg.placement), variant_name());
    std::exit(2);
  }
  if ((mode != 0 || slots) &&
      (cfg.placement == RCA_PLACEMENT_INLINE || cfg.placement == RCA_PLACEMENT_EMBEDDED)) {
    std::fprintf(stderr, "rca-duk: placement '%s' does not fit %s (shared|thread|padded)\n",
                 rca_placement_name(cfg.placement), variant_name());
    std::exit(2);
  }
  cfg.slot_bits = 32;
  // The inline side-bits build keeps a 32-bit slot index for its position.
  cfg.handle_kind = mode == 1 || mode == 3 ? RCA_HANDLE_KIND_POINTER : RCA_HANDLE_KIND_INDEX;
  if (!rca_backend_available(cfg.backend)) {
    std::fprintf(stderr, "rca-duk: backend '%s' is not available: %s\n",
                 rca_backend_name(cfg.backend), rca_last_error());
    std::exit(2);
  }
  rca_heap_t *heap = rca_heap_new(&cfg);
  if (!heap) {
    std::fprintf(stderr, "rca-duk: rca_heap_new failed: %s\n", rca_last_error());
    std::exit(2);
  }
  return heap;
}

size_t live_slots(rca_heap_t *heap) {
  rca_stats_t s;
  rca_heap_stats(heap, &s);
  return s.live_slots;
}

void print_stats(rca_heap_t *heap) {
  rca_stats_t s;
  rca_heap_stats(heap, &s);
  std::printf(
      "rca-duk stats live_objects=%zu live_slots=%zu refcount_pages=%zu refcount_pages_peak=%zu "
      "page_bytes=%zu slot_bytes=%zu object_bytes=%zu arena_reserved=%zu slots_allocated=%" PRIu64
      " slots_freed=%" PRIu64 "\n",
      s.live_objects, s.live_slots, s.refcount_pages, s.refcount_pages_peak, s.page_bytes,
      s.slot_bytes, s.object_bytes, s.arena_reserved, s.slots_allocated, s.slots_freed);
}

// ---- Duktape heaps over the rca heap ----------------------------------------------------------

void *hook_alloc(void *ud, duk_size_t n) { return rca_malloc(static_cast<rca_heap_t *>(ud), n); }
void *hook_realloc(void *ud, void *p, duk_size_t n) {
  return rca_realloc(static_cast<rca_heap_t *>(ud), p, n);
}
void hook_free(void *ud, void *p) { rca_free(static_cast<rca_heap_t *>(ud), p); }
void hook_fatal(void *, const char *msg) {
  std::fprintf(stderr, "rca-duk: Duktape fatal error: %s\n", msg ? msg : "(none)");
  std::fflush(stdout);
  std::abort();
}

duk_ret_t js_print(duk_context *ctx) {
  const duk_idx_t n = duk_get_top(ctx);
  std::string line;
  for (duk_idx_t i = 0; i < n; ++i) {
    if (i) line += ' ';
    line += duk_safe_to_string(ctx, i);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
  return 0;
}

duk_context *new_duk(rca_heap_t *heap, const std::vector<std::string> &args) {
  duk_context *ctx = duk_create_heap(hook_alloc, hook_realloc, hook_free, heap, hook_fatal);
  if (!ctx) {
    std::fprintf(stderr, "rca-duk: duk_create_heap failed (out of memory)\n");
    std::exit(2);
  }
  duk_push_c_function(ctx, js_print, DUK_VARARGS);
  duk_put_global_string(ctx, "print");
  duk_idx_t arr = duk_push_array(ctx);
  for (size_t i = 0; i < args.size(); ++i) {
    duk_push_string(ctx, args[i].c_str());
    duk_put_prop_index(ctx, arr, duk_uarridx_t(i));
  }
  duk_put_global_string(ctx, "scriptArgs");
  return ctx;
}

// Compiles a script and leaves the function on the stack; false (message printed) on error.
bool compile(duk_context *ctx, const std::string &path) {
  std::string src;
  if (!read_file(path, &src)) {
    std::fprintf(stderr, "rca-duk: cannot read script '%s': %s\n", path.c_str(),
                 std::strerror(errno));
    std::exit(2);
  }
  duk_push_string(ctx, path.c_str());
  if (duk_pcompile_lstring_filename(ctx, 0, src.data(), src.size()) != 0) {
    std::fprintf(stderr, "rca-duk: JS exception (compiling %s): %s\n", path.c_str(),
                 duk_safe_to_stacktrace(ctx, -1));
    duk_pop(ctx);
    return false;
  }
  return true;
}

// Calls the compiled function on the stack top; leaves the result (or nothing on error).
bool call(duk_context *ctx, const std::string &path, std::string *value) {
  if (duk_pcall(ctx, 0) != 0) {
    std::fprintf(stderr, "rca-duk: JS exception in %s: %s\n", path.c_str(),
                 duk_safe_to_stacktrace(ctx, -1));
    duk_pop(ctx);
    return false;
  }
  if (value) *value = duk_safe_to_string(ctx, -1);
  duk_pop(ctx);
  return true;
}

// Exact accounting while the heap is live: Duktape's own lists, the patch's counter and (handle
// builds, one heap per rca heap) rca's live slots must agree.
// Outside a collection REACHABLE and TEMPROOT are clear on every object: their side planes
// must be empty. The object walk must also read refzero_list as Duktape links it.
bool check_live(duk_context *ctx, rca_heap_t *heap, bool compare_rca, const char *tag) {
  const size_t walked = duk_rca_count_objects(ctx), live = duk_rca_live(ctx);
  const size_t slots = live_slots(heap);
  const size_t reachable = duk_rca_side_set_bits(0), temproot = duk_rca_side_set_bits(1);
  const int refzero_walk = duk_rca_check_refzero_walk(ctx);
  const bool ok = walked == live && (!compare_rca || slots == walked) &&
                  (compare_rca || has_slots() || slots == 0) && reachable == 0 && temproot == 0 &&
                  refzero_walk == 1;
  std::printf(
      "rca-duk accounting when=%s duk_objects=%zu duk_live=%zu rca_live_slots=%zu "
      "side_reachable=%zu "
      "side_temproot=%zu side_finalizable=%zu side_finalized=%zu refzero_walk_ok=%d ok=%d\n",
      tag, walked, live, slots, reachable, temproot, duk_rca_side_set_bits(2),
      duk_rca_side_set_bits(3), refzero_walk, ok ? 1 : 0);
  return ok;
}

bool destroy_and_check(duk_context *ctx, rca_heap_t *heap, bool check_rca) {
  duk_destroy_heap(ctx);
  const size_t left = duk_rca_last_destroyed_live();
  const size_t slots = live_slots(heap);
  // Every release clears its position's side bits: none may be left set.
  size_t side = 0;
  for (int p = 0; p < 4; ++p) side += duk_rca_side_set_bits(p);
  const bool ok = left == 0 && (!check_rca || slots == 0) && side == 0;
  std::printf(
      "rca-duk accounting when=destroyed duk_live=%zu rca_live_slots=%zu side_bits_set=%zu ok=%d\n",
      left, slots, side, ok ? 1 : 0);
  return ok;
}

double ms_since(clk::time_point t0) {
  return std::chrono::duration<double, std::milli>(clk::now() - t0).count();
}

// CPU time of the process or the calling thread, in ms: less sensitive than wall time to other
// processes sharing the cores.
double cpu_ms(clockid_t which) {
  struct timespec ts;
  clock_gettime(which, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

void print_header(const options &o, rca_heap_t *heap, const char *mode) {
  const rca_config_t *c = rca_heap_config(heap);
  const int build = duk_rca_mode();
  std::printf(
      "rca-duk run mode=%s variant=%s placement=%s handle=%s side_bits=%d backend=%s script=%s\n",
      mode, variant_name(), rca_placement_name(c->placement),
      build == 3 ? rca_address_name(c->address)
      : build    ? rca_handle_kind_name(c->handle_kind)
                 : "none",
      duk_rca_side_bits(), rca_backend_name(c->backend), o.scripts[0].c_str());
}

// ---- modes ------------------------------------------------------------------------------------

int run_plain(const options &o, rca_heap_t *heap) {
  print_header(o, heap, "run");
  for (int r = 0; r < o.repeat; ++r) {
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    const double c0 = cpu_ms(CLOCK_PROCESS_CPUTIME_ID);
    const auto t0 = clk::now();
    duk_context *ctx = new_duk(heap, o.args);
    std::string value;
    const bool ok = compile(ctx, o.scripts[0]) && call(ctx, o.scripts[0], &value);
    const double ms = ms_since(t0);
    const double cpu = cpu_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    getrusage(RUSAGE_SELF, &ru1);
    if (!ok) {
      duk_destroy_heap(ctx);
      return 1;
    }
    std::printf("rca-duk result rep=%d ms=%.3f cpu_ms=%.3f minflt=%ld value=%s\n", r, ms, cpu,
                ru1.ru_minflt - ru0.ru_minflt, value.c_str());
    const bool acc = check_live(ctx, heap, has_slots(), "after_run");
    if (!destroy_and_check(ctx, heap, true) || !acc) return 3;
  }
  return 0;
}

int run_threads(const options &o, rca_heap_t *heap) {
  // Side bits are set with plain read-modify-writes of 64-bit words: the threads' heaps must not
  // share words, so each thread's slots (and thus positions) must come from its own pages.
  if (duk_rca_side_bits() && rca_heap_config(heap)->placement != RCA_PLACEMENT_THREAD) {
    std::fprintf(stderr,
                 "rca-duk: --threads with side bits needs --placement thread (with %s the threads' "
                 "positions share bitmap words)\n",
                 rca_placement_name(rca_heap_config(heap)->placement));
    return 2;
  }
  print_header(o, heap, "threads");
  const int n = o.threads;
  std::vector<double> ms(n, 0), cpu(n, 0);
  std::vector<size_t> objects(n, 0), left(n, 1);
  std::vector<int> ok(n, 0);
  // Everyone runs, then one check of the whole rca heap while all heaps are live, then all
  // destroy: exact accounting across threads.
  bool all_live_ok = true;
  std::barrier sync(n, [&]() noexcept {
    size_t sum = 0;
    for (size_t x : objects) sum += x;
    const size_t slots = live_slots(heap);
    all_live_ok = !has_slots() ? slots == 0 : slots == sum;
    std::printf(
        "rca-duk accounting when=all_threads_live duk_objects=%zu rca_live_slots=%zu ok=%d\n", sum,
        slots, all_live_ok ? 1 : 0);
  });
  const auto t0 = clk::now();
  std::vector<std::thread> ts;
  for (int i = 0; i < n; ++i) {
    ts.emplace_back([&, i]() {
      const auto t = clk::now();
      const double c0 = cpu_ms(CLOCK_THREAD_CPUTIME_ID);
      duk_context *ctx = new_duk(heap, o.args);
      std::string value;
      ok[i] = compile(ctx, o.scripts[0]) && call(ctx, o.scripts[0], &value);
      ms[i] = ms_since(t);
      cpu[i] = cpu_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
      objects[i] = duk_rca_count_objects(ctx);
      if (objects[i] != duk_rca_live(ctx)) ok[i] = 0;
      sync.arrive_and_wait();
      duk_destroy_heap(ctx);
      left[i] = duk_rca_last_destroyed_live();
    });
  }
  for (auto &t : ts) t.join();
  const double wall = ms_since(t0);
  int failed = 0;
  double sum = 0, mx = 0, cpu_sum = 0;
  for (int i = 0; i < n; ++i) {
    cpu_sum += cpu[i];
    std::printf(
        "rca-duk thread id=%d ms=%.3f cpu_ms=%.3f duk_objects=%zu ok=%d destroyed_live=%zu\n", i,
        ms[i], cpu[i], objects[i], ok[i], left[i]);
    failed += !ok[i];
    sum += ms[i];
    mx = ms[i] > mx ? ms[i] : mx;
  }
  const size_t slots = live_slots(heap);
  std::printf(
      "rca-duk threads n=%d wall_ms=%.3f mean_ms=%.3f max_ms=%.3f cpu_ms_sum=%.3f "
      "rca_live_slots_after=%zu\n",
      n, wall, sum / n, mx, cpu_sum, slots);
  if (failed) return 1;
  for (size_t l : left)
    if (l != 0) return 3;
  return all_live_ok && slots == 0 ? 0 : 3;
}

int run_prefork(const options &o, rca_heap_t *heap) {
  print_header(o, heap, "prefork");
  const bool handles = duk_rca_mode() != 0;
  if (o.freeze && !duk_rca_freeze_check()) {
    std::fprintf(stderr, "rca-duk: --freeze needs a build with the freeze check; %s has none\n",
                 variant_name());
    return 2;
  }
  duk_context *ctx = new_duk(heap, o.args);
  const auto t0 = clk::now();
  if (!compile(ctx, o.scripts[0]) || !call(ctx, o.scripts[0], nullptr)) {
    duk_destroy_heap(ctx);
    return 1;
  }
  const double setup_ms = ms_since(t0);
  // The task is compiled before forking so that workers only run it.
  if (!compile(ctx, o.scripts[1])) {
    duk_destroy_heap(ctx);
    return 1;
  }
  // Mappings made while freezing (the counts kept aside: rca's for slots, the patch's for
  // inline counts) are bookkeeping, not the VM's heap: left out of the page counts, reported apart.
  static rca::vms::cow_range before[4096], after[4096];
  const std::size_t nbefore = rca::vms::list_mappings(before, 4096);
  long frozen = 0;
  if (o.freeze) frozen = handles ? rca_heap_freeze(heap) : duk_rca_freeze_inline(ctx);
  const std::size_t nafter = rca::vms::list_mappings(after, 4096);
  rca::vms::cow_range skip[16];
  std::size_t nskip = 0, aside_bytes = 0;
  // New address space = each mapping after, minus every mapping before (a new mapping may have
  // merged with an old neighbour, and the brk heap may have grown in place).
  for (std::size_t i = 0; i < nafter && nskip < 16; ++i) {
    std::uintptr_t at = after[i].lo;
    for (std::size_t j = 0; j <= nbefore && nskip < 16; ++j) {
      const std::uintptr_t blo = j < nbefore ? before[j].lo : ~std::uintptr_t(0);
      const std::uintptr_t bhi = j < nbefore ? before[j].hi : ~std::uintptr_t(0);
      if (bhi <= at) continue;
      const std::uintptr_t gap_end = blo < after[i].hi ? blo : after[i].hi;
      if (gap_end > at) {
        skip[nskip++] = rca::vms::cow_range{at, gap_end};
        aside_bytes += gap_end - at;
      }
      if (bhi >= after[i].hi) break;
      at = bhi > at ? bhi : at;
    }
  }
  if (frozen < 0) {
    std::fprintf(stderr, "rca-duk: freezing failed: %s\n", rca_last_error());
    duk_destroy_heap(ctx);
    return 2;
  }
  if (!o.worker_gc) duk_rca_gc_prevent(ctx, 1);
  void *lo = nullptr, *hi = nullptr, *side_lo = nullptr, *side_hi = nullptr;
  if (handles || has_slots()) rca_heap_arena_range(heap, &lo, &hi);
  rca_side_range(heap, &side_lo, &side_hi);
  std::printf(
      "rca-duk prefork workers=%d setup_ms=%.3f freeze=%d frozen=%ld worker_gc=%d gc_per_task=%d "
      "tasks=%d "
      "side_bits=%d duk_objects=%zu freeze_new_mappings=%zu freeze_new_mapping_bytes=%zu "
      "method=pagemap_exclusive_bit56\n",
      o.prefork, setup_ms, o.freeze ? 1 : 0, frozen, o.worker_gc ? 1 : 0, o.gc_per_task ? 1 : 0,
      o.tasks, duk_rca_side_bits(), duk_rca_count_objects(ctx), nskip, aside_bytes);
  std::fflush(stdout);

  size_t runs0 = 0, rejected0 = 0;
  duk_rca_gc_counts(ctx, &runs0, &rejected0);
  rca::vms::prefork_setup pages;
  pages.rc = {reinterpret_cast<std::uintptr_t>(lo), reinterpret_cast<std::uintptr_t>(hi)};
  pages.gc = {reinterpret_cast<std::uintptr_t>(side_lo), reinterpret_cast<std::uintptr_t>(side_hi)};
  pages.skip = skip;
  pages.nskip = nskip;
  pages.tasks = o.tasks;
  rca::vms::prefork_hooks hooks;
  // What the worker's collector did: runs, and calls turned away while it was held off (each
  // one an allocation that took the slow path).
  hooks.child_done = [&](int id) {
    size_t runs = 0, rejected = 0;
    duk_rca_gc_counts(ctx, &runs, &rejected);
    std::printf("rca-duk worker_gc id=%d ms_runs=%zu ms_rejected=%zu\n", id, runs - runs0,
                rejected - rejected0);
  };
  const int failed = rca::vms::run_prefork_workers(
      "rca-duk", o.prefork, pages,
      [&] {
        duk_dup_top(ctx);  // the compiled task; the parent's copy stays for the next task
        if (!call(ctx, o.scripts[1], nullptr)) return false;
        if (o.gc_per_task) duk_gc(ctx, 0);
        return true;
      },
      hooks);
  if (failed < 0) return 2;
  // Thaw before the task is popped: a decref of a frozen count is lost, and the task would
  // then outlive its last reference.
  long thawed = 0;
  if (o.freeze) thawed = handles ? rca_heap_thaw(heap) : duk_rca_thaw_inline(ctx);
  if (!o.worker_gc) duk_rca_gc_prevent(ctx, 0);
  duk_pop(ctx);  // the task
  std::printf("rca-duk thaw thawed=%ld\n", thawed);
  const bool acc = check_live(ctx, heap, has_slots(), "after_prefork");
  if (!destroy_and_check(ctx, heap, true) || !acc) return 3;
  return failed ? 4 : 0;
}

}  // namespace

int main(int argc, char **argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const options o = parse(argc, argv);
  // Scripts are checked before any heap exists, so that this error exits cleanly.
  for (const std::string &s : o.scripts) {
    if (access(s.c_str(), R_OK) != 0) {
      std::fprintf(stderr, "rca-duk: cannot read script '%s': %s\n", s.c_str(),
                   std::strerror(errno));
      return 2;
    }
  }
  rca_heap_t *heap = make_rca_heap(o);
  if (duk_rca_attach(heap) != 0) {
    std::fprintf(stderr, "rca-duk: cannot map the side bitmaps: %s\n", rca_last_error());
    rca_heap_destroy(heap);
    return 2;
  }
  // One Duktape heap per rca heap except in --threads: only then may a collection clear the
  // shared REACHABLE plane in bulk.
  duk_rca_side_bulk_clear(o.threads ? 0 : 1);
  int rc;
  if (o.prefork) rc = run_prefork(o, heap);
  else if (o.threads) rc = run_threads(o, heap);
  else rc = run_plain(o, heap);
  if (o.stats) print_stats(heap);
  rca_heap_destroy(heap);
  return rc;
}
