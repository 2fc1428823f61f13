# dnslab: the DNS resolver lab (probe "dns"). Runs after probes/common.py (same program).
#
# A scripted DNS server (UDP and TCP, threads in this process) listens on loopback addresses
# (127.0.0.1, 127.0.0.2, ... port 53; all of 127/8 is on lo) and answers from a zone and a fault
# script. For every scenario the probe writes /etc/resolv.conf (and /etc/hosts, /etc/nsswitch.conf
# when asked), starts the servers, runs socket.getaddrinfo() in a child process (the libc resolver
# is exercised only that way; never nslookup/dig, BusyBox has its own DNS client), and reports what
# the resolver returned and every query the servers saw. Nothing here knows what a libc is
# expected to do: every value is observed.
#
# Needs root (uid 0) in the container to write /etc/resolv.conf, /etc/hosts, /etc/nsswitch.conf
# (files root owns, so no capability is needed) and a writable root filesystem for nsswitch.conf;
# binding port 53 needs net.ipv4.ip_unprivileged_port_start <= 53 (Docker >= 20.10 sets 0 in a
# container's network namespace) or CAP_NET_BIND_SERVICE.
#
# CONFIG (argv[1], JSON object; all keys optional):
#   {}                                   every built-in scenario (D0 ... D13)
#   {"scenarios": ["D1", "D3"]}          a subset: exact ids (case-insensitive); an id with no
#                                        exact match selects every id it prefixes ("D2" = D2a, D2b)
#   {"custom": SCENARIO}                 one incident replay (or a list of SCENARIO objects);
#                                        built-ins run too only when "scenarios" is also given
#   {"custom_file": PATH}                the same, read from a JSON file in the container (how
#                                        the harness passes a scenario: a zone may be megabytes)
#   {"list": true}                       emit the built-in definitions (check dns.list), run nothing
#   {"timeout_s": 25}                    default time limit of each getaddrinfo child
#
# SCENARIO (a built-in is one of these too; probes/dns-scenarios/*.json are examples):
#   {"id": "incident-42",                check id becomes "dns.<id>" ([A-Za-z0-9_.-], max 64)
#    "title": "text",
#    "resolv_conf": "search ...\nnameserver 10.96.0.10\noptions ndots:5\n",
#        written to /etc/resolv.conf. A nameserver that is not an IPv4 loopback address is
#        rewritten to a free 127.0.0.N (in order of appearance), reported in
#        scenario.nameserver_map; "server" fields in zone and faults may use either address.
#    "zone": ZONE,
#    "faults": [FAULT, ...],
#    "name": "api.example",              the name given to getaddrinfo
#    "type": "A" | "AAAA" | "ANY",       family AF_INET / AF_INET6 / AF_UNSPEC (default "ANY");
#    "family": "AF_INET6" | int,         or the family itself (wins over "type")
#    "port": 443,                        service argument (int, string or null), default 443
#    "socktype": "SOCK_STREAM" | 0,      default SOCK_STREAM (0 = every socket type)
#    "proto": 0,
#    "flags": ["AI_ADDRCONFIG", "AI_CANONNAME"] | int,    default 0
#    "hosts": "text of /etc/hosts",      default: "127.0.0.1 localhost" + "::1 localhost ..."
#    "nsswitch": "hosts: dns\n",         written to /etc/nsswitch.conf only when given
#    "env": {"RES_OPTIONS": "ndots:3", "LOCALDOMAIN": "corp.example"},   child environment
#    "timeout_s": 25}                    the child is killed after this (check status "timeout")
# Every file is restored (or removed if it did not exist) after the scenario.
#
# ZONE:
#   {"records": [{"name": "api.example.", "type": "A", "value": "10.0.0.5", "ttl": 60,
#                 "servers": ["127.0.0.2"]}, ...],
#    "servers": ["127.0.0.1", "127.0.0.2"],
#    "udp_max": 512}
#   records: name (trailing dot optional, case-insensitive; "*.x.example" is a wildcard), type
#     A | AAAA | CNAME | PTR | NS | MX ("10 mail.example.") | TXT (string or list) |
#     SRV ("prio weight port target") | SOA ("mname rname serial refresh retry expire minimum"),
#     value, ttl (default 60), servers (optional: only these servers serve the record).
#     Lookup: CNAME chains are followed inside the zone; a name with no records of the type but
#     with other records (or names below it) is NODATA; otherwise NXDOMAIN. Replies are
#     authoritative (AA, RA set, RD copied), names compressed.
#   servers: addresses to run a server on (default: every nameserver of resolv_conf). A
#     nameserver of resolv_conf with no server gets ICMP port unreachable, like a dead host.
#   udp_max: a UDP reply longer than this (default 512; the query's EDNS0 size if it has one)
#     is truncated: TC set, only the whole records that fit. TCP replies are never truncated.
#
# FAULT (the first fault whose filters match a query decides; no match = "answer"):
#   filters: "server" (address or list, "*"), "name" (glob on the query name, "*"),
#     "type" ("A", "AAAA", list, "*"), "transport" ("udp" | "tcp" | "*"),
#     "nth": N or [N, ...] (1-based count of the queries that passed this fault's other filters;
#     the fault applies only to those occurrences)
#   "action":
#     "answer"      from the zone (or from "records": [{"type","value","ttl","name"?}] given in
#                   the fault, with optional "rcode")
#     "delay"       wait "ms" then do "then" (default "answer"); any action may also carry "ms"
#     "drop"        no reply
#     "servfail" | "nxdomain" | "refuse" | "formerr" | "notimp"   that rcode, no records
#     "rcode"       rcode "rcode" (int), no records
#     "nodata"      NOERROR, no records
#     "truncate"    over UDP: TC set, with "keep" records (int, or "fit" = those that fit in
#                   udp_max, default "fit"); over TCP: the full answer
#     "first_per_port"   per (server, transport, source port): the first query gets "then"
#                   (default "answer"), later ones are dropped; with "window_ms" only a query that
#                   arrives within window_ms of the previous one from that port is dropped (the
#                   conntrack insertion race: concurrent A+AAAA from one socket lose one reply)
#
# OUTPUT (JSON Lines through emit): "libc" (detect_libc()), "dns.sandbox" (uid, capabilities,
# interfaces, port-53 bindability, original files), then one check per scenario, "dns.<id>":
#   value = {"scenario": {id, title, resolv_conf (as written), name, family, socktype, proto,
#                         flags, port, zone, faults, hosts, nsswitch, env, servers,
#                         nameserver_map, timeout_s},
#            "result": {"ok", "addresses", "tuples": [[family, socktype, proto, canonname,
#                        sockaddr], ...], "canonnames", "error": {"kind", "code", "name",
#                        "message"} | null} | null (child died),
#            "duration_ms": time inside the child around getaddrinfo,
#            "queries": [{"t_ms" (since getaddrinfo was called, monotonic clock shared with the
#                         child; UDP: the kernel's receive time, TCP: when the server read it),
#                         "server", "sport", "transport", "id", "name", "type", "edns",
#                         "action" ("answer 2", "answer 40 via 1 CNAME", "nxdomain", "nodata",
#                         "servfail", "refused", "dropped", "truncated 27/40", ...: records of
#                         the asked type in the reply), "fault" (index or null),
#                         "delay_ms", "rcode", "answers", "tc", "bytes", "reply_t_ms"}, ...],
#            "child": {"status", "exit_code", "signal", "stderr"}}
#   status "ok" when getaddrinfo returned (success or a gaierror: both are observations),
#   "timeout" / "crash" when the child was killed / died, "error" when the lab could not be set
#   up (message says why; e.g. port 53 not bindable, /etc read-only).
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

QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
          "SRV": 33, "OPT": 41, "ANY": 255}
QTYPE_NAMES = dict((v, k) for k, v in QTYPES.items())
RCODE_NAMES = {0: "noerror", 1: "formerr", 2: "servfail", 3: "nxdomain", 4: "notimp", 5: "refused"}
ACTION_RCODES = {"servfail": 2, "nxdomain": 3, "refuse": 5, "refused": 5, "formerr": 1,
                 "notimp": 4, "nodata": 0}
ACTIONS = set(["answer", "delay", "drop", "truncate", "first_per_port", "rcode"]) | set(ACTION_RCODES)
DEFAULT_HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
ETC = {"resolv_conf": "/etc/resolv.conf", "hosts": "/etc/hosts", "nsswitch": "/etc/nsswitch.conf"}
STRIP_ENV = ("LOCALDOMAIN", "RES_OPTIONS", "HOSTALIASES", "RESOLV_HOST_CONF", "RES_NAMESERVERS")
DNS_PORT = 53
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux asm-generic value


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
        if rtype == 1:
            self.buf += ipaddress.IPv4Address(value).packed
        elif rtype == 28:
            self.buf += ipaddress.IPv6Address(value).packed
        elif rtype in (2, 5, 12):
            self.name(value)
        elif rtype == 15:
            pref, exch = str(value).split()
            self.buf += struct.pack("!H", int(pref))
            self.name(exch)
        elif rtype == 16:
            parts = value if isinstance(value, list) else [value]
            for p in parts:
                b = p.encode("utf-8") if isinstance(p, str) else bytes(p)
                for k in range(0, max(len(b), 1), 255):
                    chunk = b[k:k + 255]
                    self.buf.append(len(chunk))
                    self.buf += chunk
        elif rtype == 33:
            prio, weight, port, target = str(value).split()
            self.buf += struct.pack("!HHH", int(prio), int(weight), int(port))
            self.name(target, compress=False)
        elif rtype == 6:
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


# ---------------------------------------------------------------------------------------------
# Zone, faults, the server
# ---------------------------------------------------------------------------------------------

def _as_set(v, norm=None):
    if v is None or v == "*" or v == ["*"]:
        return None
    if not isinstance(v, list):
        v = [v]
    return set(norm(x) if norm else x for x in v)


def _type_num(t):
    if isinstance(t, int):
        return t
    t = str(t).upper()
    if t in QTYPES:
        return QTYPES[t]
    m = re.match(r"^TYPE(\d+)$", t)
    if m:
        return int(m.group(1))
    raise LabError("unknown record type %r" % t)


class Zone(object):
    def __init__(self, records, mapper):
        self.records = []
        for r in records or []:
            if "name" not in r or "type" not in r or "value" not in r:
                raise LabError("zone record needs name, type and value: %r" % (r,))
            rt = _type_num(r["type"])
            servers = r.get("servers")
            if servers is not None:
                servers = set(mapper(s) for s in (servers if isinstance(servers, list) else [servers]))
            rec = {"name": _norm(r["name"]), "type": rt, "ttl": int(r.get("ttl", 60)),
                   "value": r["value"] if rt in (16,) else str(r["value"]), "servers": servers}
            if rt in (2, 5, 12):
                rec["value"] = _norm(rec["value"])
            try:  # validate the encoding now rather than in the server thread
                _Writer().rr(rec["name"].replace("*", "x"), rt, rec["ttl"], rec["value"])
            except (ValueError, struct.error) as e:
                raise LabError("bad zone record %r: %s" % (r, e))
            self.records.append(rec)

    def lookup(self, qname, qtype, server):
        """(rcode, [(owner, rtype, ttl, value)])"""
        recs = [r for r in self.records if r["servers"] is None or server in r["servers"]]
        name, chain, seen = _norm(qname), [], set()
        while True:
            here = [r for r in recs if r["name"] == name]
            if not here and not any(r["name"].endswith("." + name) for r in recs):
                labels = name.split(".")
                for i in range(1, len(labels) - 1):
                    wild = "*." + ".".join(labels[i:])
                    here = [r for r in recs if r["name"] == wild]
                    if here:
                        break
            match = [r for r in here if qtype == 255 or r["type"] == qtype]
            if match:
                return 0, chain + [(name, r["type"], r["ttl"], r["value"]) for r in match]
            cname = [r for r in here if r["type"] == 5]
            if cname and qtype != 5:
                if name in seen or len(chain) > 16:
                    return 2, chain
                seen.add(name)
                chain.append((name, 5, cname[0]["ttl"], cname[0]["value"]))
                name = cname[0]["value"]
                continue
            exists = bool(here) or any(r["name"].endswith("." + name) for r in recs)
            return (0 if exists else 3), chain


class Fault(object):
    def __init__(self, f, mapper, index):
        if not isinstance(f, dict):
            raise LabError("fault %d is not an object" % index)
        self.raw = f
        self.index = index
        self.action = str(f.get("action", "answer")).lower()
        if self.action not in ACTIONS:
            raise LabError("fault %d: unknown action %r" % (index, self.action))
        self.then = str(f.get("then", "answer")).lower()
        if self.then not in ACTIONS or self.then in ("delay", "first_per_port"):
            raise LabError("fault %d: bad 'then' %r" % (index, self.then))
        self.servers = _as_set(f.get("server", f.get("servers")), mapper)
        self.names = _as_set(f.get("name", f.get("names")), _norm)
        types = _as_set(f.get("type", f.get("types")))
        self.types = None if types is None else set(_type_num(t) for t in types)
        tr = _as_set(f.get("transport"), lambda x: str(x).lower())
        self.transports = tr
        nth = f.get("nth")
        self.nth = None if nth is None else set(int(x) for x in (nth if isinstance(nth, list) else [nth]))
        self.ms = float(f.get("ms", 0) or 0)
        self.window_ms = f.get("window_ms")
        self.keep = f.get("keep", "fit")
        self.rcode = int(f.get("rcode", 0))
        self.records = f.get("records")
        self.count = 0

    def filters_match(self, server, name, qtype, transport):
        if self.servers is not None and server not in self.servers:
            return False
        if self.names is not None and not any(fnmatch.fnmatchcase(_norm(name), p) for p in self.names):
            return False
        if self.types is not None and qtype not in self.types:
            return False
        if self.transports is not None and transport not in self.transports:
            return False
        return True


class DnsLab(object):
    def __init__(self, zone, faults, servers, udp_max=512, port=DNS_PORT):
        self.zone = zone
        self.faults = faults
        self.servers = list(servers)
        self.udp_max = int(udp_max)
        self.port = port
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.log = []
        self.socks = []
        self.threads = []
        self.timers = []
        self.port_last = {}
        self.t_start = time.monotonic()
        m1 = time.monotonic()
        real = time.time()
        self.clock_offset = real - (m1 + time.monotonic()) / 2.0  # CLOCK_REALTIME - CLOCK_MONOTONIC

    # -- lifecycle --
    def start(self):
        try:
            for addr in self.servers:
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self.socks.append(u)
                u.bind((addr, self.port))
                u.settimeout(0.05)
                try:  # kernel receive time: a query queued behind another is not logged late
                    u.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                except OSError:
                    pass
                t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self.socks.append(t)
                t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                t.bind((addr, self.port))
                t.listen(16)
                t.settimeout(0.05)
                self._thread(self._udp_loop, u, addr)
                self._thread(self._tcp_accept, t, addr)
        except OSError as e:
            self.stop()
            raise LabError("cannot listen on %s:%d: %s" % (addr, self.port, e))
        self.t_start = time.monotonic()

    def _thread(self, fn, *args):
        th = threading.Thread(target=fn, args=args)
        th.daemon = True
        th.start()
        self.threads.append(th)

    def stop(self):
        self.stop_ev.set()
        with self.lock:
            for tm in self.timers:
                tm.cancel()
        for th in list(self.threads):
            th.join(2.0)
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass

    # -- transports --
    def _udp_loop(self, sock, addr):
        while not self.stop_ev.is_set():
            try:
                data, anc, _flags, peer = sock.recvmsg(65535, socket.CMSG_SPACE(16))
            except socket.timeout:
                continue
            except OSError:
                if self.stop_ev.is_set():
                    break
                continue
            t = None
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(cdata) >= 16:
                    sec, nsec = struct.unpack("@qq", cdata[:16])
                    t = sec + nsec / 1e9 - self.clock_offset
            now = time.monotonic()
            if t is None or t > now or t < now - 5:
                t = now

            def send(reply, sock=sock, peer=peer):
                sock.sendto(reply, peer)
            self._handle(data, addr, "udp", peer, send, t)

    def _tcp_accept(self, sock, addr):
        while not self.stop_ev.is_set():
            try:
                conn, peer = sock.accept()
            except socket.timeout:
                continue
            except OSError:
                if self.stop_ev.is_set():
                    break
                continue
            self.socks.append(conn)
            self._thread(self._tcp_conn, conn, addr, peer)

    def _tcp_conn(self, conn, addr, peer):
        conn.settimeout(0.05)
        wlock = threading.Lock()
        buf = b""

        def send(reply):
            with wlock:
                conn.sendall(struct.pack("!H", len(reply)) + reply)
        while not self.stop_ev.is_set():
            try:
                chunk = conn.recv(65535)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 2:
                n = struct.unpack("!H", buf[:2])[0]
                if len(buf) < 2 + n:
                    break
                msg, buf = buf[2:2 + n], buf[2 + n:]
                self._handle(msg, addr, "tcp", peer, send)
        try:
            conn.close()
        except OSError:
            pass

    # -- the script --
    def _handle(self, data, server, transport, peer, send, t=None):
        if t is None:
            t = time.monotonic()
        entry = {"t": t, "server": server, "sport": peer[1], "transport": transport}
        try:
            q = parse_query(data)
        except (ValueError, struct.error) as e:
            entry.update({"action": "malformed: %s" % e, "bytes_in": len(data)})
            with self.lock:
                self.log.append(entry)
            return
        entry.update({"id": q["id"], "name": q["qname"], "type": _qtype_name(q["qtype"]),
                      "edns": q["edns"]})
        with self.lock:
            self.log.append(entry)
            try:
                reply, delay = self._decide(q, server, transport, peer[1], t, entry)
            except Exception as e:  # a zone/fault we could not encode: say so, answer nothing
                entry["action"] = "lab error: %s" % e
                reply, delay = None, 0
            if reply is None:
                return
            if delay > 0:
                tm = threading.Timer(delay / 1000.0, self._send, (send, reply, entry))
                tm.daemon = True
                self.timers.append(tm)
                tm.start()
                return
        self._send(send, reply, entry)

    def _send(self, send, reply, entry):
        if self.stop_ev.is_set():
            entry["reply_t"] = None
            entry["note"] = "reply not sent: the lookup was over"
            return
        try:
            send(reply)
            entry["reply_t"] = time.monotonic()
        except OSError as e:
            entry["reply_t"] = None
            entry["note"] = "reply not sent: %s" % e

    def _decide(self, q, server, transport, sport, t, entry):
        fault = None
        for f in self.faults:
            if not f.filters_match(server, q["qname"], q["qtype"], transport):
                continue
            f.count += 1
            if f.nth is not None and f.count not in f.nth:
                continue
            fault = f
            break
        entry["fault"] = fault.index if fault else None
        action = fault.action if fault else "answer"
        delay = fault.ms if fault else 0.0
        if action == "delay":
            action = fault.then
        if action == "first_per_port":
            key = (server, transport, sport)
            last = self.port_last.get(key)
            self.port_last[key] = t
            if last is not None and (fault.window_ms is None or (t - last) * 1000.0 <= float(fault.window_ms)):
                action = "drop"
                entry["note"] = "not the first query from this source port"
            else:
                action = fault.then
        entry["delay_ms"] = delay
        if q["opcode"] != 0:
            action, delay = "notimp", 0.0
        if action == "drop":
            entry["action"] = "dropped"
            return None, 0
        limit = None
        if transport == "udp":
            limit = q["edns"] if (q["edns"] or 0) > 512 else self.udp_max
        keep = None
        if action in ("answer", "truncate"):
            if fault is not None and fault.records is not None:
                answers = [(_norm(r.get("name", q["qname"])), _type_num(r["type"]), int(r.get("ttl", 60)),
                            _norm(r["value"]) if _type_num(r["type"]) in (2, 5, 12) else r["value"])
                           for r in fault.records]
                rcode = fault.rcode
            else:
                rcode, answers = self.zone.lookup(q["qname"], q["qtype"], server)
            if action == "truncate" and transport == "udp" and fault.keep != "fit":
                keep = int(fault.keep)
                limit = None
            forced_tc = action == "truncate" and transport == "udp"
        else:
            rcode = fault.rcode if action == "rcode" else ACTION_RCODES[action]
            answers, forced_tc = [], False
        reply, n, tc = build_reply(q, rcode, answers, tc=forced_tc, limit=limit, keep=keep)
        # label: records of the asked type, CNAMEs leading to them counted apart
        cn_all = sum(1 for a in answers if a[1] == 5) if q["qtype"] not in (5, 255) else 0
        cn = sum(1 for a in answers[:n] if a[1] == 5) if q["qtype"] not in (5, 255) else 0
        via = " via %d CNAME" % cn if cn else ""
        if tc:
            entry["action"] = "truncated %d/%d%s" % (n - cn, len(answers) - cn_all, via)
        elif rcode == 0 and n == cn:
            entry["action"] = "nodata" + via
        elif rcode == 0:
            entry["action"] = "answer %d%s" % (n - cn, via)
        else:
            entry["action"] = RCODE_NAMES.get(rcode, "rcode %d" % rcode) + via
        entry.update({"rcode": RCODE_NAMES.get(rcode, rcode), "answers": n, "tc": tc,
                      "bytes": len(reply)})
        return reply, delay

    def queries(self, base):
        out = []
        with self.lock:
            log = list(self.log)
        for e in log:
            d = dict(e)
            d["t_ms"] = round((d.pop("t") - base) * 1000.0, 2)
            if "reply_t" in d:
                rt = d.pop("reply_t")
                d["reply_t_ms"] = None if rt is None else round((rt - base) * 1000.0, 2)
            elif "action" in d and d["action"] != "dropped" and not d["action"].startswith(("malformed", "lab error")):
                d["reply_t_ms"] = None
                d.setdefault("note", "reply not sent: the lookup was over")
            out.append(d)
        out.sort(key=lambda d: d["t_ms"])  # UDP entries carry kernel receive times
        return out


# ---------------------------------------------------------------------------------------------
# The getaddrinfo child
# ---------------------------------------------------------------------------------------------

CHILD = r'''
import errno, json, socket, sys, time
a = json.loads(sys.argv[1])
pref = ["EAI_NONAME", "EAI_AGAIN", "EAI_FAIL", "EAI_NODATA", "EAI_ADDRFAMILY", "EAI_FAMILY",
        "EAI_SOCKTYPE", "EAI_SERVICE", "EAI_BADFLAGS", "EAI_MEMORY", "EAI_OVERFLOW", "EAI_SYSTEM"]
names = {}
for k in pref + sorted(k for k in dir(socket) if k.startswith("EAI_")):
    v = getattr(socket, k, None)
    if isinstance(v, int) and k not in names.get(v, []):
        names.setdefault(v, []).append(k)
def sym(enum, v):
    try:
        return enum(v).name
    except ValueError:
        return v
t0 = time.monotonic()
sys.stderr.write("T0 %.9f\n" % t0)
sys.stderr.flush()
t0 = time.monotonic()
out = {}
try:
    res = socket.getaddrinfo(a["host"], a["port"], a["family"], a["type"], a["proto"], a["flags"])
    t1 = time.monotonic()
    tuples = [[sym(socket.AddressFamily, f), sym(socket.SocketKind, t), p, c, list(sa)]
              for f, t, p, c, sa in res]
    addrs = []
    for tp in tuples:
        if tp[4][0] not in addrs:
            addrs.append(tp[4][0])
    out = {"ok": True, "addresses": addrs, "tuples": tuples, "canonnames": [tp[3] for tp in tuples],
           "error": None}
except socket.gaierror as e:
    t1 = time.monotonic()
    n = names.get(e.errno, ["EAI_%s" % e.errno])
    out = {"ok": False, "addresses": [], "tuples": [], "canonnames": [],
           "error": {"kind": "gaierror", "code": e.errno, "name": n[0], "aliases": n[1:], "message": e.strerror}}
except OSError as e:
    t1 = time.monotonic()
    out = {"ok": False, "addresses": [], "tuples": [], "canonnames": [],
           "error": {"kind": type(e).__name__, "code": e.errno, "name": errno.errorcode.get(e.errno),
                     "aliases": [], "message": e.strerror or str(e)}}
except Exception as e:
    t1 = time.monotonic()
    out = {"ok": False, "addresses": [], "tuples": [], "canonnames": [],
           "error": {"kind": type(e).__name__, "code": None, "name": None, "aliases": [], "message": str(e)}}
out["t0"] = t0
out["duration_ms"] = (t1 - t0) * 1000.0
sys.stdout.write(json.dumps(out) + "\n")
'''


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------

def _rr(name, rtype, value, ttl=60):
    return {"name": name, "type": rtype, "value": value, "ttl": ttl}


API = [_rr("api.lab.test.", "A", "10.0.0.5"), _rr("api.lab.test.", "AAAA", "fd00::5")]
NS1 = "nameserver 127.0.0.1\n"
LONG_DOMAINS = ["s%d-%s.lab.test" % (i, "x" * 48) for i in range(1, 6)]

BUILTINS = [
    {"id": "D0", "title": "one server, A and AAAA exist",
     "resolv_conf": NS1, "zone": {"records": API}, "faults": [], "name": "api.lab.test"},
    {"id": "D1", "title": "ns1 answers correctly after 500 ms, ns2 answers NXDOMAIN at once",
     "resolv_conf": "nameserver 127.0.0.1\nnameserver 127.0.0.2\n",
     "zone": {"records": API, "servers": ["127.0.0.1", "127.0.0.2"]},
     "faults": [{"server": "127.0.0.1", "action": "delay", "ms": 500},
                {"server": "127.0.0.2", "action": "nxdomain"}],
     "name": "api.lab.test"},
    {"id": "D2a", "title": "options single-request, A and AAAA answered after 100 ms",
     "resolv_conf": "options single-request\n" + NS1, "zone": {"records": API},
     "faults": [{"action": "delay", "ms": 100}], "name": "api.lab.test"},
    {"id": "D2b", "title": "options single-request-reopen, A and AAAA answered after 100 ms",
     "resolv_conf": "options single-request-reopen\n" + NS1, "zone": {"records": API},
     "faults": [{"action": "delay", "ms": 100}], "name": "api.lab.test"},
    {"id": "D3", "title": "AAAA reply dropped, A answered (conntrack race), default options",
     "resolv_conf": NS1, "zone": {"records": API},
     "faults": [{"type": "AAAA", "action": "drop"}], "name": "api.lab.test"},
    {"id": "D3b", "title": "AAAA reply dropped, A answered, options timeout:2 attempts:2",
     "resolv_conf": "options timeout:2 attempts:2\n" + NS1, "zone": {"records": API},
     "faults": [{"type": "AAAA", "action": "drop"}], "name": "api.lab.test"},
    {"id": "D4", "title": "name with dots >= ndots fails globally, exists under the search domain",
     "resolv_conf": "search corp.lab.test\n" + NS1,
     "zone": {"records": [_rr("db.internal.corp.lab.test.", "A", "10.0.0.7")]}, "faults": [],
     "name": "db.internal"},
    {"id": "D5", "title": "SERVFAIL for the first search domain, the second has the name",
     "resolv_conf": "search a.lab.test b.lab.test\n" + NS1,
     "zone": {"records": [_rr("api.b.lab.test.", "A", "10.0.0.8"), _rr("api.b.lab.test.", "AAAA", "fd00::8")]},
     "faults": [{"name": "api.a.lab.test", "action": "servfail"}], "name": "api"},
    {"id": "D6", "title": "NOERROR with no records (NODATA) for the first search domain",
     "resolv_conf": "search a.lab.test b.lab.test\n" + NS1,
     "zone": {"records": [_rr("api.b.lab.test.", "A", "10.0.0.8"), _rr("api.b.lab.test.", "AAAA", "fd00::8")]},
     "faults": [{"name": "api.a.lab.test", "action": "nodata"}], "name": "api"},
    {"id": "D7", "title": "answer > 512 bytes (40 A records): TC over UDP, full over TCP",
     "resolv_conf": NS1,
     "zone": {"records": [_rr("big.lab.test.", "A", "10.0.1.%d" % i) for i in range(1, 41)]
              + [_rr("big.lab.test.", "AAAA", "fd00::1:1")], "udp_max": 512},
     "faults": [], "name": "big.lab.test"},
    {"id": "D8", "title": "nsswitch.conf 'hosts: dns', the name only in /etc/hosts",
     "resolv_conf": NS1, "nsswitch": "hosts: dns\n",
     "hosts": DEFAULT_HOSTS + "10.0.0.9\thostsonly.lab.test\n",
     "zone": {"records": API}, "faults": [], "name": "hostsonly.lab.test"},
    {"id": "D9", "title": "RES_OPTIONS=ndots:3 and LOCALDOMAIN=env.lab.test in the environment",
     "resolv_conf": "search file.lab.test\n" + NS1,
     "env": {"RES_OPTIONS": "ndots:3", "LOCALDOMAIN": "env.lab.test"},
     "zone": {"records": [_rr("svc.ns.env.lab.test.", "A", "10.0.0.10"),
                          _rr("svc.ns.file.lab.test.", "A", "10.0.0.11")]},
     "faults": [], "name": "svc.ns"},
    {"id": "D10", "title": "search line of 256+ bytes, the name under its first domain",
     "resolv_conf": "search " + " ".join(LONG_DOMAINS) + "\n" + NS1,
     "zone": {"records": [_rr("api.%s." % LONG_DOMAINS[0], "A", "10.0.0.12")]}, "faults": [],
     "name": "api"},
    {"id": "D11", "title": "AI_ADDRCONFIG with only loopback configured, A and AAAA exist",
     "resolv_conf": NS1, "zone": {"records": API}, "faults": [], "name": "api.lab.test",
     "flags": ["AI_ADDRCONFIG"]},
    {"id": "D13", "title": "numeric host getaddrinfo('127.0.0.1', 80), every socket type",
     "resolv_conf": NS1, "zone": {"records": API}, "faults": [], "name": "127.0.0.1",
     "port": 80, "socktype": 0},
]


def _loopback4(addr):
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return ip.version == 4 and ip.is_loopback


class NameserverMap(object):
    """Maps nameserver addresses that are not IPv4 loopback to free 127.0.0.N addresses."""

    def __init__(self, resolv_text):
        self.map = {}
        self.used = set()
        for line in resolv_text.splitlines():
            tok = line.split()
            if len(tok) >= 2 and tok[0] == "nameserver" and _loopback4(tok[1]):
                self.used.add(tok[1])

    def __call__(self, addr):
        addr = str(addr).strip()
        if _loopback4(addr):
            return addr
        if addr not in self.map:
            n = 1
            while "127.0.0.%d" % n in self.used:
                n += 1
            self.map[addr] = "127.0.0.%d" % n
            self.used.add(self.map[addr])
        return self.map[addr]

    def rewrite(self, text):
        out, nameservers = [], []
        for line in text.splitlines():
            tok = line.split()
            if len(tok) >= 2 and tok[0] == "nameserver":
                addr = tok[1].split("%")[0]
                try:
                    ipaddress.ip_address(addr)
                except ValueError:
                    out.append(line)  # not an address: leave it for the libc to ignore
                    continue
                new = self(addr)
                nameservers.append(new)
                out.append("nameserver %s" % new if new != tok[1] else line)
            else:
                out.append(line)
        return "\n".join(out) + "\n", nameservers


def _family(sc):
    if "family" in sc:
        f = sc["family"]
        if isinstance(f, int):
            return f
        v = getattr(socket, str(f).upper(), None)
        if not isinstance(v, int) or not str(f).upper().startswith("AF_"):
            raise LabError("unknown family %r" % f)
        return v
    t = str(sc.get("type", "ANY")).upper()
    fams = {"A": socket.AF_INET, "AAAA": socket.AF_INET6, "ANY": socket.AF_UNSPEC, "UNSPEC": socket.AF_UNSPEC}
    if t not in fams:
        raise LabError("type must be A, AAAA or ANY, not %r" % sc.get("type"))
    return fams[t]


def _socktype(v):
    if isinstance(v, int):
        return v
    s = str(v).upper()
    if not s.startswith("SOCK_"):
        s = "SOCK_" + s
    r = getattr(socket, s, None)
    if not isinstance(r, int):
        raise LabError("unknown socktype %r" % v)
    return r


def _flags(v):
    if v is None:
        return 0
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        v = [x for x in re.split(r"[|,\s]+", v) if x]
    out = 0
    for name in v:
        r = getattr(socket, str(name).upper(), None)
        if not isinstance(r, int) or not str(name).upper().startswith("AI_"):
            raise LabError("unknown getaddrinfo flag %r" % name)
        out |= r
    return out


class EtcFiles(object):
    def __init__(self):
        self.saved = {}

    def write(self, path, text):
        if path not in self.saved:
            try:
                with open(path) as f:
                    original = f.read()
            except FileNotFoundError:
                original = None
            except OSError as e:
                raise LabError("cannot read %s: %s" % (path, e))
        try:
            f = open(path, "w")  # in place: Docker bind-mounts resolv.conf and hosts
        except OSError as e:
            raise LabError("cannot write %s: %s" % (path, e))
        if path not in self.saved:
            self.saved[path] = original  # opened (and truncated or created): restore it later
        try:
            with f:
                f.write(text)
        except OSError as e:
            raise LabError("cannot write %s: %s" % (path, e))

    def restore(self):
        problems = []
        for path, text in self.saved.items():
            try:
                if text is None:
                    os.unlink(path)
                else:
                    with open(path, "w") as f:
                        f.write(text)
            except OSError as e:
                problems.append("cannot restore %s: %s" % (path, e))
        self.saved = {}
        return problems


def prepare(sc, default_timeout):
    """Validates a scenario; returns (described scenario, lab parameters)."""
    if not isinstance(sc, dict):
        raise LabError("a scenario must be a JSON object")
    for key in ("resolv_conf", "name"):
        if not isinstance(sc.get(key), str):
            raise LabError("scenario needs %r (a string)" % key)
    zone = sc.get("zone") or {}
    if not isinstance(zone, dict):
        raise LabError("zone must be an object")
    faults = sc.get("faults") or []
    if not isinstance(faults, list):
        raise LabError("faults must be a list")
    mapper = NameserverMap(sc["resolv_conf"])
    resolv, nameservers = mapper.rewrite(sc["resolv_conf"])
    if zone.get("servers"):
        servers = [mapper(s) for s in zone["servers"]]
    else:
        servers = list(nameservers) or ["127.0.0.1"]
    servers = sorted(set(servers), key=servers.index)
    zone_obj = Zone(zone.get("records"), mapper)
    fault_objs = [Fault(f, mapper, i) for i, f in enumerate(faults)]
    env = sc.get("env") or {}
    if not isinstance(env, dict):
        raise LabError("env must be an object")
    env = dict((str(k), str(v)) for k, v in env.items())
    port = sc.get("port", 443)
    args = {"host": sc["name"], "port": port, "family": _family(sc),
            "type": _socktype(sc.get("socktype", "SOCK_STREAM")), "proto": int(sc.get("proto", 0)),
            "flags": _flags(sc.get("flags"))}
    timeout = float(sc.get("timeout_s", default_timeout))
    desc = {"id": sc.get("id"), "title": sc.get("title", ""), "resolv_conf": resolv,
            "name": sc["name"], "port": port, "family": _sym("AF_", args["family"]),
            "socktype": _sym("SOCK_", args["type"]), "proto": args["proto"],
            "flags": _flag_names(args["flags"]), "zone": zone, "faults": faults,
            "hosts": sc.get("hosts", DEFAULT_HOSTS), "nsswitch": sc.get("nsswitch"),
            "env": env, "servers": servers, "nameserver_map": dict(mapper.map),
            "timeout_s": timeout}
    if resolv != sc["resolv_conf"] and not resolv.rstrip("\n") == sc["resolv_conf"].rstrip("\n"):
        desc["resolv_conf_given"] = sc["resolv_conf"]
    for k in ("description", "incident"):
        if k in sc:
            desc[k] = sc[k]
    return desc, {"zone": zone_obj, "faults": fault_objs, "servers": servers,
                  "udp_max": zone.get("udp_max", 512), "args": args, "env": env,
                  "timeout": timeout}


def _sym(prefix, value):
    if value == 0 and prefix == "SOCK_":
        return 0
    for k in sorted(dir(socket)):
        if k.startswith(prefix) and getattr(socket, k) == value:
            if prefix == "AF_" and k in ("AF_FILE",):
                continue
            return k
    return value


def _flag_names(flags):
    names = []
    for k in ("AI_PASSIVE", "AI_CANONNAME", "AI_NUMERICHOST", "AI_NUMERICSERV", "AI_V4MAPPED",
              "AI_ALL", "AI_ADDRCONFIG"):
        v = getattr(socket, k, None)
        if v and flags & v:
            names.append(k)
            flags &= ~v
    if flags:
        names.append(flags)
    return names


def _scenario_id(sc):
    sid = str(sc.get("id", "custom")) if isinstance(sc, dict) else "custom"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", sid)[:64] or "custom"


def run_scenario(sc, default_timeout, files):
    sid = _scenario_id(sc)
    check = "dns." + sid
    wall0 = time.monotonic()
    try:
        desc, p = prepare(sc, default_timeout)
        desc["id"] = sid
    except (LabError, ValueError, TypeError, KeyError) as e:
        emit(check, "error", value={"scenario": sc if isinstance(sc, dict) else None},
             message="bad scenario: %s" % e)
        return
    lab, res, problems = None, None, []
    try:
        files.write(ETC["resolv_conf"], desc["resolv_conf"])
        files.write(ETC["hosts"], desc["hosts"])
        if desc["nsswitch"] is not None:
            files.write(ETC["nsswitch"], desc["nsswitch"])
        lab = DnsLab(p["zone"], p["faults"], p["servers"], p["udp_max"])
        lab.start()
        res = run_child(CHILD, [json.dumps(p["args"])], timeout=p["timeout"], env=p["env"])
    except LabError as e:
        problems.append(str(e))
    finally:
        if lab is not None:
            lab.stop()
        problems += files.restore()
    wall_ms = (time.monotonic() - wall0) * 1000.0
    if res is None:
        emit(check, "error", value={"scenario": desc, "queries": lab.queries(lab.t_start) if lab else []},
             message="; ".join(problems), duration_ms=wall_ms)
        return
    out = None
    for line in reversed((res.get("stdout") or "").splitlines()):
        try:
            out = json.loads(line)
            break
        except ValueError:
            continue
    base = None
    if out is not None:
        base = out.pop("t0", None)
    if base is None:
        m = re.search(r"^T0 ([0-9.]+)$", res.get("stderr") or "", re.M)
        base = float(m.group(1)) if m else lab.t_start
    gai_ms = out.pop("duration_ms", None) if out is not None else None
    if gai_ms is not None:
        gai_ms = round(gai_ms, 1)
    stderr = "\n".join(l for l in (res.get("stderr") or "").splitlines() if not l.startswith("T0 "))
    value = {"scenario": desc, "result": out, "duration_ms": gai_ms, "queries": lab.queries(base),
             "child": {"status": res["status"], "exit_code": res["exit_code"], "signal": res["signal"],
                       "signal_name": res.get("signal_name"), "stderr": stderr[-2000:],
                       "wall_ms": round(res["duration_ms"], 1)}}
    if problems:
        value["problems"] = problems
    if desc.get("flags") and "AI_ADDRCONFIG" in desc["flags"]:
        value["interfaces"] = _interfaces()
    if res["status"] == "ok" and out is not None:
        emit(check, "ok", value=value, duration_ms=wall_ms)
    elif res["status"] == "timeout":
        if gai_ms is None:
            value["duration_ms"] = round((time.monotonic() - wall0) * 1000.0, 1)
        emit(check, "timeout", value=value, duration_ms=wall_ms,
             message="getaddrinfo did not return within %.0f s" % p["timeout"])
    elif res["status"] == "crash":
        value["signal"] = res["signal"]
        emit(check, "crash", value=value, duration_ms=wall_ms,
             message="getaddrinfo child died by %s" % res.get("signal_name"))
    else:
        emit(check, "error", value=value, duration_ms=wall_ms,
             message="getaddrinfo child failed (exit %s): %s" % (res["exit_code"], stderr[-500:]))


def _read(path, limit=4000):
    try:
        with open(path) as f:
            return f.read()[:limit]
    except OSError as e:
        return None if isinstance(e, FileNotFoundError) else "<%s>" % e


def _interfaces():
    try:
        names = sorted(os.listdir("/sys/class/net"))
    except OSError:
        names = []
    inet6 = _read("/proc/net/if_inet6")
    return {"interfaces": names,
            "ipv6_addresses": [l.split()[0] for l in (inet6 or "").splitlines() if l.strip()],
            "disable_ipv6": (_read("/proc/sys/net/ipv6/conf/all/disable_ipv6") or "").strip() or None}


def sandbox_info():
    info = {"uid": os.getuid(), "euid": os.geteuid()}
    status = _read("/proc/self/status") or ""
    for key in ("CapEff", "CapPrm", "NoNewPrivs"):
        m = re.search(r"^%s:\s*(\S+)" % key, status, re.M)
        info[key] = m.group(1) if m else None
    info["ip_unprivileged_port_start"] = (_read("/proc/sys/net/ipv4/ip_unprivileged_port_start") or "").strip() or None
    info.update(_interfaces())
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.2", DNS_PORT))
            info["bind_53"] = "ok"
        finally:
            s.close()
    except OSError as e:
        info["bind_53"] = str(e)
    info["files"] = {}
    for key, path in sorted(ETC.items()):
        info["files"][path] = {"content": _read(path), "writable": os.access(path, os.W_OK) if os.path.exists(path)
                               else os.access(os.path.dirname(path), os.W_OK)}
    try:
        mounts = _read("/proc/self/mounts", 20000) or ""
        info["etc_mounts"] = [l for l in mounts.splitlines() if " /etc/" in l or " / " in l]
    except Exception:
        pass
    return info


def select_builtins(wanted):
    if wanted is None:
        return list(BUILTINS), []
    chosen, unknown = [], []
    ids = [b["id"] for b in BUILTINS]
    for w in wanted:
        w = str(w)
        exact = [b for b in BUILTINS if b["id"].lower() == w.lower()]
        hits = exact or [b for b in BUILTINS if b["id"].lower().startswith(w.lower())]
        if not hits:
            unknown.append(w)
        for b in hits:
            if b not in chosen:
                chosen.append(b)
    chosen.sort(key=lambda b: ids.index(b["id"]))
    return chosen, unknown


def main():
    cfg = mc_config()
    if not isinstance(cfg, dict):
        emit("dns", "error", message="config must be a JSON object")
        return
    for k in STRIP_ENV:
        os.environ.pop(k, None)
    emit("libc", value=detect_libc())
    if cfg.get("list"):
        emit("dns.list", value=BUILTINS)
        mc_end(2)
        return
    emit("dns.sandbox", value=sandbox_info())
    default_timeout = float(cfg.get("timeout_s", 25))
    custom = cfg.get("custom")
    if cfg.get("custom_file"):
        with open(cfg["custom_file"]) as f:
            custom = json.load(f)
    if custom is not None and not isinstance(custom, list):
        custom = [custom]
    plan = []
    planned = 2  # libc, dns.sandbox
    if custom is None or "scenarios" in cfg:
        chosen, unknown = select_builtins(cfg.get("scenarios"))
        planned += len(unknown)
        for u in unknown:
            emit("dns." + re.sub(r"[^A-Za-z0-9_.-]", "_", u)[:64], "skipped",
                 message="no built-in scenario %r (known: %s)" % (u, ", ".join(b["id"] for b in BUILTINS)))
        plan += chosen
    plan += custom or []
    files = EtcFiles()
    for sc in plan:
        try:
            run_scenario(sc, default_timeout, files)
        except Exception:
            files.restore()
            emit("dns." + _scenario_id(sc), "error", message="lab failure: %s" % traceback.format_exc()[-3000:])
    mc_end(planned + len(plan))


try:
    main()
except Exception:
    emit("dns", "error", message="probe failure: %s" % traceback.format_exc()[-3000:])
