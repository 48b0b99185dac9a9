// rca-python: Debian's CPython 3.11, embedded, with rca as the allocator of the OBJ and MEM
// domains. CPython is unmodified: its counts stay inline in every object header. This shows
// rca serving a real VM, and gives the cow experiment its inline anchor (--prefork).
//
//   rca-python [--placement P] [--backend B] [--no-rca] script.py [args...]
//   rca-python [...] --prefork K [--freeze] setup.py task.py [args...]
//
// The hooks are installed after Py_PreInitialize (which would drop earlier hooks when
// PYTHONMALLOC is set) and before Py_InitializeFromConfig. Blocks the previous allocator made
// before the switch must still be resized and freed by it, so the host keeps the set of blocks
// rca made (an open-addressing hash set in memory of its own, outside rca's heap) and routes
// every other pointer to the previous allocator. The RAW domain is left alone: its hooks run
// without the GIL. Exit: the script's status (1 on an uncaught exception), 2 usage or setup
// error, 3 the host's ownership set and rca's stats disagree, 4 a prefork worker failed.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <rca/rca.h>

#include "../common/cli.h"
#include "../common/cow_probe.h"
#include "../common/prefork.h"

namespace {

// ---- the set of blocks rca made ----------------------------------------------------------------

class ptr_set {
 public:
  bool insert(void *p) {
    if ((n_ + 1) * 2 > cap_ && !grow()) return false;
    put(reinterpret_cast<std::uintptr_t>(p));
    ++n_;
    return true;
  }
  bool erase(void *p) {
    if (!cap_) return false;
    const std::uintptr_t k = reinterpret_cast<std::uintptr_t>(p);
    std::size_t i = slot(k);
    while (keys_[i] != k) {
      if (keys_[i] == 0) return false;
      i = (i + 1) & (cap_ - 1);
    }
    // Backward-shift deletion: no tombstones, lookups stay short.
    std::size_t j = i;
    for (;;) {
      j = (j + 1) & (cap_ - 1);
      if (keys_[j] == 0) break;
      const std::size_t home = slot(keys_[j]);
      if (((j - home) & (cap_ - 1)) >= ((j - i) & (cap_ - 1))) {
        keys_[i] = keys_[j];
        i = j;
      }
    }
    keys_[i] = 0;
    --n_;
    return true;
  }
  bool contains(const void *p) const {
    if (!cap_) return false;
    const std::uintptr_t k = reinterpret_cast<std::uintptr_t>(p);
    for (std::size_t i = slot(k);; i = (i + 1) & (cap_ - 1)) {
      if (keys_[i] == k) return true;
      if (keys_[i] == 0) return false;
    }
  }
  std::size_t size() const { return n_; }
  std::uintptr_t lo() const { return reinterpret_cast<std::uintptr_t>(keys_); }
  std::uintptr_t hi() const { return lo() + cap_ * sizeof(std::uintptr_t); }
  template <class F>
  void each(F f) const {
    for (std::size_t i = 0; i < cap_; ++i)
      if (keys_[i]) f(reinterpret_cast<void *>(keys_[i]));
  }

 private:
  std::size_t slot(std::uintptr_t k) const { return ((k >> 4) * 0x9E3779B97F4A7C15ull) >> shift_; }
  void put(std::uintptr_t k) {
    std::size_t i = slot(k);
    while (keys_[i] != 0) i = (i + 1) & (cap_ - 1);
    keys_[i] = k;
  }
  bool grow() {
    const std::size_t ncap = cap_ ? cap_ * 2 : (1u << 16);
    void *m = mmap(nullptr, ncap * sizeof(std::uintptr_t), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return false;
    std::uintptr_t *old = keys_;
    const std::size_t ocap = cap_;
    keys_ = static_cast<std::uintptr_t *>(m);
    cap_ = ncap;
    shift_ = 64 - __builtin_ctzll(ncap);
    for (std::size_t i = 0; i < ocap; ++i)
      if (old[i]) put(old[i]);
    if (old) munmap(old, ocap * sizeof(std::uintptr_t));
    return true;
  }
  std::uintptr_t *keys_ = nullptr;
  std::size_t cap_ = 0, n_ = 0;
  unsigned shift_ = 64;
};

// ---- the hooks ----------------------------------------------------------------------------------

rca_heap_t *g_heap = nullptr;
ptr_set g_owned;  // MEM and OBJ calls hold the GIL: no lock needed
struct counters {
  std::uint64_t allocs = 0, frees = 0, reallocs = 0, foreign_frees = 0, foreign_reallocs = 0;
} g_count;

struct domain {
  PyMemAllocatorDomain id;
  PyMemAllocatorEx prev;
};
domain g_mem{PYMEM_DOMAIN_MEM, {}}, g_obj{PYMEM_DOMAIN_OBJ, {}};

void *own(void *p) {
  if (p && !g_owned.insert(p)) {
    std::fprintf(stderr, "rca-python: out of memory for the ownership set\n");
    std::abort();
  }
  return p;
}

void *hook_malloc(void *, size_t n) {
  ++g_count.allocs;
  return own(rca_malloc(g_heap, n ? n : 1));  // Python asks a non-NULL result for 0 bytes
}

void *hook_calloc(void *, size_t nelem, size_t elsize) {
  if (elsize && nelem > SIZE_MAX / elsize) return nullptr;
  const size_t n = nelem * elsize;
  ++g_count.allocs;
  void *p = rca_malloc(g_heap, n ? n : 1);
  if (p) std::memset(p, 0, n);
  return own(p);
}

void *hook_realloc(void *ctx, void *p, size_t n) {
  if (!p) return hook_malloc(ctx, n);
  if (!g_owned.contains(p)) {
    ++g_count.foreign_reallocs;
    const domain *d = static_cast<const domain *>(ctx);
    return d->prev.realloc(d->prev.ctx, p, n);
  }
  ++g_count.reallocs;
  void *q = rca_realloc(g_heap, p, n ? n : 1);  // PyMem_Realloc(p, 0) resizes, never frees
  if (q && q != p) {
    g_owned.erase(p);
    own(q);
  }
  return q;
}

void hook_free(void *ctx, void *p) {
  if (!p) return;
  if (g_owned.erase(p)) {
    ++g_count.frees;
    rca_free(g_heap, p);
    return;
  }
  ++g_count.foreign_frees;
  const domain *d = static_cast<const domain *>(ctx);
  d->prev.free(d->prev.ctx, p);
}

void install(domain &d) {
  PyMem_GetAllocator(d.id, &d.prev);
  PyMemAllocatorEx a{&d, hook_malloc, hook_calloc, hook_realloc, hook_free};
  PyMem_SetAllocator(d.id, &a);
}

// The host's view and rca's must agree: every block in the set is rca's, and their usable bytes
// sum to rca's object_bytes.
bool print_balance(const char *when) {
  rca_stats_t s;
  rca_heap_stats(g_heap, &s);
  std::size_t bytes = 0;
  g_owned.each([&](void *p) { bytes += rca_usable_size(g_heap, p); });
  const bool ok = bytes == s.object_bytes && g_count.allocs - g_count.frees == g_owned.size();
  std::printf("rca-python balance when=%s live_blocks=%zu allocs=%" PRIu64 " frees=%" PRIu64
              " reallocs=%" PRIu64 " foreign_frees=%" PRIu64 " foreign_reallocs=%" PRIu64
              " set_bytes=%zu rca_object_bytes=%zu ok=%d\n",
              when, g_owned.size(), g_count.allocs, g_count.frees, g_count.reallocs,
              g_count.foreign_frees, g_count.foreign_reallocs, bytes, s.object_bytes, ok ? 1 : 0);
  return ok;
}

// ---- _rca: what a script can ask the host
// ---------------------------------------------------------

PyObject *py_live_blocks(PyObject *, PyObject *) { return PyLong_FromSize_t(g_owned.size()); }
PyObject *py_allocs(PyObject *, PyObject *) { return PyLong_FromUnsignedLongLong(g_count.allocs); }
PyObject *py_active(PyObject *, PyObject *) { return PyBool_FromLong(g_heap != nullptr); }
PyMethodDef kMethods[] = {
    {"live_blocks", py_live_blocks, METH_NOARGS, "blocks rca made and Python has not freed"},
    {"allocs", py_allocs, METH_NOARGS, "blocks rca made so far"},
    {"active", py_active, METH_NOARGS, "True when rca serves the OBJ and MEM domains"},
    {nullptr, nullptr, 0, nullptr}};
PyModuleDef kModule = {PyModuleDef_HEAD_INIT,
                       "_rca",
                       "rca-python host",
                       -1,
                       kMethods,
                       nullptr,
                       nullptr,
                       nullptr,
                       nullptr};
PyObject *init_module() { return PyModule_Create(&kModule); }

// ---- options
// --------------------------------------------------------------------------------------

struct options {
  std::string placement, backend;
  bool use_rca = true;
  int prefork = 0;
  bool freeze = false;
  int tasks = 1;             // tasks per prefork worker
  bool gc_per_task = false;  // a full gc.collect() after each task
  std::vector<std::string> scripts, args;
};

[[noreturn]] void usage(const char *msg) {
  if (msg) std::fprintf(stderr, "rca-python: %s\n", msg);
  std::fprintf(
      stderr,
      "usage: rca-python [--placement P] [--backend B] [--no-rca] script.py [args...]\n"
      "       rca-python [...] --prefork K [--freeze] [--tasks T] [--gc-per-task] setup.py task.py "
      "[args...]\n"
      "  --freeze: gc.freeze() and gc.disable() before forking (CPython's own tools)\n"
      "  --tasks T: each worker runs the task T times; --gc-per-task: gc.collect() after each\n");
  std::exit(2);
}

options parse(int argc, char **argv) {
  options o;
  rca::vms::command_line cl(argc, argv, usage);
  for (std::string a; !(a = cl.next_option()).empty();) {
    if (a == "--placement") o.placement = cl.value();
    else if (a == "--backend") o.backend = cl.value();
    else if (a == "--no-rca") o.use_rca = false;
    else if (a == "--prefork") o.prefork = cl.count(1, 256);
    else if (a == "--tasks") o.tasks = cl.count(1, 4096);
    else if (a == "--gc-per-task") o.gc_per_task = true;
    else if (a == "--freeze") o.freeze = true;
    else cl.unknown();
  }
  o.scripts = cl.take(o.prefork ? 2 : 1,
                      o.prefork ? "--prefork needs setup.py and task.py" : "no script given");
  o.args = cl.rest();
  if ((o.freeze || o.tasks != 1 || o.gc_per_task) && !o.prefork)
    usage("--freeze, --tasks and --gc-per-task apply to --prefork");
  return o;
}

rca_heap_t *make_heap(const options &o) {
  rca_config_t cfg;
  rca_config_init(&cfg);
  // CPython keeps its counts inline and asks no slots: inline unless told otherwise.
  cfg.placement = RCA_PLACEMENT_INLINE;
  if (rca_config_from_env(&cfg) != 0) {
    std::fprintf(stderr, "rca-python: bad RCA_* environment: %s\n", rca_last_error());
    std::exit(2);
  }
  if (!o.placement.empty() && rca_config_set(&cfg, "placement", o.placement.c_str()) != 0) {
    std::fprintf(stderr, "rca-python: unknown placement '%s': %s\n", o.placement.c_str(),
                 rca_last_error());
    std::exit(2);
  }
  if (!o.backend.empty() && rca_config_set(&cfg, "backend", o.backend.c_str()) != 0) {
    std::fprintf(stderr, "rca-python: unknown backend '%s': %s\n", o.backend.c_str(),
                 rca_last_error());
    std::exit(2);
  }
  rca_heap_t *h = rca_heap_new(&cfg);
  if (!h) {
    std::fprintf(stderr, "rca-python: rca_heap_new failed: %s\n", rca_last_error());
    std::exit(2);
  }
  return h;
}

void print_stats() {
  if (!g_heap) return;
  rca_stats_t s;
  rca_heap_stats(g_heap, &s);
  const rca_config_t *c = rca_heap_config(g_heap);
  std::printf(
      "rca-python stats placement=%s backend=%s object_bytes=%zu live_slots=%zu "
      "refcount_pages=%zu\n",
      rca_placement_name(c->placement), rca_backend_name(c->backend), s.object_bytes, s.live_slots,
      s.refcount_pages);
}

bool read_file(const std::string &path, std::string *out) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out->append(buf, n);
  std::fclose(f);
  return true;
}

PyObject *compile_file(const std::string &path) {
  std::string src;
  if (!read_file(path, &src)) {
    std::fprintf(stderr, "rca-python: cannot read script '%s': %s\n", path.c_str(),
                 std::strerror(errno));
    return nullptr;
  }
  PyObject *code = Py_CompileString(src.c_str(), path.c_str(), Py_file_input);
  if (!code) PyErr_Print();
  return code;
}

bool eval(PyObject *code, PyObject *globals) {
  PyObject *r = PyEval_EvalCode(code, globals, globals);
  if (!r) {
    PyErr_Print();
    return false;
  }
  Py_DECREF(r);
  return true;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

int run_prefork(const options &o) {
  PyObject *main_mod = PyImport_AddModule("__main__");
  PyObject *globals = PyModule_GetDict(main_mod);
  PyObject *setup = compile_file(o.scripts[0]);
  if (!setup) return 1;
  const auto t0 = std::chrono::steady_clock::now();
  if (!eval(setup, globals)) return 1;
  const double setup_ms = ms_since(t0);
  PyObject *task = compile_file(o.scripts[1]);  // compiled before forking: workers only run it
  if (!task) return 1;
  if (o.freeze && PyRun_SimpleString("import gc; gc.collect(); gc.freeze(); gc.disable()") != 0)
    return 1;
  // A forced full collection: gc.collect() (CPython's collector writes the GC header of every
  // tracked object it visits; after gc.freeze() the frozen objects are not visited).
  PyObject *collect = o.gc_per_task
                          ? Py_CompileString("import gc\ngc.collect()\n", "<gc>", Py_file_input)
                          : nullptr;
  if (o.gc_per_task && !collect) return 1;
  std::printf(
      "rca-python prefork workers=%d setup_ms=%.3f freeze=%d rca=%d tasks=%d gc_per_task=%d "
      "method=pagemap_exclusive_bit56\n",
      o.prefork, setup_ms, o.freeze ? 1 : 0, g_heap ? 1 : 0, o.tasks, o.gc_per_task ? 1 : 0);
  std::fflush(stdout);
  // No refcount arena in CPython: every private page is an object page. The ownership set is
  // the host's, not CPython's heap: left out.
  const rca::vms::cow_range own_range{g_owned.lo(), g_owned.hi()};
  rca::vms::prefork_hooks hooks;
  hooks.before_fork = [] { PyOS_BeforeFork(); };
  hooks.after_fork_parent = [] { PyOS_AfterFork_Parent(); };
  hooks.after_fork_child = [] { PyOS_AfterFork_Child(); };
  rca::vms::prefork_setup setup_pages;
  setup_pages.skip = &own_range;
  setup_pages.nskip = 1;
  setup_pages.tasks = o.tasks;
  const int failed = rca::vms::run_prefork_workers(
      "rca-python", o.prefork, setup_pages,
      [&] { return eval(task, globals) && (!collect || eval(collect, globals)); }, hooks);
  if (failed < 0) return 2;
  Py_DECREF(setup);
  Py_DECREF(task);
  Py_XDECREF(collect);
  return failed ? 4 : 0;
}

}  // namespace

int main(int argc, char **argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const options o = parse(argc, argv);
  for (const auto &s : o.scripts)
    if (access(s.c_str(), R_OK) != 0) {
      std::fprintf(stderr, "rca-python: cannot read script '%s': %s\n", s.c_str(),
                   std::strerror(errno));
      return 2;
    }

  PyPreConfig pre;
  PyPreConfig_InitPythonConfig(&pre);
  PyStatus st = Py_PreInitialize(&pre);
  if (PyStatus_Exception(st)) Py_ExitStatusException(st);
  if (o.use_rca) {
    g_heap = make_heap(o);
    install(g_mem);
    install(g_obj);
  }
  if (PyImport_AppendInittab("_rca", init_module) != 0) return 2;

  PyConfig cfg;
  PyConfig_InitPythonConfig(&cfg);
  std::vector<char *> pyargv;
  pyargv.push_back(argv[0]);
  for (const auto &s : o.scripts) pyargv.push_back(const_cast<char *>(s.c_str()));
  for (const auto &a : o.args) pyargv.push_back(const_cast<char *>(a.c_str()));
  cfg.parse_argv = 0;
  if (!o.prefork) {
    // sys.argv = [script, args...], as `python script args` would give.
    st = PyConfig_SetBytesString(&cfg, &cfg.run_filename, o.scripts[0].c_str());
    if (PyStatus_Exception(st)) Py_ExitStatusException(st);
  }
  st = PyConfig_SetBytesArgv(&cfg, int(pyargv.size() - 1), pyargv.data() + 1);
  if (PyStatus_Exception(st)) Py_ExitStatusException(st);
  st = Py_InitializeFromConfig(&cfg);
  PyConfig_Clear(&cfg);
  if (PyStatus_Exception(st)) Py_ExitStatusException(st);

  int rc;
  if (o.prefork) {
    rc = run_prefork(o);
    if (Py_FinalizeEx() < 0 && rc == 0) rc = 120;
  } else {
    rc = Py_RunMain();  // runs run_filename, prints any traceback, finalizes
  }
  if (g_heap) {
    print_stats();
    // After finalization CPython still holds some blocks (static types, interned strings): the
    // balance asked of the host is that its set and rca's stats agree exactly.
    if (!print_balance("after_finalize") && rc == 0) rc = 3;
  }
  // The rca heap stays: blocks of CPython's static objects outlive finalization. _exit skips the
  // at-exit handlers, which could otherwise free such blocks into a heap being torn down.
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(rc);
}
