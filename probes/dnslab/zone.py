# dnslab, second part: the zone (records and how a query is answered from them) and the faults
# (which queries get which action). Runs after wire.py. The keys, actions, record types and value
# kinds named below are those of schema.json (the Rust validator checks inputs against it first).
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
                   "value": r["value"] if VALUE_KINDS.get(rt) == "txt" else str(r["value"]),
                   "servers": servers}
            if rt in NAME_TYPES:
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
        if self.then not in ACTIONS or self.then in NOT_THEN:
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


def _fault_answers(records, qname):
    """The answers a fault gives from its own "records" (qname: the name asked, the default owner)."""
    return [(_norm(r.get("name", qname)), _type_num(r["type"]), int(r.get("ttl", 60)),
             _norm(r["value"]) if _type_num(r["type"]) in NAME_TYPES else r["value"])
            for r in records]
