#!/usr/bin/env python3
"""A real server for Tests/Kernel/t-monitor.sh: one listening socket, run inside the test's namespace.

  monitor-server.py http  ADDR PORT [STATUS [BODY]]          GET -> STATUS (default 200) with BODY (default "ok")
  monitor-server.py https ADDR PORT CERT KEY SNI [STATUS]    the same over TLS; a handshake whose SNI is not SNI fails
  monitor-server.py udp   ADDR PORT REQUEST REPLY            answers REPLY to a datagram equal to REQUEST
  monitor-server.py tcp   ADDR PORT                          accepts and closes
  monitor-server.py name  ADDR PORT NAME                     answers every line of every connection with NAME
  monitor-server.py client ADDR PORT LOG STOPFILE            one connection: a line every 0.2 s, each answer
                                                             logged to LOG, until STOPFILE exists (t-ha.sh)

It writes "ready" to stdout once it listens, then serves until killed.
"""
import socket, ssl, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

kind, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
family = socket.AF_INET6 if ":" in addr else socket.AF_INET


def ready():
    print("ready", flush=True)


def http_server(status, body):
    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Host", self.headers.get("Host", ""))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

    class S(ThreadingHTTPServer):
        address_family = family
        allow_reuse_address = True
        daemon_threads = True

    return S((addr, port), H)


if kind == "http":
    status = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    body = sys.argv[5] if len(sys.argv) > 5 else "ok"
    srv = http_server(status, body)
    ready()
    srv.serve_forever()
elif kind == "https":
    cert, key, sni = sys.argv[4], sys.argv[5], sys.argv[6]
    status = int(sys.argv[7]) if len(sys.argv) > 7 else 200
    srv = http_server(status, "secure ok")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    def check_sni(sock, name, c):
        if name != sni:
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        return None

    ctx.sni_callback = check_sni
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    ready()
    srv.serve_forever()
elif kind == "udp":
    request, reply = sys.argv[4].encode(), sys.argv[5].encode()
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((addr, port))
    ready()
    while True:
        data, peer = s.recvfrom(65536)
        if data == request:
            s.sendto(reply, peer)
elif kind == "tcp":
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    ready()
    while True:
        c, _ = s.accept()
        c.close()
elif kind == "name":
    name = (sys.argv[4] + "\n").encode()
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    ready()

    def serve(c):
        f = c.makefile("rb")
        for _ in f:
            c.sendall(name)
        c.close()

    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
elif kind == "client":
    import os, time
    log, stop = open(sys.argv[4], "a", buffering=1), sys.argv[5]
    c = socket.create_connection((addr, port), timeout=10)
    f = c.makefile("rb")
    ready()
    n = 0
    while not os.path.exists(stop):
        n += 1
        try:
            c.sendall(b"%d\n" % n)
            log.write(f.readline().decode().strip() or "EOF")
            log.write("\n")
        except OSError as e:
            log.write("ERROR %s\n" % e)
            break
        time.sleep(0.2)
else:
    sys.exit("unknown kind " + kind)
