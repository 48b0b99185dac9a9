// C6 — "the pickle overhead is huge compared to the low-level IPC".
//
// A parent sends to a child (a) raw bytes and (b) an object graph that it serialises, which the
// child deserialises into new objects, over a pipe, a unix socket, and shared memory (bytes in a
// shared mapping, a pipe for the 8-byte handshake). Each round trip ends with the child's reply,
// which carries its deserialisation time. Raw runs send exactly as many bytes as the serialised
// graph, so the two differ only by the (de)serialisation.
#include "../harness/measure.hpp"
#include "../harness/progress.hpp"
#include "experiment.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace rca::lab {
namespace {

// ---- A small object graph and a straightforward serialiser (tag, varint, payload) -----------
struct node {
  enum kind : std::uint8_t { integer = 1, real = 2, text = 3, list = 4 } k;
  std::int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<node *> items;
};

struct graph {
  std::vector<std::unique_ptr<node>> pool;
  node *root = nullptr;
  node *make(node::kind k) {
    pool.push_back(std::make_unique<node>());
    pool.back()->k = k;
    return pool.back().get();
  }
};

// records x [id, score, name, [a, b, c]]: 8 nodes per record, like a list of small tuples.
graph make_graph(std::size_t records, std::uint64_t seed) {
  graph g;
  std::mt19937_64 rng(seed);
  g.root = g.make(node::list);
  for (std::size_t r = 0; r < records; ++r) {
    node *rec = g.make(node::list);
    node *id = g.make(node::integer);
    id->i = static_cast<std::int64_t>(r);
    node *score = g.make(node::real);
    score->d = static_cast<double>(rng() % 100000) / 7.0;
    node *name = g.make(node::text);
    name->s = "object-" + std::to_string(rng() % 1000000);
    node *inner = g.make(node::list);
    for (int k = 0; k < 3; ++k) {
      node *x = g.make(node::integer);
      x->i = static_cast<std::int64_t>(rng() % 1000);
      inner->items.push_back(x);
    }
    rec->items = {id, score, name, inner};
    g.root->items.push_back(rec);
  }
  return g;
}

void put_varint(std::vector<char> &out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void serialise(const node *n, std::vector<char> &out) {
  out.push_back(static_cast<char>(n->k));
  switch (n->k) {
    case node::integer:
      put_varint(out,
                 (static_cast<std::uint64_t>(n->i) << 1) ^ static_cast<std::uint64_t>(n->i >> 63));
      break;
    case node::real: {
      char b[8];
      std::memcpy(b, &n->d, 8);
      out.insert(out.end(), b, b + 8);
      break;
    }
    case node::text:
      put_varint(out, n->s.size());
      out.insert(out.end(), n->s.begin(), n->s.end());
      break;
    case node::list:
      put_varint(out, n->items.size());
      for (const node *c : n->items) serialise(c, out);
      break;
  }
}

struct reader {
  const char *p, *end;
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; p < end; shift += 7) {
      auto b = static_cast<unsigned char>(*p++);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    return v;
  }
};

node *deserialise(reader &r, graph &g) {
  if (r.p >= r.end) throw std::runtime_error("ipc: truncated message");
  auto k = static_cast<node::kind>(*r.p++);
  node *n = g.make(k);
  switch (k) {
    case node::integer: {
      std::uint64_t z = r.varint();
      n->i = static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
      break;
    }
    case node::real:
      std::memcpy(&n->d, r.p, 8);
      r.p += 8;
      break;
    case node::text: {
      std::size_t len = r.varint();
      n->s.assign(r.p, len);
      r.p += len;
      break;
    }
    case node::list: {
      std::size_t len = r.varint();
      n->items.reserve(len);
      for (std::size_t i = 0; i < len; ++i) n->items.push_back(deserialise(r, g));
      break;
    }
    default: throw std::runtime_error("ipc: bad tag");
  }
  return n;
}

// ---- Transports ----------------------------------------------------------------------------
void write_all(int fd, const void *buf, std::size_t len) {
  auto *p = static_cast<const char *>(buf);
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw std::runtime_error(std::string("ipc: write: ") + std::strerror(errno));
    p += w;
    len -= static_cast<std::size_t>(w);
  }
}

bool read_all(int fd, void *buf, std::size_t len) {
  auto *p = static_cast<char *>(buf);
  while (len) {
    ssize_t r = read(fd, p, len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    len -= static_cast<std::size_t>(r);
  }
  return true;
}

enum class transport { pipe, unix_socket, shm };
const char *transport_name(transport t) {
  return t == transport::pipe ? "pipe" : t == transport::unix_socket ? "unix_socket" : "shm";
}

// A child serving messages: header = 8-byte length (0 = stop) + 1-byte mode (0 raw, 1 graph).
// Its reply is 8 bytes: the nanoseconds it spent deserialising (0 for raw).
class peer {
 public:
  peer(transport t, std::size_t capacity) : t_(t), cap_(capacity) {
    int down[2], up[2];
    if (t == transport::unix_socket) {
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, down) != 0)
        throw std::runtime_error("ipc: socketpair");
      up[0] = dup(down[0]);
      up[1] = dup(down[1]);
    } else {
      if (pipe2(down, O_CLOEXEC) != 0 || pipe2(up, O_CLOEXEC) != 0)
        throw std::runtime_error("ipc: pipe");
    }
    if (t == transport::shm) {
      shm_ = static_cast<char *>(
          mmap(nullptr, cap_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
      if (shm_ == MAP_FAILED) throw std::runtime_error("ipc: mmap");
    }
    std::fflush(nullptr);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("ipc: fork");
    if (pid_ == 0) {
      // Child: for a socket pair, down[1] is our end (both directions); for pipes, down[0]/up[1].
      int in = t == transport::unix_socket ? down[1] : down[0];
      int out = t == transport::unix_socket ? down[1] : up[1];
      serve(in, out);
      _exit(0);
    }
    if (t == transport::unix_socket) {
      close(down[1]);
      close(up[0]);
      close(up[1]);
      out_ = in_ = down[0];
    } else {
      close(down[0]);
      close(up[1]);
      out_ = down[1];
      in_ = up[0];
    }
  }
  ~peer() {
    std::uint64_t stop = 0;
    char mode = 0;
    try {
      write_all(out_, &stop, 8);
      write_all(out_, &mode, 1);
    } catch (...) {
    }
    int st;
    waitpid(pid_, &st, 0);
    close(out_);
    if (in_ != out_) close(in_);
    if (shm_) munmap(shm_, cap_);
  }
  char *shm() { return shm_; }
  /// Sends len bytes (already in shm for the shm transport); returns the child's deserialise ns.
  double round_trip(const char *data, std::size_t len, bool graph_mode) {
    std::uint64_t l = len;
    char mode = graph_mode ? 1 : 0;
    write_all(out_, &l, 8);
    write_all(out_, &mode, 1);
    if (t_ != transport::shm) write_all(out_, data, len);
    std::uint64_t ns = 0;
    if (!read_all(in_, &ns, 8)) throw std::runtime_error("ipc: child went away");
    return static_cast<double>(ns);
  }

 private:
  void serve(int in, int out) {
    // Keep freed memory in the process: otherwise every message pays page faults for a fresh
    // heap (expensive in this VM), which is not what a long-running worker sees.
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    std::vector<char> buf(cap_);
    for (;;) {
      std::uint64_t len = 0;
      char mode = 0;
      if (!read_all(in, &len, 8) || !read_all(in, &mode, 1) || len == 0) return;
      const char *data;
      if (t_ == transport::shm) {
        // Receiving from shared memory still copies out for raw mode (what read() would do);
        // graph mode deserialises straight from the shared bytes.
        if (mode == 0) std::memcpy(buf.data(), shm_, len);
        data = shm_;
      } else {
        if (!read_all(in, buf.data(), len)) return;
        data = buf.data();
      }
      std::uint64_t ns = 0;
      if (mode == 1) {
        double t0 = now_ns();
        graph g;
        reader r{data, data + len};
        g.root = deserialise(r, g);
        ns = static_cast<std::uint64_t>(now_ns() - t0);  // includes building, not freeing
      }
      write_all(out, &ns, 8);
    }
  }
  transport t_;
  std::size_t cap_;
  char *shm_ = nullptr;
  pid_t pid_ = -1;
  int out_ = -1, in_ = -1;
};

}  // namespace

int run_ipc(context &ctx) {
  const options &opt = ctx.opt;
  const std::size_t records = opt.objects.empty()
                                  ? (opt.quick ? 20000 : 200000)
                                  : std::max<std::size_t>(1, opt.objects.front() / 8);
  graph g = make_graph(records, opt.seed);
  const std::size_t nodes = g.pool.size();
  std::vector<char> probe;
  serialise(g.root, probe);
  const std::size_t bytes = probe.size();
  std::vector<char> raw(bytes, 'x');

  progress bar("ipc", 3);
  for (transport t : {transport::pipe, transport::unix_socket, transport::shm}) {
    peer p(t, bytes + 4096);
    // Raw and serialised are compared: their repetitions are interleaved (rep i of both back to
    // back).
    const char *modes[] = {"raw", "serialised"};
    std::vector<double> ser_ns, deser_ns;
    std::vector<char> buf;
    buf.reserve(bytes);
    std::vector<std::function<double()>> bodies;
    for (const char *mode : modes) {
      const bool gm = mode[0] == 's';
      bodies.push_back([&, gm] {
        double t0 = now_ns();
        if (gm) {
          buf.clear();
          serialise(g.root, buf);
          double t1 = now_ns();
          if (t == transport::shm)
            std::memcpy(p.shm(), buf.data(),
                        buf.size());  // the serialiser's output lands in the segment
          const double d = p.round_trip(buf.data(), buf.size(), true);
          ser_ns.push_back(t1 - t0);
          deser_ns.push_back(d);
        } else {
          if (t == transport::shm) std::memcpy(p.shm(), raw.data(), bytes);
          p.round_trip(raw.data(), bytes, false);
        }
        return now_ns() - t0;
      });
    }
    const auto series = repeat_interleaved(ctx.counters, opt.warmup, opt.reps, bodies);
    ser_ns.erase(ser_ns.begin(),
                 ser_ns.begin() + std::min<std::ptrdiff_t>(
                                      opt.warmup, static_cast<std::ptrdiff_t>(ser_ns.size())));
    deser_ns.erase(
        deser_ns.begin(),
        deser_ns.begin() +
            std::min<std::ptrdiff_t>(opt.warmup, static_cast<std::ptrdiff_t>(deser_ns.size())));
    for (std::size_t mi = 0; mi < std::size(modes); ++mi) {
      const char *mode = modes[mi];
      const bool gm = mode[0] == 's';
      const std::vector<sample> &samples = series[mi];
      row r = ctx.base("ipc", "C6");
      r.set("variant", mode)
          .set("placement", "none")
          .set("handle", "none")
          .na("slot_bits")
          .set("semantics", "none");
      r.set("backend", "system")
          .set("objects", nodes)
          .set("working_set_bytes", bytes)
          .set("threads", 2)
          .set("method", "wall_clock");
      r.param("transport", transport_name(t))
          .param("records", static_cast<double>(records))
          .param("message_bytes", static_cast<double>(bytes));
      r.param("child_malloc", "no_trim").param("reps", "interleaved");
      auto scaled = [&](double div) {
        auto v = samples;
        for (auto &s : v) s.value /= div;
        return v;
      };
      auto per_byte = scaled(static_cast<double>(bytes));
      auto mbps = samples;
      for (auto &s : mbps) s.value = static_cast<double>(bytes) / s.value * 1e9 / 1e6;
      emit_series(ctx.out, "ipc", r, "round_trip_ns", "ns", samples);
      emit_series(ctx.out, "ipc", r, "ns_per_byte", "ns", per_byte);
      emit_series(ctx.out, "ipc", r, "ns_per_object", "ns", scaled(static_cast<double>(nodes)));
      emit_series(ctx.out, "ipc", r, "throughput", "MB/s", mbps);
      if (gm) {
        std::vector<sample> s1, s2;
        for (double v : ser_ns) s1.push_back(sample{v / static_cast<double>(nodes), {}});
        for (double v : deser_ns) s2.push_back(sample{v / static_cast<double>(nodes), {}});
        if (!s1.empty()) emit_series(ctx.out, "ipc", r, "serialise_ns_per_object", "ns", s1);
        if (!s2.empty()) emit_series(ctx.out, "ipc", r, "deserialise_ns_per_object", "ns", s2);
      }
    }
    bar.step(transport_name(t));
  }

  // Verdicts: experiments/plots/verdicts.py reads these rows (rule table there).
  return 0;
}

}  // namespace rca::lab
