/* hiredis (Debian's libhiredis-dev) pipelining against a coronet server as
 * its documentation shows it: 50 ECHOs of 1 MB appended
 * with redisAppendCommand, so that the first redisGetReply writes all 50 MB
 * before it reads a reply; then every reply, in order. A server that stopped
 * reading while its replies were unread would leave the write blocked until
 * the 20 s timeout.
 *
 * Usage: hiredis_pipeline PORT. Exits 0 when every check passed, 1 otherwise. */
#include <hiredis/hiredis.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

enum { count = 50, size = 1000 * 1000 };

static double seconds_since(const struct timeval* t0) {
  struct timeval now;
  gettimeofday(&now, NULL);
  return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_usec - t0->tv_usec) / 1e6;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  struct timeval timeout = {20, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", atoi(argv[1]), timeout);
  if (c == NULL || c->err) {
    printf("FAIL  connect: %s\n", c ? c->errstr : "out of memory");
    return 1;
  }
  redisSetTimeout(c, timeout);
  char* value = malloc(size);
  if (value == NULL)
    return 1;
  struct timeval t0;
  gettimeofday(&t0, NULL);
  for (int i = 0; i < count; ++i) {
    memset(value, 'a' + i % 26, size);
    if (redisAppendCommand(c, "ECHO %b", value, (size_t)size) != REDIS_OK) {
      printf("FAIL  append %d: %s\n", i, c->errstr);
      return 1;
    }
  }
  int failures = 0;
  for (int i = 0; i < count; ++i) {
    redisReply* r = NULL;
    if (redisGetReply(c, (void**)&r) != REDIS_OK || r == NULL) {
      printf("FAIL  reply %d: %s\n", i, c->errstr);
      return 1;
    }
    memset(value, 'a' + i % 26, size);
    if (r->type != REDIS_REPLY_STRING || r->len != (size_t)size || memcmp(r->str, value, size) != 0) {
      printf("FAIL  reply %d is not its 1 MB value (type %d, length %zu)\n", i, r->type, (size_t)r->len);
      ++failures;
    }
    freeReplyObject(r);
  }
  printf("%s  %d ECHOs of %d bytes, written before any reply was read, all answered in order (%.2f s)\n",
         failures ? "FAIL" : "ok  ", count, size, seconds_since(&t0));
  redisReply* pong = redisCommand(c, "PING");
  const int pong_ok = pong != NULL && pong->type == REDIS_REPLY_STATUS && strcmp(pong->str, "PONG") == 0;
  printf("%s  the connection serves on: PING\n", pong_ok ? "ok  " : "FAIL");
  if (pong != NULL)
    freeReplyObject(pong);
  free(value);
  redisFree(c);
  return failures == 0 && pong_ok ? 0 : 1;
}
