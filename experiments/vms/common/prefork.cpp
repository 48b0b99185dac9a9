#include "prefork.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

namespace rca::vms {

namespace {

constexpr int kMaxTasks = 4096;

struct worker_report {
  int ok;
  int tasks;
  double ms;
  double task_ms_median, task_ms_min, task_ms_max;
  long minflt;
  bool have_pages;
  cow_counts pages;
};

double pct(std::size_t a, std::size_t b) { return b ? 100.0 * double(a) / double(b) : 0.0; }

// Rss, Pss and USS (Private_Clean + Private_Dirty) of one process, in kB, from smaps_rollup.
struct memory {
  long rss_kb = -1, pss_kb = -1, uss_kb = -1;
};

memory read_memory(pid_t pid) {
  memory m;
  char path[64], buf[4096];
  std::snprintf(path, sizeof path, "/proc/%d/smaps_rollup", int(pid));
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return m;
  std::size_t len = 0;
  for (ssize_t n; len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0;)
    len += std::size_t(n);
  close(fd);
  buf[len] = 0;
  auto field = [&](const char *name) {
    const char *at = std::strstr(buf, name);
    return at ? std::atol(at + std::strlen(name)) : -1L;
  };
  m.rss_kb = field("\nRss:");
  m.pss_kb = field("\nPss:");
  const long clean = field("\nPrivate_Clean:"), dirty = field("\nPrivate_Dirty:");
  m.uss_kb = clean >= 0 && dirty >= 0 ? clean + dirty : -1;
  return m;
}

[[noreturn]] void worker(int id, int fd, int go_fd, const prefork_setup &setup,
                         const std::function<bool()> &task, const prefork_hooks &hooks) {
  worker_report rep{};
  cow_probe *probe = cow_begin(setup.rc, setup.gc, setup.skip, setup.nskip);
  rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  static double times[kMaxTasks];
  const int tasks = setup.tasks < 1 ? 1 : setup.tasks > kMaxTasks ? kMaxTasks : setup.tasks;
  const auto t = std::chrono::steady_clock::now();
  rep.ok = 1;
  for (int i = 0; i < tasks && rep.ok; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    rep.ok = task() ? 1 : 0;
    times[i] =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    rep.tasks = i + 1;
  }
  rep.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  getrusage(RUSAGE_SELF, &ru1);
  rep.minflt = ru1.ru_minflt - ru0.ru_minflt;
  std::sort(times, times + rep.tasks);
  rep.task_ms_min = times[0];
  rep.task_ms_max = times[rep.tasks - 1];
  rep.task_ms_median =
      rep.tasks % 2 ? times[rep.tasks / 2] : (times[rep.tasks / 2 - 1] + times[rep.tasks / 2]) / 2;
  if (hooks.child_done) hooks.child_done(id);
  std::fflush(stdout);
  rep.have_pages = probe && cow_end(probe, &rep.pages);
  const ssize_t wr = write(fd, &rep, sizeof rep);
  (void)wr;
  close(fd);
  // Stay alive until the parent has read every process's memory: EOF when it closes its end.
  char c;
  while (read(go_fd, &c, 1) > 0) {
  }
  std::fflush(stderr);
  _exit(rep.ok ? 0 : 1);
}

}  // namespace

int run_prefork_workers(const char *vm, int workers, const prefork_setup &setup,
                        const std::function<bool()> &task, const prefork_hooks &hooks) {
  std::vector<pid_t> pids;
  std::vector<int> fds;
  int go[2];
  if (pipe(go) != 0) {
    std::fprintf(stderr, "%s: pipe: %s\n", vm, std::strerror(errno));
    return -1;
  }
  const memory one = read_memory(getpid());
  auto release_workers = [&] {
    if (go[1] >= 0) close(go[1]);
    go[1] = -1;
  };
  for (int w = 0; w < workers; ++w) {
    int fd[2];
    if (pipe(fd) != 0) {
      std::fprintf(stderr, "%s: pipe: %s\n", vm, std::strerror(errno));
      release_workers();
      return -1;
    }
    if (hooks.before_fork) hooks.before_fork();
    const pid_t pid = fork();
    if (pid == 0) {
      if (hooks.after_fork_child) hooks.after_fork_child();
      close(fd[0]);
      close(go[1]);
      worker(w, fd[1], go[0], setup, task, hooks);
    }
    if (hooks.after_fork_parent) hooks.after_fork_parent();
    if (pid < 0) {
      std::fprintf(stderr, "%s: fork: %s\n", vm, std::strerror(errno));
      release_workers();
      return -1;
    }
    close(fd[1]);
    pids.push_back(pid);
    fds.push_back(fd[0]);
  }
  close(go[0]);
  std::vector<worker_report> reps(workers);
  std::vector<bool> got(workers);
  for (int w = 0; w < workers; ++w) {
    got[w] = read(fds[w], &reps[w], sizeof reps[w]) == ssize_t(sizeof reps[w]);
    close(fds[w]);
  }
  // Every worker that reported now waits: the memory of all of them together.
  memory parent = read_memory(getpid());
  long pss = parent.pss_kb, uss = parent.uss_kb, rss = parent.rss_kb;
  for (int w = 0; w < workers; ++w) {
    const memory m = read_memory(pids[w]);
    pss = pss >= 0 && m.pss_kb >= 0 ? pss + m.pss_kb : -1;
    uss = uss >= 0 && m.uss_kb >= 0 ? uss + m.uss_kb : -1;
    rss = rss >= 0 && m.rss_kb >= 0 ? rss + m.rss_kb : -1;
  }
  release_workers();
  int failed = 0;
  for (int w = 0; w < workers; ++w) {
    int status = 0;
    waitpid(pids[w], &status, 0);
    const worker_report &rep = reps[w];
    const bool ok = got[w] && rep.ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    failed += !ok;
    const cow_counts &p = rep.pages;
    std::printf(
        "%s worker id=%d ok=%d ms=%.3f tasks=%d task_ms_median=%.3f task_ms_min=%.3f "
        "task_ms_max=%.3f minflt=%ld",
        vm, w, ok ? 1 : 0, rep.ms, rep.tasks, rep.task_ms_median, rep.task_ms_min, rep.task_ms_max,
        rep.minflt);
    if (rep.have_pages)
      std::printf(
          " obj_pages_shared=%zu obj_pages_private=%zu rc_pages_shared=%zu "
          "rc_pages_private=%zu gc_pages_shared=%zu gc_pages_private=%zu gc_pages_new=%zu "
          "obj_private_pct=%.2f rc_private_pct=%.2f gc_private_pct=%.2f "
          "heap_private_pct=%.2f\n",
          p.obj_shared, p.obj_private, p.rc_shared, p.rc_private, p.gc_shared, p.gc_private,
          p.gc_new, pct(p.obj_private, p.obj_shared), pct(p.rc_private, p.rc_shared),
          pct(p.gc_private, p.gc_shared),
          pct(p.obj_private + p.rc_private + p.gc_private,
              p.obj_shared + p.rc_shared + p.gc_shared));
    else std::printf(" pages=NA\n");
  }
  if (one.rss_kb > 0 && pss >= 0 && uss >= 0)
    std::printf(
        "%s prefork_memory workers=%d one_rss_kb=%ld parent_rss_kb=%ld parent_pss_kb=%ld "
        "pss_kb_sum=%ld uss_kb_sum=%ld rss_kb_sum=%ld pss_vs_one_rss=%.3f\n",
        vm, workers, one.rss_kb, parent.rss_kb, parent.pss_kb, pss, uss, rss,
        double(pss) / double(one.rss_kb));
  else std::printf("%s prefork_memory workers=%d memory=NA\n", vm, workers);
  std::fflush(stdout);
  return failed;
}

}  // namespace rca::vms
