#include "prefork.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <vector>

namespace rca::vms {

namespace {

struct worker_report {
  int ok;
  double ms;
  long minflt;
  bool have_pages;
  cow_counts pages;
};

double pct(std::size_t a, std::size_t b) { return b ? 100.0 * double(a) / double(b) : 0.0; }

[[noreturn]] void worker(int fd, cow_range rc, const cow_range *skip, std::size_t nskip,
                         const std::function<bool()> &task) {
  worker_report rep{};
  cow_probe *probe = cow_begin(rc.lo, rc.hi, skip, nskip);
  rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  const auto t = std::chrono::steady_clock::now();
  rep.ok = task() ? 1 : 0;
  rep.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  getrusage(RUSAGE_SELF, &ru1);
  rep.minflt = ru1.ru_minflt - ru0.ru_minflt;
  rep.have_pages = probe && cow_end(probe, &rep.pages);
  const ssize_t wr = write(fd, &rep, sizeof rep);
  (void)wr;
  std::fflush(stderr);
  _exit(rep.ok ? 0 : 1);
}

}  // namespace

int run_prefork_workers(const char *vm, int workers, cow_range rc, const cow_range *skip,
                        std::size_t nskip, const std::function<bool()> &task,
                        const prefork_hooks &hooks) {
  std::vector<pid_t> pids;
  std::vector<int> fds;
  for (int w = 0; w < workers; ++w) {
    int fd[2];
    if (pipe(fd) != 0) {
      std::fprintf(stderr, "%s: pipe: ", vm);
      std::perror(nullptr);
      return -1;
    }
    if (hooks.before_fork) hooks.before_fork();
    const pid_t pid = fork();
    if (pid == 0) {
      if (hooks.after_fork_child) hooks.after_fork_child();
      close(fd[0]);
      worker(fd[1], rc, skip, nskip, task);
    }
    if (hooks.after_fork_parent) hooks.after_fork_parent();
    if (pid < 0) {
      std::fprintf(stderr, "%s: fork: ", vm);
      std::perror(nullptr);
      return -1;
    }
    close(fd[1]);
    pids.push_back(pid);
    fds.push_back(fd[0]);
  }
  int failed = 0;
  for (int w = 0; w < workers; ++w) {
    worker_report rep{};
    const ssize_t got = read(fds[w], &rep, sizeof rep);
    close(fds[w]);
    int status = 0;
    waitpid(pids[w], &status, 0);
    const bool ok = got == ssize_t(sizeof rep) && rep.ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    failed += !ok;
    const cow_counts &p = rep.pages;
    if (rep.have_pages)
      std::printf("%s worker id=%d ok=%d ms=%.3f minflt=%ld obj_pages_shared=%zu obj_pages_private=%zu "
                  "rc_pages_shared=%zu rc_pages_private=%zu obj_private_pct=%.2f rc_private_pct=%.2f "
                  "heap_private_pct=%.2f\n",
                  vm, w, ok ? 1 : 0, rep.ms, rep.minflt, p.obj_shared, p.obj_private, p.rc_shared,
                  p.rc_private, pct(p.obj_private, p.obj_shared), pct(p.rc_private, p.rc_shared),
                  pct(p.obj_private + p.rc_private, p.obj_shared + p.rc_shared));
    else
      std::printf("%s worker id=%d ok=%d ms=%.3f minflt=%ld pages=NA\n", vm, w, ok ? 1 : 0, rep.ms,
                  rep.minflt);
  }
  std::fflush(stdout);
  return failed;
}

}  // namespace rca::vms
