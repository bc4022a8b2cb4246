#!/usr/bin/env python3
"""A fault-injecting TCP proxy between trawl and Dovecot (plain IMAP), for tests.

usage: fault_proxy.py MODE UPSTREAM_PORT WORKDIR

MODE says what happens to the Nth UID FETCH the proxy sees (counted over all
connections, from 1):
  no:N[,M...]     answered "tag NO [UNAVAILABLE] ..." (not forwarded)
  bye:N[,M...]    answered "* BYE ..." and the connection closed
  stall:N[,M...]  swallowed: nothing is forwarded either way any more, the
                  connection stays open until the client gives up
  always          every UID FETCH answered NO [UNAVAILABLE]
  pass            nothing injected
Everything else passes through unchanged. Writes WORKDIR/port once listening
and logs every UID FETCH to WORKDIR/proxy.log as "N<TAB>seconds<TAB>what
happened<TAB>command without its tag" (seconds from a monotonic clock).
"""
import os
import socket
import sys
import threading
import time

mode, upstream, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kind, _, nums = mode.partition(":")
faults = {int(x) for x in nums.split(",") if x}
lock = threading.Lock()
count = [0]
log = open(os.path.join(work, "proxy.log"), "a", buffering=1)


def close(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def pump(src, dst, state):
    """Server to client, unless the connection is stalled."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if state["stalled"]:
                continue
            with state["wlock"]:
                dst.sendall(data)
    except OSError:
        pass
    if not state["stalled"]:
        close(dst)


def handle(client):
    try:
        up = socket.create_connection(("127.0.0.1", upstream))
    except OSError:
        client.close()
        return
    state = {"stalled": False, "wlock": threading.Lock()}
    threading.Thread(target=pump, args=(up, client, state), daemon=True).start()
    f = client.makefile("rb")
    try:
        for line in f:
            text = line.decode("latin-1").rstrip("\r\n")
            tag, _, rest = text.partition(" ")
            if state["stalled"]:
                continue
            if rest.upper().startswith("UID FETCH"):
                with lock:
                    count[0] += 1
                    n = count[0]
                fault = kind if kind == "always" or n in faults else "pass"
                log.write("%d\t%.3f\t%s\t%s\n" % (n, time.monotonic(), fault, rest))
                if fault in ("no", "always"):
                    with state["wlock"]:
                        client.sendall(b"%s NO [UNAVAILABLE] Server busy, try again later "
                                       b"(fault injected)\r\n" % tag.encode())
                    continue
                if fault == "bye":
                    with state["wlock"]:
                        client.sendall(b"* BYE Server shutting down (fault injected)\r\n")
                    break
                if fault == "stall":
                    state["stalled"] = True
                    continue
            up.sendall(line)
    except OSError:
        pass
    close(client, up)


def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    with open(os.path.join(work, "port.tmp"), "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(os.path.join(work, "port.tmp"), os.path.join(work, "port"))
    while True:
        c, _ = srv.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
