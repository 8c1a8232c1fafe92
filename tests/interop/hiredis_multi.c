/* hiredis (Debian's libhiredis-dev) transactions against a coronet server:
 * MULTI, queued commands (QUEUED statuses), EXEC's array of their replies,
 * then a queued unknown command and EXEC's EXECABORT error, and DISCARD; the
 * same with the commands appended and read back in one go.
 *
 * Usage: hiredis_multi PORT. Exits 0 when every check passed, 1 otherwise;
 * every read has a 5 s timeout. */
#include <hiredis/hiredis.h>

#include "hiredis_connect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static int failures = 0;

static void check(int ok, const char* what, const redisReply* r) {
  printf("%s%s", ok ? "ok    " : "FAIL  ", what);
  if (!ok && r != NULL)
    printf(" (reply type %d, str %.80s, elements %zu)", r->type, r->str ? r->str : "-", (size_t)r->elements);
  printf("\n");
  if (!ok)
    ++failures;
}

static int is_status(const redisReply* r, const char* text) {
  return r->type == REDIS_REPLY_STATUS && strcmp(r->str, text) == 0;
}

static int is_bulk(const redisReply* r, const char* text) {
  return r->type == REDIS_REPLY_STRING && strcmp(r->str, text) == 0;
}

/* Runs one command and checks that its reply is the status `status`. */
static void expect_status(redisContext* c, const char* cmd, const char* status) {
  redisReply* r = redisCommand(c, cmd);
  if (r == NULL) {
    printf("FAIL  %s: no reply: %s\n", cmd, c->errstr);
    exit(1);
  }
  char what[128];
  snprintf(what, sizeof what, "%s: status %s", cmd, status);
  check(is_status(r, status), what, r);
  freeReplyObject(r);
}

static redisReply* read_reply(redisContext* c) {
  void* reply = NULL;
  if (redisGetReply(c, &reply) != REDIS_OK || reply == NULL) {
    printf("FAIL  no reply: %s\n", c->errstr);
    exit(1);
  }
  return reply;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  redisContext* c = connect_for_test(argv[1]);
  if (c == NULL)
    return 1;

  expect_status(c, "MULTI", "OK");
  expect_status(c, "ECHO a", "QUEUED");
  expect_status(c, "PING", "QUEUED");
  redisReply* r = redisCommand(c, "EXEC");
  check(r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && is_bulk(r->element[0], "a") &&
            is_status(r->element[1], "PONG"),
        "EXEC: an array of a bulk string and a status", r);
  freeReplyObject(r);

  expect_status(c, "MULTI", "OK");
  r = redisCommand(c, "NOSUCH");
  check(r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "ERR unknown command", 19) == 0,
        "a queued unknown command: its error", r);
  freeReplyObject(r);
  r = redisCommand(c, "EXEC");
  check(r != NULL && r->type == REDIS_REPLY_ERROR &&
            strcmp(r->str, "EXECABORT Transaction discarded because of previous errors.") == 0,
        "EXEC after it: EXECABORT", r);
  freeReplyObject(r);

  expect_status(c, "MULTI", "OK");
  expect_status(c, "ECHO b", "QUEUED");
  expect_status(c, "DISCARD", "OK");

  /* Appended, then read: one write for the whole transaction. */
  redisAppendCommand(c, "MULTI");
  for (int i = 0; i < 50; ++i)
    redisAppendCommand(c, "ECHO n%d", i);
  redisAppendCommand(c, "EXEC");
  int queued = 1;
  for (int i = 0; i < 51; ++i) {
    r = read_reply(c);
    queued = queued && is_status(r, i == 0 ? "OK" : "QUEUED");
    freeReplyObject(r);
  }
  check(queued, "an appended MULTI and 50 ECHOs: OK, then QUEUED each", NULL);
  r = read_reply(c);
  int in_order = r->type == REDIS_REPLY_ARRAY && r->elements == 50;
  for (size_t i = 0; in_order && i < r->elements; ++i) {
    char want[32];
    snprintf(want, sizeof want, "n%zu", i);
    in_order = is_bulk(r->element[i], want);
  }
  check(in_order, "their EXEC: the 50 values in order", r);
  freeReplyObject(r);

  redisFree(c);
  if (failures == 0)
    printf("all checks passed\n");
  else
    printf("%d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}
