#!/usr/bin/env python3
"""The seed's timestamp client, as docs/protocols.md ("The original service")
describes it: connect, send b"timetampe" (no newline), one recv(1024), print
the result.

Only change for tests: the port comes from argv."""
import socket
import sys


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8099
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.connect(("127.0.0.1", port))
    client.send("timetampe".encode("utf-8"))
    data = client.recv(1024)
    if data:
        print("current timestampe: " + data.decode("utf-8"))
    else:
        print("get timestampe failed")
    client.close()


if __name__ == "__main__":
    main()
