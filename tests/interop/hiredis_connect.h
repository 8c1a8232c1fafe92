/* The connection every hiredis test program opens: 127.0.0.1 on the port of its
   command line, 5 s timeouts for connecting and for each command; NULL (after a
   FAIL line on stdout) when it cannot connect. */
#ifndef CORONET_HIREDIS_CONNECT_H
#define CORONET_HIREDIS_CONNECT_H

#include <stdio.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>

static redisContext* connect_for_test(const char* port) {
  const struct timeval timeout = {5, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", atoi(port), timeout);
  if (c == NULL || c->err) {
    printf("FAIL  connect: %s\n", c ? c->errstr : "out of memory");
    if (c != NULL)
      redisFree(c);
    return NULL;
  }
  redisSetTimeout(c, timeout);
  return c;
}

#endif
