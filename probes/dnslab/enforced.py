# dnslab, seventh part: what the lab enforces, for the unit test that compares it with schema.json
# (src/scenario/schema.rs). Config {"schema": SCENARIO} emits it as check "dns.schema": the tables
# the lab runs on, the record types its encoder writes, what each action does to a query, and the
# keys it reads from each kind of object of SCENARIO (one that uses every key). SCENARIO is only
# prepared: no file is written, no server started, no child run.


class _Reads(dict):
    """A JSON object that notes which of its keys are looked up, under its kind."""

    def __init__(self, kind, seen, items):
        dict.__init__(self, items)
        self._kind = kind
        self._seen = seen

    def _note(self, key):
        self._seen.setdefault(self._kind, set()).add(key)

    def get(self, key, default=None):
        self._note(key)
        return dict.get(self, key, default)

    def __getitem__(self, key):
        self._note(key)
        return dict.__getitem__(self, key)

    def __contains__(self, key):
        self._note(key)
        return dict.__contains__(self, key)


def _tracked(sc, seen):
    """sc with its scenario, zone, record, fault and fault record objects noting their reads."""
    sc = dict(sc)
    if isinstance(sc.get("zone"), dict):
        zone = dict(sc["zone"])
        if isinstance(zone.get("records"), list):
            zone["records"] = [_Reads("record", seen, r) for r in zone["records"]]
        sc["zone"] = _Reads("zone", seen, zone)
    if isinstance(sc.get("faults"), list):
        faults = []
        for f in sc["faults"]:
            f = dict(f)
            if isinstance(f.get("records"), list):
                f["records"] = [_Reads("fault_record", seen, r) for r in f["records"]]
            faults.append(_Reads("fault", seen, f))
        sc["faults"] = faults
    return _Reads("scenario", seen, sc)


def _reads(sc):
    """The keys the lab reads, by kind of object: sc prepared whole, then once without each of
    its keys (some are read only when another is absent: "type" when there is no "family")."""
    objects = [()]
    if isinstance(sc.get("zone"), dict):
        objects.append(("zone",))
        objects += [("zone", "records", i) for i in range(len(sc["zone"].get("records") or []))]
    for i, f in enumerate(sc.get("faults") or []):
        objects.append(("faults", i))
        objects += [("faults", i, "records", j) for j in range(len(f.get("records") or []))]
    variants = [sc]
    for path in objects:
        node = sc
        for step in path:
            node = node[step]
        for key in node:
            v = json.loads(json.dumps(sc))
            n = v
            for step in path:
                n = n[step]
            del n[key]
            variants.append(v)
    seen = {}
    for v in variants:
        try:
            _desc, p = prepare(_tracked(v, seen), 25)
            for f in p["faults"]:
                if f.records is not None:  # read when a query is answered
                    _fault_answers(f.records, "x.")
        except (LabError, ValueError, TypeError, KeyError):
            pass
    return dict((kind, sorted(keys)) for kind, keys in seen.items())


def _encodes():
    """The record types (numbers up to 255) the encoder writes a value for."""
    out = []
    for t in range(256):
        try:
            _Writer().rr("x.", t, 60, "")
        except ValueError as e:
            if str(e).startswith("cannot encode type"):
                continue
        except Exception:
            pass
        out.append(t)
    return out


def _decided():
    """What each action does to an A query over UDP (the label of the query log, or the error)."""
    mapper = NameserverMap("")
    zone = Zone([{"name": "api.lab.test.", "type": "A", "value": "10.0.0.5"}], mapper)
    q = {"id": 1, "flags": 0x0100, "opcode": 0, "rd": True, "qname": "api.lab.test.", "qtype": 1,
         "qclass": 1, "edns": None}
    out = {}
    for a in sorted(ACTIONS):
        entry = {}
        try:
            lab = DnsLab(zone, [Fault({"action": a}, mapper, 0)], ["127.0.0.1"])
            lab._decide(q, "127.0.0.1", "udp", 1024, time.monotonic(), entry)
            out[a] = entry.get("action")
        except Exception as e:
            out[a] = "error: %s: %s" % (type(e).__name__, e)
    return out


def _accepted(key, values):
    out = []
    for v in values:
        try:
            Fault({key: v}, NameserverMap(""), 0)
            out.append(v)
        except LabError:
            pass
    return out


def enforced(sc):
    families = []
    for t in sorted(SCHEMA["lookup_types"]):
        try:
            families.append([t, _sym("AF_", _family({"type": t}))])
        except LabError:
            pass
    return {"qtypes": QTYPES, "actions": _accepted("action", sorted(ACTIONS)),
            "then": _accepted("then", sorted(ACTIONS)), "action_rcodes": ACTION_RCODES,
            "decided": _decided(), "encodes": _encodes(), "ai_flags": AI_FLAGS,
            "lookup_types": families, "reads": _reads(sc)}
