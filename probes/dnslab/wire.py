# dnslab: the DNS resolver lab (probe "dns"), first part: imports, the tables the lab runs on (read
# from its schema) and the DNS wire format.
#
# A scripted DNS server (UDP and TCP, threads in this process) listens on loopback addresses
# (127.0.0.1, 127.0.0.2, ... port 53; all of 127/8 is on lo) and answers from a zone and a fault
# script. For every scenario the probe writes /etc/resolv.conf (and /etc/hosts, /etc/nsswitch.conf
# when asked), starts the servers, runs socket.getaddrinfo() in a child process (the libc resolver
# is exercised only that way; never nslookup/dig, BusyBox has its own DNS client), and reports what
# the resolver returned and every query the servers saw. Nothing here knows what a libc is
# expected to do: every value is observed.
#
# The probe is one program, assembled by src/probe/programs.rs after probes/common.py: the text of
# probes/dnslab/schema.json as DNSLAB_SCHEMA, then wire.py (this file), zone.py (zone and faults),
# lab.py (the server), child.py (the getaddrinfo child), prepare.py (a scenario made ready: the
# files it writes, the nameserver map), builtins.py (the built-in scenarios), enforced.py (what the
# lab enforces, reported for the test that compares it with the schema) and runner.py (running the
# scenarios, main). schema.json is also what the Rust validator checks inputs against, so both
# sides know the same keys, actions, rcodes, record types and value kinds.
#
# Needs root (uid 0) in the container to write /etc/resolv.conf, /etc/hosts, /etc/nsswitch.conf
# (files root owns, so no capability is needed) and a writable root filesystem for nsswitch.conf;
# binding port 53 needs net.ipv4.ip_unprivileged_port_start <= 53 (Docker >= 20.10 sets 0 in a
# container's network namespace) or CAP_NET_BIND_SERVICE.
import fnmatch
import ipaddress
import json
import os
import re
import socket
import struct
import threading
import time
import traceback

MC_PROBE = "dns"

# DNSLAB_SCHEMA is the text of schema.json, put before this file by src/probe/programs.rs.
SCHEMA = json.loads(DNSLAB_SCHEMA)
QTYPES = dict(SCHEMA["qtypes"])
QTYPE_NAMES = dict((v, k) for k, v in QTYPES.items())
RCODE_NAMES = {0: "noerror", 1: "formerr", 2: "servfail", 3: "nxdomain", 4: "notimp", 5: "refused"}
ACTION_RCODES = dict((a["name"], a["rcode"]) for a in SCHEMA["actions"] if "rcode" in a)
ACTIONS = set(a["name"] for a in SCHEMA["actions"])
# Actions that cannot come after "delay" or "first_per_port" (as their "then").
NOT_THEN = set(a["name"] for a in SCHEMA["actions"] if a.get("then") is False)
# Record type number -> how its value is written ("ipv4", "name", "mx", ...; schema "value_kinds").
VALUE_KINDS = dict((QTYPES[r["type"]], r["value"]) for r in SCHEMA["record_types"])
NAME_TYPES = set(t for t, kind in VALUE_KINDS.items() if kind == "name")
AI_FLAGS = list(SCHEMA["ai_flags"])


class LabError(Exception):
    """The lab could not be set up as the scenario asks (a configuration or sandbox problem)."""


def _qtype_name(t):
    return QTYPE_NAMES.get(t, "TYPE%d" % t)


def _norm(name):
    name = str(name).strip().lower()
    if not name.endswith("."):
        name += "."
    return name


# ---------------------------------------------------------------------------------------------
# DNS wire format
# ---------------------------------------------------------------------------------------------

def _read_name(msg, off):
    labels, end, hops = [], None, 0
    while True:
        if off >= len(msg):
            raise ValueError("name runs past the end of the message")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg):
                raise ValueError("truncated compression pointer")
            if end is None:
                end = off + 2
            hops += 1
            if hops > 32:
                raise ValueError("compression loop")
            off = ((n & 0x3F) << 8) | msg[off + 1]
            continue
        if n & 0xC0:
            raise ValueError("unsupported label type 0x%02x" % n)
        off += 1
        if n == 0:
            break
        if off + n > len(msg):
            raise ValueError("label runs past the end of the message")
        labels.append(msg[off:off + n].decode("latin-1"))
        off += n
    if end is None:
        end = off
    return ".".join(labels) + ".", end


def parse_query(msg):
    if len(msg) < 12:
        raise ValueError("message shorter than a header (%d bytes)" % len(msg))
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    if qd < 1:
        raise ValueError("no question")
    qname, off = _read_name(msg, 12)
    if off + 4 > len(msg):
        raise ValueError("question runs past the end of the message")
    qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
    off += 4
    edns = None
    try:
        for _ in range(qd - 1):
            _, off = _read_name(msg, off)
            off += 4
        for i in range(an + ns + ar):
            _, off = _read_name(msg, off)
            rtype, rclass, _ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            off += 10 + rdlen
            if rtype == 41 and i >= an + ns:
                edns = rclass
    except (ValueError, struct.error):
        pass
    return {"id": qid, "flags": flags, "opcode": (flags >> 11) & 0xF, "rd": bool(flags & 0x0100),
            "qname": qname, "qtype": qtype, "qclass": qclass, "edns": edns}


class _Writer(object):
    def __init__(self):
        self.buf = bytearray()
        self.names = {}

    def name(self, name, compress=True):
        name = name.rstrip(".")
        labels = name.split(".") if name else []
        for i in range(len(labels)):
            suffix = ".".join(labels[i:]).lower()
            if compress and suffix in self.names:
                self.buf += struct.pack("!H", 0xC000 | self.names[suffix])
                return
            if len(self.buf) < 0x3FFF:
                self.names.setdefault(suffix, len(self.buf))
            lab = labels[i].encode("latin-1")
            if not 0 < len(lab) < 64:
                raise ValueError("bad label %r in %r" % (labels[i], name))
            self.buf.append(len(lab))
            self.buf += lab
        self.buf.append(0)

    def rr(self, owner, rtype, ttl, value):
        self.name(owner)
        self.buf += struct.pack("!HHI", rtype, 1, int(ttl))
        at = len(self.buf)
        self.buf += b"\0\0"
        kind = VALUE_KINDS.get(rtype)
        if kind == "ipv4":
            self.buf += ipaddress.IPv4Address(value).packed
        elif kind == "ipv6":
            self.buf += ipaddress.IPv6Address(value).packed
        elif kind == "name":
            self.name(value)
        elif kind == "mx":
            pref, exch = str(value).split()
            self.buf += struct.pack("!H", int(pref))
            self.name(exch)
        elif kind == "txt":
            parts = value if isinstance(value, list) else [value]
            for p in parts:
                b = p.encode("utf-8") if isinstance(p, str) else bytes(p)
                for k in range(0, max(len(b), 1), 255):
                    chunk = b[k:k + 255]
                    self.buf.append(len(chunk))
                    self.buf += chunk
        elif kind == "srv":
            prio, weight, port, target = str(value).split()
            self.buf += struct.pack("!HHH", int(prio), int(weight), int(port))
            self.name(target, compress=False)
        elif kind == "soa":
            f = str(value).split()
            self.name(f[0])
            self.name(f[1])
            self.buf += struct.pack("!IIIII", *[int(x) for x in f[2:7]])
        else:
            raise ValueError("cannot encode type %s" % rtype)
        struct.pack_into("!H", self.buf, at, len(self.buf) - at - 2)


def build_reply(q, rcode, answers, tc=False, limit=None, keep=None):
    """answers: [(owner, rtype, ttl, value)]. limit: truncate (TC) to whole records within this
    many bytes; keep: at most this many answers (sets TC when fewer than all).
    Returns (bytes, n_answers_included, tc)."""
    w = _Writer()
    w.buf += b"\0" * 12
    w.name(q["qname"])
    w.buf += struct.pack("!HH", q["qtype"], q["qclass"])
    n = 0
    for i, (owner, rtype, ttl, value) in enumerate(answers):
        if keep is not None and i >= keep:
            tc = True
            break
        mark = len(w.buf)
        w.rr(owner, rtype, ttl, value)
        if limit is not None and len(w.buf) > limit:
            del w.buf[mark:]
            tc = True
            break
        n += 1
    ar = 0
    if q.get("edns") is not None and not tc:
        w.buf += b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
        ar = 1
    flags = 0x8000 | (q["opcode"] << 11) | 0x0400 | 0x0080 | (q["flags"] & 0x0100) | (rcode & 0xF)
    if tc:
        flags |= 0x0200
    struct.pack_into("!HHHHHH", w.buf, 0, q["id"], flags, 1, n, 0, ar)
    return bytes(w.buf), n, tc

