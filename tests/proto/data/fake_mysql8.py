#!/usr/bin/env python3
"""A stand-in for a MySQL 8 server's connection phase, used only by record.sh.

MariaDB has no server side for caching_sha2_password, so to record a real client's
caching_sha2 login this script listens on HOST:PORT, sends a MySQL-8-style greeting
(protocol 10, a fresh random 20-byte scramble, plugin caching_sha2_password), reads the
client's HandshakeResponse41, answers fast-auth success (01 03) and OK (or only OK when the
auth response is empty, as MySQL 8 does for a passwordless account), then answers the
client's first command with an ERR and closes. The auth response in the capture is computed
by the client (libmariadb's caching_sha2_password plugin), not by this script.

    fake_mysql8.py HOST PORT CONNECTIONS
"""
import os
import socket
import struct
import sys


def packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def read_packet(conn):
    head = b""
    while len(head) < 4:
        chunk = conn.recv(4 - len(head))
        if not chunk:
            return None
        head += chunk
    n = head[0] | head[1] << 8 | head[2] << 16
    body = b""
    while len(body) < n:
        chunk = conn.recv(n - len(body))
        if not chunk:
            return None
        body += chunk
    return body


def scramble():
    # printable, no NUL, like mysqld's generate_user_salt
    raw = os.urandom(20)
    return bytes(0x21 + b % 94 for b in raw)


def greeting(conn_id, salt):
    lower = 0xF7DF   # everything below bit 16 except CLIENT_SSL (0x800) and CLIENT_COMPRESS (0x20)
    upper = 0x01FF   # multi statements .. deprecate EOF, incl. PLUGIN_AUTH, CONNECT_ATTRS, LENENC data
    return (bytes([10]) + b"8.0.36-dpcopy-fake\0" + struct.pack("<I", conn_id) + salt[:8] + b"\0"
            + struct.pack("<H", lower) + bytes([255]) + struct.pack("<H", 2) + struct.pack("<H", upper)
            + bytes([21]) + bytes(10) + salt[8:] + b"\0" + b"caching_sha2_password\0")


def auth_len(login):
    """The auth-response length of a HandshakeResponse41 (1-byte lenenc, as sent here)."""
    user_end = login.index(b"\0", 32)
    return login[user_end + 1]


def serve(conn, conn_id):
    conn.sendall(packet(0, greeting(conn_id, scramble())))
    login = read_packet(conn)
    if login is None:
        return
    ok = b"\x00\x00\x00\x02\x00\x00\x00"
    if auth_len(login) == 0:
        conn.sendall(packet(2, ok))
    else:
        conn.sendall(packet(2, b"\x01\x03") + packet(3, ok))
    if read_packet(conn) is None:
        return
    conn.sendall(packet(1, b"\xff" + struct.pack("<H", 1105) + b"#HY000" + b"dpcopy fake server"))


def main():
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(4)
    print("listening", flush=True)
    for i in range(count):
        conn, _ = srv.accept()
        with conn:
            serve(conn, 100 + i)


if __name__ == "__main__":
    main()
