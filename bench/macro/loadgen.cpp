// Closed-loop load generator: N connections, each keeping P requests in
// flight (a reply arriving sends the next request), one thread, raw epoll, so
// it stays cheap per request. Reports requests/s over the measured window and
// latency percentiles from a log-linear histogram (~3% resolution).
//
// Usage:
//   loadgen --port P [--host 127.0.0.1] [--connections N] [--pipeline P]
//           [--duration S] [--warmup S] [--request ping|resp|timestamp]
//           [--server-pid PID] [--spin 1]
//   loadgen --port P --idle N [--hold S]
//
// Load mode: the whole run (connect, warm-up, measure) takes at most
// --duration seconds; the window from --warmup (or from when every connection
// is up, if later) to the end is measured. With --server-pid, the server's
// CPU time (utime+stime from /proc/PID/stat) over the window is reported per
// request. With --spin 1 it polls epoll without sleeping, so its own wake-up
// latency (large on VMs, where an idle vCPU halts) is not part of the server's
// round trip and a server that keeps up runs at 100% of its core; its
// loadgen_cpu_util is then ~1 by construction. Prints one line of key=value pairs.
//
// Idle mode: opens N connections, sends one PING on each and waits for every
// reply (so the server holds N live sessions), prints "ready", then holds them
// until --hold seconds pass or SIGTERM/SIGINT arrives.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

std::uint64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "loadgen: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

// Log-linear histogram of nanoseconds: 32 sub-buckets per power of two.
class histogram {
public:
  void record(std::uint64_t v) noexcept {
    ++counts_[index(v)];
    ++total_;
  }
  void clear() noexcept {
    counts_.fill(0);
    total_ = 0;
  }
  std::uint64_t total() const noexcept { return total_; }
  // Upper edge of the bucket holding the q-quantile.
  std::uint64_t quantile(double q) const noexcept {
    if (total_ == 0)
      return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank)
        return upper_edge(i);
    }
    return upper_edge(counts_.size() - 1);
  }

private:
  static constexpr unsigned sub_bits = 5;
  static constexpr std::uint64_t sub = 1u << sub_bits;
  static constexpr std::size_t buckets = sub * (64 - sub_bits + 1);

  static std::size_t index(std::uint64_t v) noexcept {
    if (v < sub)
      return static_cast<std::size_t>(v);
    const unsigned e = 63u - static_cast<unsigned>(std::countl_zero(v));
    return static_cast<std::size_t>(sub * (e - sub_bits + 1) + ((v >> (e - sub_bits)) - sub));
  }
  static std::uint64_t upper_edge(std::size_t i) noexcept {
    if (i < sub)
      return i;
    const std::uint64_t group = i / sub;  // >= 1
    const std::uint64_t e = group + sub_bits - 1;
    const std::uint64_t m = i % sub + sub;
    return ((m + 1) << (e - sub_bits)) - 1;
  }

  std::array<std::uint64_t, buckets> counts_{};
  std::uint64_t total_ = 0;
};

struct options {
  std::string host = "127.0.0.1";
  int port = 0;
  int connections = 50;
  int pipeline = 1;
  double duration = 5.0;
  double warmup = 1.0;
  std::string request = "ping";
  long server_pid = 0;
  int idle = 0;
  double hold = 3600.0;
  bool spin = false;
};

struct connection {
  int fd = -1;
  bool connected = false;
  bool line_start = true;
  unsigned in_flight = 0;
  std::size_t unsent = 0;           // bytes of the last batch the socket did not take
  unsigned owed = 0;                // requests to send once that batch is out
  std::vector<std::uint64_t> sent;  // send times of requests in flight, a ring
  std::size_t head = 0;             // oldest request in flight
};

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

// utime + stime of a process, in clock ticks; -1 if unreadable.
long long process_cpu_ticks(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  if (!std::getline(f, s))
    return -1;
  const std::size_t paren = s.rfind(')');
  if (paren == std::string::npos)
    return -1;
  // Fields after the command: 3=state ... 14=utime 15=stime.
  const char* p = s.c_str() + paren + 2;
  long long utime = 0, stime = 0;
  for (int field = 3; field <= 15; ++field) {
    char* end = nullptr;
    if (field == 14)
      utime = std::strtoll(p, &end, 10);
    else if (field == 15)
      stime = std::strtoll(p, &end, 10);
    p = std::strchr(p, ' ');
    if (p == nullptr)
      return field == 15 ? utime + stime : -1;
    ++p;
  }
  return utime + stime;
}

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void usage() {
  std::fprintf(stderr,
               "usage: loadgen --port P [--host H] [--connections N] [--pipeline P] [--duration S]\n"
               "               [--warmup S] [--request ping|resp|timestamp] [--server-pid PID] [--spin 1]\n"
               "       loadgen --port P --idle N [--hold S]\n");
  std::exit(2);
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc)
      usage();
    const char* v = argv[++i];
    if (a == "--host")
      o.host = v;
    else if (a == "--port")
      o.port = std::atoi(v);
    else if (a == "--connections")
      o.connections = std::atoi(v);
    else if (a == "--pipeline")
      o.pipeline = std::atoi(v);
    else if (a == "--duration")
      o.duration = std::atof(v);
    else if (a == "--warmup")
      o.warmup = std::atof(v);
    else if (a == "--request")
      o.request = v;
    else if (a == "--server-pid")
      o.server_pid = std::atol(v);
    else if (a == "--idle")
      o.idle = std::atoi(v);
    else if (a == "--hold")
      o.hold = std::atof(v);
    else if (a == "--spin")
      o.spin = std::atoi(v) != 0;
    else
      usage();
  }
  if (o.port <= 0 || o.connections <= 0 || o.pipeline <= 0 || o.duration <= 0)
    usage();
  return o;
}

std::string request_text(const std::string& kind) {
  if (kind == "ping")
    return "PING\r\n";
  if (kind == "resp")
    return "*1\r\n$4\r\nPING\r\n";
  if (kind == "timestamp")
    return "TIMESTAMP\r\n";
  std::fprintf(stderr, "loadgen: unknown request type '%s'\n", kind.c_str());
  std::exit(2);
}

int open_connection(const sockaddr_in& addr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die("socket");
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS)
    die("connect");
  return fd;
}

class generator {
public:
  explicit generator(const options& o) : opt_(o), request_(request_text(o.request)) {
    for (int i = 0; i < o.pipeline; ++i)
      batch_ += request_;
    addr_.sin_family = AF_INET;
    addr_.sin_port = htons(static_cast<unsigned short>(o.port));
    if (inet_pton(AF_INET, o.host.c_str(), &addr_.sin_addr) != 1) {
      std::fprintf(stderr, "loadgen: bad host '%s'\n", o.host.c_str());
      std::exit(2);
    }
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0)
      die("epoll_create1");
  }

  int run_load() {
    const std::uint64_t start = now_ns();
    const std::uint64_t deadline = start + static_cast<std::uint64_t>(opt_.duration * 1e9);
    std::uint64_t window_at = start + static_cast<std::uint64_t>(opt_.warmup * 1e9);
    connect_all(opt_.connections);
    bool measuring = false;
    std::uint64_t window_start = 0;
    long long cpu_start = -1;
    double self_start = 0;
    std::vector<epoll_event> events(1024);
    for (;;) {
      std::uint64_t t = now_ns();
      if (t >= deadline)
        break;
      if (!measuring && connected_ == conns_.size() && t >= window_at) {
        measuring = true;
        window_start = t;
        hist_.clear();
        replies_ = errors_ = 0;
        if (opt_.server_pid > 0)
          cpu_start = process_cpu_ticks(opt_.server_pid);
        self_start = self_cpu_seconds();
      }
      const std::uint64_t wake = measuring || connected_ < conns_.size() ? deadline : std::min(deadline, window_at);
      const int timeout_ms = opt_.spin ? 0 : static_cast<int>((wake - t + 999'999) / 1'000'000);
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), timeout_ms);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        die("epoll_wait");
      }
      for (int i = 0; i < n; ++i)
        on_event(conns_[events[i].data.u32], events[i].events, true);
    }
    const std::uint64_t end = now_ns();
    const long long cpu_end = opt_.server_pid > 0 ? process_cpu_ticks(opt_.server_pid) : -1;
    const double self_end = self_cpu_seconds();
    if (!measuring) {
      std::fprintf(stderr, "loadgen: only %zu of %zu connections were up before the deadline\n", connected_,
                   conns_.size());
      return 1;
    }
    const double seconds = static_cast<double>(end - window_start) / 1e9;
    const double rps = static_cast<double>(replies_) / seconds;
    std::printf("requests=%llu seconds=%.3f rps=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f errors=%llu",
                static_cast<unsigned long long>(replies_), seconds, rps, hist_.quantile(0.5) / 1e3,
                hist_.quantile(0.99) / 1e3, hist_.quantile(0.999) / 1e3, static_cast<unsigned long long>(errors_));
    if (cpu_start >= 0 && cpu_end >= 0 && replies_ > 0) {
      const double tick_ns = 1e9 / static_cast<double>(sysconf(_SC_CLK_TCK));
      const double cpu_ns = static_cast<double>(cpu_end - cpu_start) * tick_ns;
      std::printf(" server_cpu_ns_per_req=%.0f server_cpu_util=%.2f", cpu_ns / static_cast<double>(replies_),
                  cpu_ns / 1e9 / seconds);
    }
    std::printf(" loadgen_cpu_util=%.2f\n", (self_end - self_start) / seconds);
    return errors_ == 0 ? 0 : 3;
  }

  int run_idle() {
    connect_all(opt_.idle);
    std::vector<epoll_event> events(1024);
    const std::uint64_t give_up = now_ns() + 60'000'000'000ull;
    bool ready = false;
    const std::uint64_t hold_until_unset = ~0ull;
    std::uint64_t hold_until = hold_until_unset;
    while (!g_stop) {
      const std::uint64_t t = now_ns();
      if (!ready && t >= give_up) {
        std::fprintf(stderr, "loadgen: idle connections not all answered within 60 s (%llu of %zu)\n",
                     static_cast<unsigned long long>(replies_), conns_.size());
        return 1;
      }
      if (!ready && replies_ == conns_.size()) {
        ready = true;
        std::printf("ready connections=%zu\n", conns_.size());
        std::fflush(stdout);
        hold_until = t + static_cast<std::uint64_t>(opt_.hold * 1e9);
      }
      if (ready && t >= hold_until)
        break;
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 100);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        die("epoll_wait");
      }
      for (int i = 0; i < n; ++i)
        on_event(conns_[events[i].data.u32], events[i].events, false);
    }
    // Reset rather than close, so thousands of ports are not left in TIME_WAIT.
    const linger abort_close{1, 0};
    for (connection& c : conns_) {
      setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
      ::close(c.fd);
    }
    return 0;
  }

private:
  void connect_all(int count) {
    conns_.resize(static_cast<std::size_t>(count));
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      connection& c = conns_[i];
      c.fd = open_connection(addr_);
      c.sent.assign(static_cast<std::size_t>(opt_.pipeline), 0);
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.u32 = static_cast<std::uint32_t>(i);
      if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0)
        die("epoll_ctl");
    }
  }

  void set_events(const connection& c, std::size_t index, std::uint32_t what) {
    epoll_event ev{};
    ev.events = what;
    ev.data.u32 = static_cast<std::uint32_t>(index);
    if (epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev) != 0)
      die("epoll_ctl");
  }

  // Sends `count` requests stamped `t`, or retries the rest of a partly sent
  // batch; requests owed while a batch was blocked go out after it.
  void send_requests(connection& c, unsigned count, std::uint64_t t) {
    const bool was_blocked = c.unsent > 0;
    if (!was_blocked) {
      for (unsigned i = 0; i < count; ++i)
        c.sent[(c.head + c.in_flight + i) % c.sent.size()] = t;
      c.in_flight += count;
    }
    const std::size_t bytes = was_blocked ? c.unsent : count * request_.size();
    const char* data = batch_.data() + (batch_.size() - bytes);
    const ssize_t w = ::write(c.fd, data, bytes);
    if (w < 0 && errno != EAGAIN)
      die("write");
    c.unsent = bytes - (w < 0 ? 0 : static_cast<std::size_t>(w));
    const std::size_t index = static_cast<std::size_t>(&c - conns_.data());
    if (c.unsent > 0 && !was_blocked)
      set_events(c, index, EPOLLIN | EPOLLOUT);
    else if (c.unsent == 0 && was_blocked) {
      set_events(c, index, EPOLLIN);
      if (c.owed > 0)
        send_requests(c, std::exchange(c.owed, 0u), t);
    }
  }

  void on_event(connection& c, std::uint32_t what, bool load) {
    const std::size_t index = static_cast<std::size_t>(&c - conns_.data());
    if (!c.connected) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        errno = err;
        die("connect");
      }
      c.connected = true;
      ++connected_;
      set_events(c, index, EPOLLIN);
      send_requests(c, load ? static_cast<unsigned>(opt_.pipeline) : 1u, now_ns());
      return;
    }
    if ((what & EPOLLOUT) && c.unsent > 0)
      send_requests(c, 0, now_ns());
    if (!(what & (EPOLLIN | EPOLLHUP | EPOLLERR)))
      return;
    char buf[64 * 1024];
    const ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n == 0) {
      std::fprintf(stderr, "loadgen: the server closed a connection\n");
      std::exit(3);
    }
    if (n < 0) {
      if (errno == EAGAIN)
        return;
      die("read");
    }
    const std::uint64_t t = now_ns();
    unsigned complete = 0;
    for (ssize_t i = 0; i < n; ++i) {
      if (c.line_start) {
        if (buf[i] == '-' || buf[i] == 'E')
          ++errors_;
        c.line_start = false;
      }
      if (buf[i] == '\n') {
        c.line_start = true;
        ++complete;
      }
    }
    if (complete > c.in_flight) {
      std::fprintf(stderr, "loadgen: more replies than requests (a reply spanning lines?)\n");
      std::exit(3);
    }
    for (unsigned i = 0; i < complete; ++i) {
      hist_.record(t - c.sent[c.head]);
      c.head = (c.head + 1) % c.sent.size();
    }
    c.in_flight -= complete;
    replies_ += complete;
    if (load && complete > 0) {
      if (c.unsent == 0)
        send_requests(c, complete, t);
      else
        c.owed += complete;
    }
  }

  options opt_;
  std::string request_;
  std::string batch_;
  sockaddr_in addr_{};
  int ep_ = -1;
  std::vector<connection> conns_;
  std::size_t connected_ = 0;
  histogram hist_;
  std::uint64_t replies_ = 0;
  std::uint64_t errors_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const options o = parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto g = std::make_unique<generator>(o);
  return o.idle > 0 ? g->run_idle() : g->run_load();
}
