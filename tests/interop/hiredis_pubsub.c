/* hiredis's asynchronous API (Debian's libhiredis-dev) subscribing to a
 * coronet server: SUBSCRIBE and PSUBSCRIBE with callbacks, messages published
 * by a synchronous connection arriving in order, then UNSUBSCRIBE. The event
 * loop is a small poll(2) adapter of our own (hiredis's adapters need
 * libevent, libev...).
 *
 * Usage: hiredis_pubsub PORT. Exits 0 when every check passed, 1 otherwise;
 * the whole run is bounded to 10 s. */
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MESSAGES 50

static int failures = 0;

static void check(int ok, const char* what) {
  printf("%s%s\n", ok ? "ok    " : "FAIL  ", what);
  if (!ok)
    ++failures;
}

/* The poll adapter: which directions hiredis wants watched. */
struct poll_events {
  int reading;
  int writing;
};

static void add_read(void* p) { ((struct poll_events*)p)->reading = 1; }
static void del_read(void* p) { ((struct poll_events*)p)->reading = 0; }
static void add_write(void* p) { ((struct poll_events*)p)->writing = 1; }
static void del_write(void* p) { ((struct poll_events*)p)->writing = 0; }
static void cleanup(void* p) {
  ((struct poll_events*)p)->reading = 0;
  ((struct poll_events*)p)->writing = 0;
}

struct state {
  int confirmations; /* subscribe + psubscribe */
  int messages;      /* "message" frames, in order */
  int pmessages;
  int in_order;
  int unsubscribed;
};

static void on_channel(redisAsyncContext* c, void* r, void* privdata) {
  (void)c;
  struct state* s = privdata;
  redisReply* reply = r;
  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
    return;
  const char* kind = reply->element[0]->str;
  if (strcmp(kind, "subscribe") == 0) {
    ++s->confirmations;
  } else if (strcmp(kind, "unsubscribe") == 0) {
    ++s->unsubscribed;
  } else if (strcmp(kind, "message") == 0) {
    char want[32];
    snprintf(want, sizeof want, "m%d", s->messages);
    if (strcmp(reply->element[1]->str, "news") != 0 || strcmp(reply->element[2]->str, want) != 0)
      s->in_order = 0;
    ++s->messages;
  }
}

static void on_pattern(redisAsyncContext* c, void* r, void* privdata) {
  (void)c;
  struct state* s = privdata;
  redisReply* reply = r;
  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
    return;
  const char* kind = reply->element[0]->str;
  if (strcmp(kind, "psubscribe") == 0)
    ++s->confirmations;
  else if (strcmp(kind, "punsubscribe") == 0)
    ++s->unsubscribed;
  else if (strcmp(kind, "pmessage") == 0 && reply->elements == 4 && strcmp(reply->element[1]->str, "n*") == 0)
    ++s->pmessages;
}

/* Runs the loop until `done` or the deadline; 0 on timeout or a broken connection. */
static int run_until(redisAsyncContext* ac, struct poll_events* ev, const int* counter, int target, time_t deadline) {
  while (*counter < target) {
    if (time(NULL) > deadline || ac->err)
      return 0;
    struct pollfd p = {ac->c.fd, (short)((ev->reading ? POLLIN : 0) | (ev->writing ? POLLOUT : 0)), 0};
    if (poll(&p, 1, 100) < 0)
      return 0;
    if (p.revents & (POLLIN | POLLHUP | POLLERR))
      redisAsyncHandleRead(ac);
    if (p.revents & POLLOUT)
      redisAsyncHandleWrite(ac);
  }
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  const int port = atoi(argv[1]);
  const time_t deadline = time(NULL) + 10;
  struct timeval timeout = {5, 0};
  redisContext* pub = redisConnectWithTimeout("127.0.0.1", port, timeout);
  redisAsyncContext* ac = redisAsyncConnect("127.0.0.1", port);
  if (pub == NULL || pub->err || ac == NULL || ac->err) {
    printf("FAIL  connect\n");
    return 1;
  }
  redisSetTimeout(pub, timeout);
  struct poll_events ev = {0, 0};
  ac->ev.data = &ev;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;

  struct state s = {0, 0, 0, 1, 0};
  redisAsyncCommand(ac, on_channel, &s, "SUBSCRIBE news");
  redisAsyncCommand(ac, on_pattern, &s, "PSUBSCRIBE n*");
  check(run_until(ac, &ev, &s.confirmations, 2, deadline), "SUBSCRIBE and PSUBSCRIBE are confirmed");

  long long receivers = 0;
  for (int i = 0; i < MESSAGES; ++i) {
    redisReply* r = redisCommand(pub, "PUBLISH news m%d", i);
    if (r != NULL && r->type == REDIS_REPLY_INTEGER)
      receivers += r->integer;
    freeReplyObject(r);
  }
  check(receivers == 2 * MESSAGES, "each PUBLISH reaches the channel and the pattern (2 receivers)");
  check(run_until(ac, &ev, &s.messages, MESSAGES, deadline), "the 50 messages arrive");
  check(run_until(ac, &ev, &s.pmessages, MESSAGES, deadline), "the 50 pmessages arrive");
  check(s.in_order, "messages arrive in the order they were published");

  redisAsyncCommand(ac, on_channel, &s, "UNSUBSCRIBE news");
  redisAsyncCommand(ac, on_pattern, &s, "PUNSUBSCRIBE n*");
  check(run_until(ac, &ev, &s.unsubscribed, 2, deadline), "UNSUBSCRIBE and PUNSUBSCRIBE are confirmed");
  redisReply* r = redisCommand(pub, "PUBLISH news late");
  check(r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 0, "after them, PUBLISH reaches nobody");
  freeReplyObject(r);

  redisAsyncFree(ac);
  redisFree(pub);
  printf(failures == 0 ? "all checks passed\n" : "%d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}
