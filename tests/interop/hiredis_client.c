/* hiredis (Debian's libhiredis-dev) against a coronet server: synchronous
 * commands, a pipeline of 100 appended commands, the reply types hiredis
 * reports (a bulk string for values, a status for PING), HELLO's map, and
 * Redis's error text for an unknown command.
 *
 * Usage: hiredis_client PORT. Exits 0 when every check passed, 1 otherwise;
 * every read has a 5 s timeout. */
#include <hiredis/hiredis.h>

#include "hiredis_connect.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static int failures = 0;

static void check(int ok, const char* what, const redisReply* r) {
  printf("%s%s", ok ? "ok    " : "FAIL  ", what);
  if (!ok && r != NULL)
    printf(" (reply type %d, str %.80s, integer %lld, elements %zu)", r->type, r->str ? r->str : "-",
           (long long)r->integer, (size_t)r->elements);
  printf("\n");
  if (!ok)
    ++failures;
}

/* "Sun May 27 21:43:58 2018": the ctime form, 24 characters. */
static int is_ctime(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING && r->len == 24 && r->str[3] == ' ' && r->str[7] == ' ' && r->str[13] == ':' &&
         r->str[16] == ':' && r->str[19] == ' ';
}

static int is_digits(const redisReply* r) {
  if (r->type != REDIS_REPLY_STRING || r->len == 0)
    return 0;
  for (size_t i = 0; i < r->len; ++i)
    if (!isdigit((unsigned char)r->str[i]))
      return 0;
  return 1;
}

static int is_status(const redisReply* r, const char* text) {
  return r->type == REDIS_REPLY_STATUS && strcmp(r->str, text) == 0;
}

/* The value after `key` in a flat key/value list (a RESP2 array or a RESP3 map's elements). */
static const redisReply* field(const redisReply* r, const char* key) {
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    const redisReply* k = r->element[i];
    if ((k->type == REDIS_REPLY_STRING || k->type == REDIS_REPLY_STATUS) && strcmp(k->str, key) == 0)
      return r->element[i + 1];
  }
  return NULL;
}

static redisReply* command(redisContext* c, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  redisReply* r = redisvCommand(c, format, ap);
  va_end(ap);
  if (r == NULL) {
    printf("FAIL  %s: no reply: %s\n", format, c->errstr);
    exit(1);
  }
  return r;
}

static void hello(redisContext* c, int protover) {
  redisReply* r = command(c, "HELLO %d", protover);
#ifdef REDIS_REPLY_MAP
  const int expected_type = protover == 3 ? REDIS_REPLY_MAP : REDIS_REPLY_ARRAY;
#else
  const int expected_type = REDIS_REPLY_ARRAY;
#endif
  const redisReply* proto = r->type == expected_type ? field(r, "proto") : NULL;
  const redisReply* server = r->type == expected_type ? field(r, "server") : NULL;
  char what[128];
  snprintf(what, sizeof what, "HELLO %d: a %s with server and proto %d", protover, protover == 3 ? "map" : "flat array",
           protover);
  check(proto != NULL && proto->type == REDIS_REPLY_INTEGER && proto->integer == protover && server != NULL, what, r);
  freeReplyObject(r);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  printf("hiredis %d.%d.%d\n", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
  redisContext* c = connect_for_test(argv[1]);
  if (c == NULL)
    return 1;

  redisReply* r = command(c, "PING");
  check(is_status(r, "PONG"), "PING: status PONG", r);
  freeReplyObject(r);
  r = command(c, "TIMESTAMP");
  check(is_ctime(r), "TIMESTAMP: a bulk string in ctime form", r);
  freeReplyObject(r);
  r = command(c, "TIMESTAMP unix");
  check(is_digits(r), "TIMESTAMP unix: a bulk string of digits", r);
  freeReplyObject(r);
  r = command(c, "ECHO %s", "hello world");
  check(r->type == REDIS_REPLY_STRING && strcmp(r->str, "hello world") == 0, "ECHO: a bulk string", r);
  freeReplyObject(r);
  r = command(c, "nope %s", "x");
  check(r->type == REDIS_REPLY_ERROR &&
            strncmp(r->str, "ERR unknown command 'nope', with args beginning with: ", 54) == 0,
        "an unknown command: Redis's error text", r);
  freeReplyObject(r);
  hello(c, 2);

  /* 100 commands appended, then the replies read in order. */
  for (int i = 0; i < 100; ++i) {
    switch (i % 4) {
      case 0: redisAppendCommand(c, "PING"); break;
      case 1: redisAppendCommand(c, "TIMESTAMP"); break;
      case 2: redisAppendCommand(c, "TIMESTAMP iso"); break;
      default: redisAppendCommand(c, "ECHO %d", i); break;
    }
  }
  int pipelined_ok = 1;
  for (int i = 0; i < 100; ++i) {
    void* reply = NULL;
    if (redisGetReply(c, &reply) != REDIS_OK || reply == NULL) {
      printf("FAIL  pipeline reply %d: %s\n", i, c->errstr);
      return 1;
    }
    r = reply;
    char echoed[16];
    snprintf(echoed, sizeof echoed, "%d", i);
    int ok = 0;
    switch (i % 4) {
      case 0: ok = is_status(r, "PONG"); break;
      case 1: ok = is_ctime(r); break;
      case 2: ok = r->type == REDIS_REPLY_STRING && r->len == 24 && r->str[23] == 'Z'; break;
      default: ok = r->type == REDIS_REPLY_STRING && strcmp(r->str, echoed) == 0; break;
    }
    if (!ok && pipelined_ok) {
      check(0, "pipeline: the first wrong reply", r);
      printf("      (reply %d of 100)\n", i + 1);
    }
    pipelined_ok = pipelined_ok && ok;
    freeReplyObject(r);
  }
  check(pipelined_ok, "a pipeline of 100 appended commands: replies in order, with their types", NULL);

#ifdef REDIS_REPLY_MAP
  /* RESP3 (hiredis 1.0 and later): HELLO 3 is a map; values stay bulk strings. */
  hello(c, 3);
  r = command(c, "TIMESTAMP");
  check(is_ctime(r), "after HELLO 3, TIMESTAMP: a bulk string", r);
  freeReplyObject(r);
  r = command(c, "PING");
  check(is_status(r, "PONG"), "after HELLO 3, PING: status PONG", r);
  freeReplyObject(r);
#else
  printf("skip  HELLO 3: hiredis %d.%d parses RESP2 only (RESP3 came in 1.0)\n", HIREDIS_MAJOR, HIREDIS_MINOR);
#endif

  redisFree(c);
  if (failures > 0) {
    printf("%d check(s) failed\n", failures);
    return 1;
  }
  printf("all checks passed\n");
  return 0;
}
