/* What the C floor servers share (reference_server.c over epoll,
 * uring_reference_server.c over io_uring): the request parser (`PING` lines and
 * RESP multibulks, no allocation, no copy), the stop signals and the listener. */
#ifndef CORONET_BENCH_REFERENCE_COMMON_H
#define CORONET_BENCH_REFERENCE_COMMON_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const char pong[] = "+PONG\r\n";
static const char unknown[] = "-ERR unknown command\r\n";

/* Parses a `<prefix><digits>\r\n` header at p; returns the byte after it, or
 * NULL if incomplete; sets *bad on malformed input. */
static const char* parse_header(const char* p, const char* end, long* out, int* bad) {
  const char* nl = memchr(p, '\n', (size_t)(end - p));
  long v = 0;
  const char* d;
  if (nl == NULL)
    return NULL;
  if (nl - p < 3 || nl[-1] != '\r') {
    *bad = 1;
    return NULL;
  }
  for (d = p + 1; d < nl - 1; ++d) {
    if (*d < '0' || *d > '9' || v > 100000000) {
      *bad = 1;
      return NULL;
    }
    v = v * 10 + (*d - '0');
  }
  *out = v;
  return nl + 1;
}

/* Parses one request at p; returns its end (NULL if incomplete); *is_ping
 * tells whether it was PING; *bad on a protocol error. */
static const char* parse_request(const char* p, const char* end, int* is_ping, int* bad) {
  if (*p == '*') {
    long count = 0, i;
    const char* q = parse_header(p, end, &count, bad);
    const char* first = NULL;
    long first_len = 0;
    if (q == NULL)
      return NULL;
    for (i = 0; i < count; ++i) {
      long len = 0;
      if (q >= end)
        return NULL;
      if (*q != '$') {
        *bad = 1;
        return NULL;
      }
      q = parse_header(q, end, &len, bad);
      if (q == NULL)
        return NULL;
      if (end - q < len + 2)
        return NULL;
      if (i == 0) {
        first = q;
        first_len = len;
      }
      q += len + 2;
    }
    *is_ping = first_len == 4 && memcmp(first, "PING", 4) == 0;
    return q;
  } else {
    const char* nl = memchr(p, '\n', (size_t)(end - p));
    size_t len;
    if (nl == NULL)
      return NULL;
    len = (size_t)(nl - p);
    if (len > 0 && p[len - 1] == '\r')
      --len;
    *is_ping = len == 4 && memcmp(p, "PING", 4) == 0;
    return nl + 1;
  }
}

/* Writes the reply to a request (PING or not) at dst, which has room for the
 * longer one (sizeof unknown); returns its length. */
static size_t put_reply(char* dst, int is_ping) {
  const char* text = is_ping ? pong : unknown;
  const size_t len = is_ping ? sizeof pong - 1 : sizeof unknown - 1;
  memcpy(dst, text, len);
  return len;
}

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

/* SIGINT and SIGTERM set stop_requested; SIGPIPE is ignored. */
static void handle_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

/* A socket listening on 127.0.0.1:port (0: a free port) with `type_flags`
 * (SOCK_NONBLOCK...) added to SOCK_STREAM | SOCK_CLOEXEC; stores the port it
 * got in *bound. -1 (after perror) on failure. */
static int listen_loopback(int port, int type_flags, int* bound) {
  int one = 1;
  struct sockaddr_in addr;
  socklen_t addr_len = sizeof addr;
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | type_flags, 0);
  if (lfd < 0) {
    perror("socket");
    return -1;
  }
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons((unsigned short)port);
  if (bind(lfd, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(lfd, 4096) != 0) {
    perror("bind/listen");
    return -1;
  }
  getsockname(lfd, (struct sockaddr*)&addr, &addr_len);
  *bound = ntohs(addr.sin_port);
  return lfd;
}

#endif
