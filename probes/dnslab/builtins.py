# dnslab, sixth part: the built-in scenarios (D0 ... D13, the resolver profile of `muslcheck run`),
# each a SCENARIO as prepare.py describes it. Runs after prepare.py (DEFAULT_HOSTS).


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
