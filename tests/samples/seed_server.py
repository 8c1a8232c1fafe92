#!/usr/bin/env python3
"""The seed's timestamp server, as docs/protocols.md ("The original service")
describes it: one recv(1024) per client; exactly b"timetampe" gets
time.ctime() (no newline), anything else is closed without an answer; one
client at a time, backlog 10.

Only change for tests: the port comes from argv (0 picks a free one, printed
as "port N"), and --clients N makes it exit after N clients."""
import socket
import sys
import time


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8099
    clients = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--clients" else None
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(10)
    print("port", server.getsockname()[1], flush=True)
    served = 0
    while clients is None or served < clients:
        client, _ = server.accept()
        data = client.recv(1024)
        try:
            command = data.decode("utf-8")
        except UnicodeDecodeError:
            command = None
        if command == "timetampe":
            client.send(time.ctime().encode("utf-8"))
        client.close()
        served += 1
    server.close()


if __name__ == "__main__":
    main()
