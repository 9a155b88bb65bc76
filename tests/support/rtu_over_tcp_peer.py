#!/usr/bin/python3
"""An RTU-over-TCP peer for the link tests: pymodbus' own server with its RTU framer on a TCP
socket (an implementation independent of ours), behind a small front that can break replies on
purpose, the way a serial-to-Ethernet converter on a noisy line does.

Usage: rtu_over_tcp_peer.py FAULT[,FAULT...] [--late-ms N]
Each reply, in order, gets the next fault of the list (the last one repeats):
  ok      forwarded as it is
  crc     the last CRC byte flipped
  unit    the unit id changed (to unit + 1) and the CRC made valid again
  late    forwarded after --late-ms (default 700 ms): later than the link's timeout
  drop    the connection to the client closed instead of replying
  split   forwarded in two pieces, 30 ms apart
Unit 1 serves holding register i = 1000 + i and input register i = 2000 + i (0..199).
Prints "port N" (the front's port) on stdout once it listens; stops when stdin closes.
"""
import socket
import sys
import threading
import time

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartTcpServer
from pymodbus.transaction import ModbusRtuFramer


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return bytes([crc & 0xFF, crc >> 8])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def reply_length(buf, fc):
    if len(buf) < 3:
        return 0
    if buf[1] == (fc | 0x80):
        return 5
    if fc == 16:
        return 8
    return 5 + buf[2]


def request_length(buf):
    if len(buf) >= 7 and buf[1] == 16:
        return 9 + buf[6]
    return 8


def main():
    faults = sys.argv[1].split(",")
    late_ms = 700
    if "--late-ms" in sys.argv:
        late_ms = int(sys.argv[sys.argv.index("--late-ms") + 1])

    slave = ModbusSlaveContext(
        hr=ModbusSequentialDataBlock(0, [1000 + i for i in range(200)]),
        ir=ModbusSequentialDataBlock(0, [2000 + i for i in range(200)]),
        zero_mode=True,
    )
    context = ModbusServerContext(slaves={1: slave}, single=False)
    back_port = free_port()
    threading.Thread(
        target=StartTcpServer,
        kwargs={"context": context, "address": ("127.0.0.1", back_port), "framer": ModbusRtuFramer},
        daemon=True,
    ).start()
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", back_port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)

    front = socket.socket()
    front.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    front.bind(("127.0.0.1", 0))
    front.listen(4)
    print("port", front.getsockname()[1], flush=True)
    counter = {"n": 0}
    lock = threading.Lock()

    def next_fault():
        with lock:
            i = counter["n"]
            counter["n"] += 1
        return faults[min(i, len(faults) - 1)]

    def serve(client):
        back = socket.create_connection(("127.0.0.1", back_port))
        try:
            while True:
                req = client.recv(256)
                if not req:
                    return
                while len(req) < request_length(req):
                    more = client.recv(256)
                    if not more:
                        return
                    req += more
                fc = req[1]
                back.sendall(req[:request_length(req)])
                rep = b""
                back.settimeout(0.25)  # shorter than the link's timeout
                try:
                    while True:
                        want = reply_length(rep, fc)
                        if want and len(rep) >= want:
                            break
                        chunk = back.recv(256)
                        if not chunk:
                            return
                        rep += chunk
                except socket.timeout:
                    continue  # pymodbus did not answer (unknown unit): nor do we
                fault = next_fault()
                if fault == "crc":
                    rep = rep[:-1] + bytes([rep[-1] ^ 0xFF])
                elif fault == "unit":
                    body = bytes([(rep[0] + 1) & 0xFF]) + rep[1:-2]
                    rep = body + crc16(body)
                elif fault == "late":
                    def later(data=rep):
                        time.sleep(late_ms / 1000)
                        try:
                            client.sendall(data)
                        except OSError:
                            pass
                    threading.Thread(target=later, daemon=True).start()
                    continue
                elif fault == "drop":
                    client.close()
                    return
                elif fault == "split":
                    client.sendall(rep[:4])
                    time.sleep(0.03)
                    rep = rep[4:]
                client.sendall(rep)
        except OSError:
            return
        finally:
            back.close()

    def accept_loop():
        while True:
            client, _ = front.accept()
            threading.Thread(target=serve, args=(client,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    sys.stdin.read()  # until the test closes our stdin (or ends)


if __name__ == "__main__":
    main()
