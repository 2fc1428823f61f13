# dnslab, fifth part: a scenario made ready to run (prepare: the arguments of getaddrinfo, the
# zone and faults, the nameserver map) and the files it writes (EtcFiles). Runs after zone.py.
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

DEFAULT_HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
ETC = {"resolv_conf": "/etc/resolv.conf", "hosts": "/etc/hosts", "nsswitch": "/etc/nsswitch.conf"}


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
    fams = dict((k, getattr(socket, v)) for k, v in SCHEMA["lookup_types"].items())
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
    for k in AI_FLAGS:
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

