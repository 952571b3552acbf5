#!/usr/bin/env python3
"""A UDP DNS relay that can answer late: each query received on LISTEN_ADDR
LISTEN_PORT is forwarded to UPSTREAM_ADDR UPSTREAM_PORT (dnsmasq) and the
answer sent back after the current delay. stdin lines `delay SECONDS` change
the delay (each is acknowledged by `ok` on stdout); `ready` is printed once
listening. Stdlib only; runs inside the DNS namespace of netlib.py.

Usage: dns_relay.py LISTEN_ADDR LISTEN_PORT UPSTREAM_ADDR UPSTREAM_PORT"""
import socket
import sys
import threading
import time

listen = (sys.argv[1], int(sys.argv[2]))
upstream = (sys.argv[3], int(sys.argv[4]))
delay = [0.0]

srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(listen)


def answer(query, client, held):
    time.sleep(held)
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.settimeout(2.0)
    try:
        up.sendto(query, upstream)
        data, _ = up.recvfrom(4096)
        srv.sendto(data, client)
    except OSError:
        pass
    finally:
        up.close()


def serve():
    while True:
        query, client = srv.recvfrom(4096)
        threading.Thread(target=answer, args=(query, client, delay[0]), daemon=True).start()


threading.Thread(target=serve, daemon=True).start()
print("ready", flush=True)
for line in sys.stdin:
    w = line.split()
    if len(w) == 2 and w[0] == "delay":
        delay[0] = float(w[1])
        print("ok", flush=True)
