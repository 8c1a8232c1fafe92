/* The practical floor for a PING server: one thread, level-triggered epoll,
 * non-blocking sockets, no allocation per request.
 *
 * Answers every `PING` line (`\r\n` or `\n`) and every RESP multibulk whose
 * first element is `PING` (e.g. `*1\r\n$4\r\nPING\r\n`) with `+PONG\r\n`; any
 * other request gets `-ERR unknown command\r\n`. All replies produced by one
 * read go out in one write.
 *
 * With `http`, it is the floor for an HTTP/1.1 keep-alive server instead: every
 * request head (up to its blank line; no body is read) gets one fixed
 * `200` response with the body `PONG`, so that bench/compare can show what wrk
 * reaches against the cheapest server there is.
 *
 * Usage: reference_server [port [http]]   (port 0 or absent: a free one)
 * Prints the port on stdout, then serves 127.0.0.1 until SIGINT/SIGTERM. */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reference_common.h"

enum { in_capacity = 4096, out_capacity = 64 * 1024, max_events = 256 };

static const char http_pong[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nPONG";
static int http_mode = 0;

/* The end of the request head at p (after its blank line), or NULL if incomplete. */
static const char* parse_http_head(const char* p, const char* end) {
  const char* blank = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
  return blank == NULL ? NULL : blank + 4;
}

struct conn {
  int fd;
  size_t in_len;
  char* pending; /* replies a full socket buffer could not take */
  size_t pending_len;
  char in[in_capacity];
};


static void close_conn(int ep, struct conn* c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->pending);
  free(c);
}

/* Writes what it can; keeps the rest and asks for EPOLLOUT. 0 on success. */
static int send_out(int ep, struct conn* c, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = write(c->fd, data, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      return -1;
    }
    data += w;
    n -= (size_t)w;
  }
  if (n > 0) {
    struct epoll_event ev;
    char* grown = realloc(c->pending, c->pending_len + n);
    if (grown == NULL)
      return -1;
    memcpy(grown + c->pending_len, data, n);
    c->pending = grown;
    c->pending_len += n;
    ev.events = EPOLLOUT;
    ev.data.ptr = c;
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  }
  return 0;
}

/* Returns -1 when the connection must be closed. */
static int on_readable(int ep, struct conn* c) {
  static char out[out_capacity];
  size_t out_len = 0;
  for (;;) {
    const size_t room = in_capacity - c->in_len;
    ssize_t n = read(c->fd, c->in + c->in_len, room);
    const char *p, *end;
    if (n == 0)
      return -1;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      return -1;
    }
    c->in_len += (size_t)n;
    p = c->in;
    end = c->in + c->in_len;
    while (p < end) {
      int is_ping = 0, bad = 0;
      const char* next = http_mode ? parse_http_head(p, end) : parse_request(p, end, &is_ping, &bad);
      if (bad)
        return -1;
      if (next == NULL)
        break;
      if (out_len + sizeof http_pong > out_capacity) {
        if (send_out(ep, c, out, out_len) != 0)
          return -1;
        out_len = 0;
      }
      if (http_mode) {
        memcpy(out + out_len, http_pong, sizeof http_pong - 1);
        out_len += sizeof http_pong - 1;
      } else {
        out_len += put_reply(out + out_len, is_ping);
      }
      p = next;
    }
    c->in_len = (size_t)(end - p);
    if (c->in_len == in_capacity)
      return -1; /* one request larger than the buffer */
    if (c->in_len > 0 && p != c->in)
      memmove(c->in, p, c->in_len);
    if ((size_t)n < room)
      break; /* the socket is most likely drained: skip the EAGAIN read */
  }
  if (out_len > 0 && send_out(ep, c, out, out_len) != 0)
    return -1;
  return 0;
}

static int on_writable(int ep, struct conn* c) {
  char* data = c->pending;
  size_t n = c->pending_len;
  struct epoll_event ev;
  c->pending = NULL;
  c->pending_len = 0;
  if (send_out(ep, c, data, n) != 0) {
    free(data);
    return -1;
  }
  free(data);
  if (c->pending_len == 0) {
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  }
  return 0;
}

int main(int argc, char** argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  int one = 1;
  int lfd, ep;
  struct epoll_event ev, events[max_events];

  if (argc > 2 && strcmp(argv[2], "http") != 0) {
    fprintf(stderr, "usage: reference_server [port [http]]\n");
    return 2;
  }
  http_mode = argc > 2;
  handle_signals();
  lfd = listen_loopback(port, SOCK_NONBLOCK, &port);
  if (lfd < 0)
    return 1;
  printf("%d\n", port);
  fflush(stdout);

  ep = epoll_create1(EPOLL_CLOEXEC);
  ev.events = EPOLLIN;
  ev.data.ptr = NULL; /* NULL marks the listener */
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);

  while (!stop_requested) {
    int n = epoll_wait(ep, events, max_events, -1), i;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      perror("epoll_wait");
      return 1;
    }
    for (i = 0; i < n; ++i) {
      struct conn* c = events[i].data.ptr;
      if (c == NULL) {
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          struct conn* nc;
          if (fd < 0)
            break; /* EAGAIN, or out of descriptors: retried on the next wakeup */
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          nc = malloc(sizeof *nc);
          if (nc == NULL) {
            close(fd);
            continue;
          }
          nc->fd = fd;
          nc->in_len = 0;
          nc->pending = NULL;
          nc->pending_len = 0;
          ev.events = EPOLLIN;
          ev.data.ptr = nc;
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
        continue;
      }
      if ((events[i].events & (EPOLLERR | EPOLLHUP)) && !(events[i].events & EPOLLIN)) {
        close_conn(ep, c);
        continue;
      }
      if (events[i].events & EPOLLOUT) {
        if (on_writable(ep, c) != 0)
          close_conn(ep, c);
        continue;
      }
      if (on_readable(ep, c) != 0)
        close_conn(ep, c);
    }
  }
  close(ep);
  close(lfd);
  return 0;
}
