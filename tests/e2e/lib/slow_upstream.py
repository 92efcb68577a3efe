#!/usr/bin/env python3
"""An HTTP backend that takes its time: slow_upstream.py ADDR PORT DELAY_S.

Behind nginx's proxy_pass in the e2e rigs: it reads the whole request (a POST body too),
waits DELAY_S seconds, then answers 200 "ok\\n" as text/plain (the same body and headers as
the rigs' `return 200 "ok\\n"`, once nginx has put its own Server and Date on it)."""
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(float(sys.argv[3]))
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"ok\n")
        except OSError:
            pass  # nginx gave up on the request (its client reset the connection)

    do_GET = answer
    do_POST = answer

    def log_message(self, *args):
        pass


ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
