#!/usr/bin/env python3
"""Paced HTTP client for tests/e2e/intercept_faults.sh: N keep-alive sessions, one every
GAP seconds; session i asks /fI-a, /fI-b, /fI-c with a pause after each response, so
a replay at --speed 1 leaves each response time to arrive (and the test can tell the
sessions by their start time from the paths).

    intercept_client.py HOST N GAP PAUSE
"""
import socket
import sys
import threading
import time


def session(host: str, i: int, pause: float, errors: list) -> None:
    try:
        c = socket.create_connection((host, 80), timeout=10)
        for part in "abc":
            c.sendall(f"GET /f{i}-{part} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            buf = b""
            while not buf.endswith(b"ok\n"):
                chunk = c.recv(4096)
                if not chunk:
                    raise ConnectionError("closed early")
                buf += chunk
            time.sleep(pause)
        c.close()
    except OSError as e:
        errors.append(f"session {i}: {e}")


def main() -> int:
    host, n, gap, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    errors: list = []
    threads = []
    for i in range(n):
        t = threading.Thread(target=session, args=(host, i, pause, errors))
        t.start()
        threads.append(t)
        time.sleep(gap)
    for t in threads:
        t.join()
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
