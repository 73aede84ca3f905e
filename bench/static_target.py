#!/usr/bin/env python3
"""A static scrape target for the benches: serves DIRECTORY on 127.0.0.1:PORT with HTTP/1.1
keep-alive (as exporters do) and a listen backlog deep enough for a few hundred scrapers
connecting at once (python's http.server has 5, which drops connection attempts that a real
exporter would accept). Logs each request to stderr like http.server does.

Usage: static_target.py PORT DIRECTORY
"""
import functools
import http.server
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    handler = functools.partial(Handler, directory=directory)
    with Server(("127.0.0.1", port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
