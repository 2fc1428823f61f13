# dnslab, fourth part: the getaddrinfo child, a program of its own (run by run_child from
# common.py, with the scenario's arguments as JSON): it calls socket.getaddrinfo once and prints
# what it returned or raised, with its monotonic start time and duration, as one JSON line.

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
