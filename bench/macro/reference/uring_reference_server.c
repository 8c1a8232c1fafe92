/* The practical floor for a PING server over io_uring, the counterpart of
 * reference_server.c (epoll): what the io_uring transport (issue 26) can hope
 * to reach on this kernel.
 *
 * One thread, one ring (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN
 * where the kernel has them, else COOP_TASKRUN, else none); a multishot accept;
 * a multishot receive per connection into a ring of provided buffers (no read
 * buffer belongs to an idle connection: a partial request is copied into a
 * small heap buffer of its own until it completes); the replies of one loop
 * turn go to the kernel as send requests in the same io_uring_enter that waits
 * for the next completions. Same answers as reference_server.c
 * (reference_common.h).
 *
 * Usage: uring_reference_server [port]   (port 0 or absent: a free one)
 * Prints the port on stdout, then serves 127.0.0.1 until SIGINT/SIGTERM. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reference_common.h"

enum {
  ring_entries = 4096,
  buffer_count = 4096, /* provided buffers; a power of two */
  buffer_size = 4096,
  buffer_group = 0,
  out_capacity = 16 * 1024,
  max_partial = 4096
};

/* user_data: a connection pointer with the operation in its low bits. */
enum { op_accept = 0, op_recv = 1, op_send = 2, op_mask = 3 };

struct conn {
  int fd;
  int sending;     /* a send is in flight from out[0 .. send_len) */
  int closing;     /* closed once nothing is in flight */
  int recv_armed;  /* the multishot receive is active */
  int peer_done;   /* the peer finished sending: closed once its replies are out */
  size_t send_len; /* bytes of out being sent */
  size_t send_done;
  size_t out_len; /* replies not yet sent (after the in-flight ones) */
  struct conn* next_dirty;
  int dirty;
  char* partial; /* an incomplete request, only while there is one */
  size_t partial_len;
  char out[out_capacity];
};

static struct io_uring ring;
static struct io_uring_buf_ring* buffers;
static char* buffer_memory;
static struct conn* dirty_list = NULL;

static struct io_uring_sqe* get_sqe(void) {
  struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  if (sqe == NULL) { /* the submission queue is full: hand it over first */
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
  }
  return sqe;
}

static void arm_recv(struct conn* c) {
  struct io_uring_sqe* sqe = get_sqe();
  io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffer_group;
  io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | op_recv);
  c->recv_armed = 1;
}

static void start_send(struct conn* c) {
  struct io_uring_sqe* sqe = get_sqe();
  io_uring_prep_send(sqe, c->fd, c->out + c->send_done, c->send_len - c->send_done, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | op_send);
  c->sending = 1;
}

static void maybe_free(struct conn* c) {
  if (c->closing && !c->sending && !c->recv_armed && !c->dirty) {
    close(c->fd);
    free(c->partial);
    free(c);
  }
}

static void begin_close(struct conn* c) {
  if (c->closing)
    return;
  c->closing = 1;
  shutdown(c->fd, SHUT_RDWR); /* ends the multishot receive and any send */
}

static void give_back(unsigned short bid) {
  io_uring_buf_ring_add(buffers, buffer_memory + (size_t)bid * buffer_size, buffer_size, bid,
                        io_uring_buf_ring_mask(buffer_count), 0);
  io_uring_buf_ring_advance(buffers, 1);
}

static void mark_dirty(struct conn* c) {
  if (!c->dirty) {
    c->dirty = 1;
    c->next_dirty = dirty_list;
    dirty_list = c;
  }
}

/* Parses [p, end) into replies; returns where the unparsed rest begins, or
 * NULL on a protocol error (or replies that would not fit). */
static const char* serve(struct conn* c, const char* p, const char* end) {
  while (p < end) {
    int is_ping = 0, bad = 0;
    const char* next = parse_request(p, end, &is_ping, &bad);
    if (bad)
      return NULL;
    if (next == NULL)
      break;
    if (c->send_len + c->out_len + sizeof unknown > out_capacity)
      return NULL; /* a peer that pipelines without reading: the floor does not queue */
    c->out_len += put_reply(c->out + c->send_len + c->out_len, is_ping);
    p = next;
  }
  return p;
}

static void on_data(struct conn* c, const char* data, size_t n) {
  const char *rest, *end;
  if (c->partial_len > 0) { /* an earlier piece: join, then parse the whole */
    char* grown;
    if (c->partial_len + n > max_partial) {
      begin_close(c);
      return;
    }
    grown = realloc(c->partial, c->partial_len + n);
    if (grown == NULL) {
      begin_close(c);
      return;
    }
    memcpy(grown + c->partial_len, data, n);
    c->partial = grown;
    c->partial_len += n;
    data = c->partial;
    n = c->partial_len;
  }
  end = data + n;
  rest = serve(c, data, end);
  if (rest == NULL) {
    begin_close(c);
    return;
  }
  if (rest == end) {
    free(c->partial);
    c->partial = NULL;
    c->partial_len = 0;
  } else if (data != c->partial) {
    c->partial = malloc((size_t)(end - rest));
    if (c->partial == NULL) {
      begin_close(c);
      return;
    }
    memcpy(c->partial, rest, (size_t)(end - rest));
    c->partial_len = (size_t)(end - rest);
  } else {
    memmove(c->partial, rest, (size_t)(end - rest));
    c->partial_len = (size_t)(end - rest);
  }
  if (c->out_len > 0)
    mark_dirty(c);
}

static void on_accept(int res, unsigned flags, int lfd) {
  static const int one = 1;
  struct conn* c;
  if (!(flags & IORING_CQE_F_MORE)) { /* the multishot accept ended: start it again */
    struct io_uring_sqe* sqe = get_sqe();
    io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, op_accept);
  }
  if (res < 0)
    return;
  setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c = calloc(1, sizeof *c);
  if (c == NULL) {
    close(res);
    return;
  }
  c->fd = res;
  arm_recv(c);
}

static void on_recv(struct conn* c, int res, unsigned flags) {
  if (res > 0 && (flags & IORING_CQE_F_BUFFER)) {
    const unsigned short bid = (unsigned short)(flags >> IORING_CQE_BUFFER_SHIFT);
    if (!c->closing)
      on_data(c, buffer_memory + (size_t)bid * buffer_size, (size_t)res);
    give_back(bid);
  }
  if (flags & IORING_CQE_F_MORE)
    return;
  c->recv_armed = 0;
  if (res == -ENOBUFS && !c->closing) { /* every provided buffer was in use */
    arm_recv(c);
    return;
  }
  if (res == 0 && !c->closing && (c->sending || c->out_len > 0)) {
    /* The peer finished sending (a half-close, as `nc` does): answer what it sent first,
     * as the epoll reference does by writing before it reads the end. */
    c->peer_done = 1;
    return;
  }
  if (res <= 0 || c->closing) {
    begin_close(c);
    maybe_free(c);
    return;
  }
  arm_recv(c);
}

static void on_send(struct conn* c, int res) {
  c->sending = 0;
  if (res < 0) {
    begin_close(c);
    maybe_free(c);
    return;
  }
  c->send_done += (size_t)res;
  if (c->send_done < c->send_len) {
    start_send(c);
    return;
  }
  /* Everything in flight went out: what was queued behind it moves to the front. */
  if (c->out_len > 0)
    memmove(c->out, c->out + c->send_len, c->out_len);
  c->send_len = 0;
  c->send_done = 0;
  if (c->out_len > 0)
    mark_dirty(c);
  else if (c->peer_done)
    begin_close(c);
  maybe_free(c);
}

/* The replies of this turn: one send per connection with output and none in flight. */
static void flush_dirty(void) {
  while (dirty_list != NULL) {
    struct conn* c = dirty_list;
    dirty_list = c->next_dirty;
    c->dirty = 0;
    if (c->closing) {
      maybe_free(c);
      continue;
    }
    if (c->sending || c->out_len == 0)
      continue; /* on_send marks it again */
    c->send_len = c->out_len;
    c->send_done = 0;
    c->out_len = 0;
    start_send(c);
  }
}

static int init_ring(void) {
  struct io_uring_params p;
  const unsigned tries[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, IORING_SETUP_COOP_TASKRUN, 0};
  size_t i;
  for (i = 0; i < sizeof tries / sizeof tries[0]; ++i) {
    memset(&p, 0, sizeof p);
    p.flags = tries[i];
    if (io_uring_queue_init_params(ring_entries, &ring, &p) == 0)
      return 0;
  }
  return -1;
}

static int init_buffers(void) {
  struct io_uring_buf_reg reg;
  unsigned i;
  void* mem;
  if (posix_memalign(&mem, 4096, buffer_count * sizeof(struct io_uring_buf)) != 0)
    return -1;
  buffers = mem;
  buffer_memory = malloc((size_t)buffer_count * buffer_size);
  if (buffer_memory == NULL)
    return -1;
  io_uring_buf_ring_init(buffers);
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uint64_t)(uintptr_t)buffers;
  reg.ring_entries = buffer_count;
  reg.bgid = buffer_group;
  if (io_uring_register_buf_ring(&ring, &reg, 0) != 0)
    return -1;
  for (i = 0; i < buffer_count; ++i)
    io_uring_buf_ring_add(buffers, buffer_memory + (size_t)i * buffer_size, buffer_size, (unsigned short)i,
                          io_uring_buf_ring_mask(buffer_count), (int)i);
  io_uring_buf_ring_advance(buffers, buffer_count);
  return 0;
}

int main(int argc, char** argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  int lfd;
  struct io_uring_sqe* sqe;

  handle_signals();
  lfd = listen_loopback(port, 0, &port);
  if (lfd < 0)
    return 1;
  if (init_ring() != 0 || init_buffers() != 0) {
    fprintf(stderr, "uring_reference_server: io_uring setup failed\n");
    return 1;
  }
  printf("%d\n", port);
  fflush(stdout);

  sqe = get_sqe();
  io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, op_accept);

  while (!stop_requested) {
    struct io_uring_cqe* cqe;
    unsigned head, seen = 0;
    flush_dirty();
    if (io_uring_submit_and_wait(&ring, 1) < 0 && errno != EINTR) {
      if (stop_requested)
        break;
    }
    io_uring_for_each_cqe(&ring, head, cqe) {
      const uint64_t data = io_uring_cqe_get_data64(cqe);
      struct conn* c = (struct conn*)(uintptr_t)(data & ~(uint64_t)op_mask);
      switch (data & op_mask) {
        case op_accept: on_accept(cqe->res, cqe->flags, lfd); break;
        case op_recv: on_recv(c, cqe->res, cqe->flags); break;
        case op_send: on_send(c, cqe->res); break;
        default: break;
      }
      ++seen;
    }
    io_uring_cq_advance(&ring, seen);
  }
  io_uring_queue_exit(&ring);
  close(lfd);
  return 0;
}
