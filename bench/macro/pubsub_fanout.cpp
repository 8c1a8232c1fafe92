// Pub/Sub fan-out load: N subscribers on one channel, one publisher pipelining PUBLISH
// commands of a fixed-size payload that carries its send time; prints messages delivered per
// second over all subscribers and the publisher-to-subscriber latency (p50, p99). Speaks
// plain RESP2, so it measures redis-server and a coronet server alike.
//
// With --slow K, K more subscribers subscribe and then never read: the server must neither
// slow the publisher nor the others for them (compare p99 with and without).
//
// With --rate R the publisher is paced: a window of W PUBLISHes leaves every W/R seconds,
// each carrying the time it was due (not the time it left), so a stall shows in the
// latency instead of hiding in a later start (no coordinated omission). Latency is only
// comparable at an offered load both servers sustain; unpaced, the publisher sends as fast
// as the replies come back and the latency is the queueing of whichever side is saturated.
//
// With --server-pid PID, the server's CPU use over the measured seconds is printed too
// (user + system time from /proc/PID/stat): at 100% the server is the bottleneck, below it
// the load generator (or the round trip) is.
//
// Usage: pubsub_fanout [--port P] [--subscribers N] [--seconds S] [--payload BYTES]
//                      [--window W] [--threads T] [--slow K] [--rate R] [--server-pid PID]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch()).count());
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) {
      std::perror("write");
      std::exit(1);
    }
    off += static_cast<std::size_t>(n);
  }
}

void read_exactly(int fd, std::size_t n) {
  std::string buf(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, buf.data() + got, n - got);
    if (r <= 0) {
      std::perror("read");
      std::exit(1);
    }
    got += static_cast<std::size_t>(r);
  }
}

// Appended piece by piece: g++ 12 at -O3 reports a false -Wrestrict inside
// `"literal" + std::string&&` (GCC bug 105329).
std::string bulk(const std::string& s) {
  std::string out = "$";
  out += std::to_string(s.size());
  out += "\r\n";
  out += s;
  out += "\r\n";
  return out;
}

// User + system CPU seconds of process `pid` so far; 0 when it cannot be read.
double cpu_seconds(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(f, stat);
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos)
    return 0;
  // After the command name: state (field 3) ... utime (14), stime (15).
  std::istringstream rest(stat.substr(close_paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14)
      utime = std::strtod(field.c_str(), nullptr);
    if (i == 15)
      stime = std::strtod(field.c_str(), nullptr);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

struct subscriber_state {
  int fd;
  std::string partial;  // bytes of an incomplete frame
};

struct options {
  int port = 8099;
  int subscribers = 1000;
  int seconds = 5;
  std::size_t payload = 64;
  int window = 16;
  int threads = 2;
  int slow = 0;
  long rate = 0;        // PUBLISHes per second; 0: as fast as the replies come back
  long server_pid = 0;  // 0: no CPU figure
};

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const long v = std::strtol(argv[i + 1], nullptr, 10);
    if (k == "--port") o.port = static_cast<int>(v);
    else if (k == "--subscribers") o.subscribers = static_cast<int>(v);
    else if (k == "--seconds") o.seconds = static_cast<int>(v);
    else if (k == "--payload") o.payload = static_cast<std::size_t>(std::max(17L, v));
    else if (k == "--window") o.window = static_cast<int>(v);
    else if (k == "--threads") o.threads = static_cast<int>(v);
    else if (k == "--slow") o.slow = static_cast<int>(v);
    else if (k == "--rate") o.rate = std::max(0L, v);
    else if (k == "--server-pid") o.server_pid = v;
    else {
      std::fprintf(stderr, "pubsub_fanout: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  const std::string channel = "fanout";
  const std::string frame_head = "*3\r\n$7\r\nmessage\r\n" + bulk(channel) + "$" + std::to_string(o.payload) + "\r\n";
  const std::size_t frame_size = frame_head.size() + o.payload + 2;
  const std::string confirmation = "*3\r\n" + bulk("subscribe") + bulk(channel) + ":1\r\n";

  std::vector<subscriber_state> subs;
  for (int i = 0; i < o.subscribers; ++i) {
    const int fd = connect_to(o.port);
    write_all(fd, "*2\r\n$9\r\nSUBSCRIBE\r\n" + bulk(channel));
    read_exactly(fd, confirmation.size());
    subs.push_back({fd, {}});
  }

  // Subscribed, then never read again (closed at the end).
  std::vector<int> slow;
  for (int i = 0; i < o.slow; ++i) {
    const int fd = connect_to(o.port);
    write_all(fd, "*2\r\n$9\r\nSUBSCRIBE\r\n" + bulk(channel));
    read_exactly(fd, confirmation.size());
    slow.push_back(fd);
  }

  std::atomic<bool> measuring{false};
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> delivered{0};
  std::vector<std::vector<std::uint32_t>> latencies(static_cast<std::size_t>(o.threads));
  std::vector<std::thread> readers;
  for (int t = 0; t < o.threads; ++t)
    readers.emplace_back([&, t] {
      const int ep = ::epoll_create1(0);
      for (std::size_t i = static_cast<std::size_t>(t); i < subs.size(); i += static_cast<std::size_t>(o.threads)) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = &subs[i];
        ::epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].fd, &ev);
      }
      std::vector<char> buf(1 << 18);
      epoll_event events[256];
      std::uint64_t mine = 0;
      std::uint64_t sampled = 0;
      auto& lat = latencies[static_cast<std::size_t>(t)];
      while (!done.load(std::memory_order_relaxed)) {
        const int n = ::epoll_wait(ep, events, 256, 100);
        for (int e = 0; e < n; ++e) {
          auto* s = static_cast<subscriber_state*>(events[e].data.ptr);
          const ssize_t r = ::read(s->fd, buf.data(), buf.size());
          if (r <= 0)
            continue;
          s->partial.append(buf.data(), static_cast<std::size_t>(r));
          const std::size_t frames = s->partial.size() / frame_size;
          if (measuring.load(std::memory_order_relaxed)) {
            mine += frames;
            // The send time of one frame in 64: enough samples, little work.
            const std::uint64_t t_now = now_ns();
            for (std::size_t f = 0; f < frames; ++f)
              if ((sampled++ & 63) == 0) {
                const char* ts = s->partial.data() + f * frame_size + frame_head.size();
                const std::uint64_t sent = std::strtoull(std::string(ts, 16).c_str(), nullptr, 16);
                lat.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(t_now - sent, UINT32_MAX)));
              }
          }
          s->partial.erase(0, frames * frame_size);
        }
      }
      delivered.fetch_add(mine);
      ::close(ep);
    });

  // The publisher: `window` PUBLISH commands per write, then their replies.
  const int pub = connect_to(o.port);
  std::uint64_t published = 0;
  const auto interval = std::chrono::nanoseconds(o.rate > 0 ? 1'000'000'000LL * o.window / o.rate : 0);
  const auto publish_for = [&](std::chrono::milliseconds how_long) {
    const auto end = clock_type::now() + how_long;
    std::string batch;
    std::vector<char> rbuf(1 << 16);
    auto due = clock_type::now();
    while (clock_type::now() < end) {
      if (o.rate > 0) {
        std::this_thread::sleep_until(due);
      } else {
        due = clock_type::now();
      }
      const auto stamp = static_cast<unsigned long long>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(due.time_since_epoch()).count());
      due += interval;
      batch.clear();
      for (int i = 0; i < o.window; ++i) {
        char ts[17];
        std::snprintf(ts, sizeof ts, "%016llx", stamp);
        std::string payload(ts, 16);
        payload.resize(o.payload, 'x');
        batch += "*3\r\n$7\r\nPUBLISH\r\n" + bulk(channel) + bulk(payload);
      }
      write_all(pub, batch);
      int lines = 0;
      while (lines < o.window) {
        const ssize_t r = ::read(pub, rbuf.data(), rbuf.size());
        if (r <= 0) {
          std::perror("publisher read");
          std::exit(1);
        }
        lines += static_cast<int>(std::count(rbuf.data(), rbuf.data() + r, '\n'));
      }
      published += static_cast<std::uint64_t>(o.window);
    }
  };
  publish_for(std::chrono::milliseconds(500));  // warm-up
  published = 0;
  measuring = true;
  const double cpu_before = o.server_pid > 0 ? cpu_seconds(o.server_pid) : 0;
  const auto started = clock_type::now();
  publish_for(std::chrono::seconds(o.seconds));
  const double elapsed = std::chrono::duration<double>(clock_type::now() - started).count();
  const double server_cpu = o.server_pid > 0 ? (cpu_seconds(o.server_pid) - cpu_before) / elapsed : 0;
  measuring = false;
  done = true;
  for (auto& r : readers)
    r.join();
  std::vector<std::uint32_t> all;
  for (auto& l : latencies)
    all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  const auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))] / 1000.0;
  };
  std::printf("subscribers %d (+%d never reading) payload %zu window %d: published %.0f/s, delivered %.0f msg/s, latency p50 %.0f us "
              "p99 %.0f us",
              o.subscribers, o.slow, o.payload, o.window, published / elapsed, delivered.load() / elapsed, pct(0.50),
              pct(0.99));
  if (o.server_pid > 0)
    std::printf(", server cpu %.0f%%", 100 * server_cpu);
  std::printf("\n");
  for (auto& s : subs)
    ::close(s.fd);
  for (const int fd : slow)
    ::close(fd);
  ::close(pub);
  return 0;
}
