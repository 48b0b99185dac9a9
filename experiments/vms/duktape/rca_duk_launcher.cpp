// rca-duk: the front door. The count location and the freeze check are compiled into each
// Duktape build (rca-duk-<variant> beside this program); this picks one and runs it with the
// remaining arguments.
//   --variant V    inline-freeze | inline-nofreeze | ptr-freeze | ptr-nofreeze | idx-freeze |
//   idx-nofreeze
//                  | computed-freeze | computed-nofreeze
// Default: inline-freeze for --placement inline (or RCA_PLACEMENT=inline), computed-freeze for
// computed, idx-freeze otherwise.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  std::string variant;
  const char *placement = std::getenv("RCA_PLACEMENT");
  std::vector<char *> args;
  args.push_back(nullptr);  // argv[0], set below
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--variant") == 0 && i + 1 < argc) {
      variant = argv[++i];
      continue;
    }
    if (std::strcmp(argv[i], "--placement") == 0 && i + 1 < argc) placement = argv[i + 1];
    args.push_back(argv[i]);
  }
  if (variant.empty())
    variant = placement && std::strcmp(placement, "inline") == 0     ? "inline-freeze"
              : placement && std::strcmp(placement, "computed") == 0 ? "computed-freeze"
                                                                     : "idx-freeze";
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    std::perror("rca-duk: readlink /proc/self/exe");
    return 2;
  }
  self[n] = 0;
  std::string dir(self);
  dir.resize(dir.rfind('/') + 1);
  const std::string target = dir + "rca-duk-" + variant;
  args[0] = const_cast<char *>(target.c_str());
  args.push_back(nullptr);
  execv(target.c_str(), args.data());
  std::fprintf(stderr, "rca-duk: no build of variant '%s' (%s: %s); see RCA_DUK_VARIANTS\n",
               variant.c_str(), target.c_str(), std::strerror(errno));
  return 2;
}
