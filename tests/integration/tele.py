#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""One DPDK telemetry query, for shell scripts.

    tele.py PREFIX COMMAND [KEY ...]

Connects to the telemetry v2 socket of the DPDK process started with
--file-prefix PREFIX, sends COMMAND (e.g. /cdna/guest,1) and prints the
reply's value: with KEYs, the values of those keys separated by spaces;
a list as space-separated items; anything else as JSON.
Exit 0, 1 when the command has no value (null) or a KEY is missing,
2 when the socket cannot be reached.
"""
import json
import os
import socket
import sys


def runtime_dir(prefix):
    base = os.environ.get("CDNA_DPDK_RUNTIME")
    if base is None:
        if os.getuid() == 0:
            base = "/var/run/dpdk"
        else:
            base = os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
    return os.path.join(base, prefix)


def fmt(v):
    if isinstance(v, list):
        return " ".join(fmt(x) for x in v)
    if isinstance(v, (dict, bool)) or v is None:
        return json.dumps(v)
    return str(v)


def main(argv):
    if len(argv) < 3:
        print("usage: tele.py PREFIX COMMAND [KEY ...]", file=sys.stderr)
        return 2
    prefix, cmd, keys = argv[1], argv[2], argv[3:]
    path = os.path.join(runtime_dir(prefix), "dpdk_telemetry.v2")
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(5)
        s.connect(path)
        info = json.loads(s.recv(65536).decode())
        maxlen = int(info.get("max_output_len", 16384))
        s.send(cmd.encode())
        raw = s.recv(max(maxlen, 65536))
        s.close()
    except (OSError, ValueError) as e:
        print(f"tele.py: {path}: {e}", file=sys.stderr)
        return 2
    try:
        reply = json.loads(raw.decode())
    except ValueError as e:
        print(f"tele.py: {cmd}: bad reply: {e}", file=sys.stderr)
        return 2
    value = reply.get(cmd.split(",", 1)[0]) if isinstance(reply, dict) else None
    if value is None:
        return 1
    if not keys:
        print(fmt(value))
        return 0
    if not isinstance(value, dict):
        return 1
    out = []
    for k in keys:
        if k not in value:
            print(f"tele.py: {cmd}: no key '{k}'", file=sys.stderr)
            return 1
        out.append(fmt(value[k]))
    print(" ".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
