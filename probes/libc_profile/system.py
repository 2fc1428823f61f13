# Part of the libc profile probe (assembled after probes/libc_profile/head.py).
# CPUs, time, memory and maths: cpu_count against affinity, zoneinfo, malloc in threads,
# maths digests.

# ---------------------------------------------------------------------------------------------
# CPUs, time, memory, maths

def _read_first(paths):
    for p in paths:
        try:
            with open(p) as f:
                return f.read().strip()
        except OSError:
            continue
    return None


def check_cpu_count(cfg):
    out = {"cpu_count": os.cpu_count()}
    pcc = getattr(os, "process_cpu_count", None)
    out["process_cpu_count"] = pcc() if pcc else None
    try:
        out["sched_getaffinity"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        out["sched_getaffinity"] = None
    for key, name in (("sysconf_nprocessors_onln", "SC_NPROCESSORS_ONLN"),
                      ("sysconf_nprocessors_conf", "SC_NPROCESSORS_CONF")):
        try:
            out[key] = os.sysconf(name)
        except (ValueError, OSError):
            out[key] = None
    out["cgroup_cpuset"] = _read_first(["/sys/fs/cgroup/cpuset.cpus.effective",
                                        "/sys/fs/cgroup/cpuset/cpuset.effective_cpus",
                                        "/sys/fs/cgroup/cpuset/cpuset.cpus"])
    return "ok", out, None


def check_zoneinfo(cfg):
    import datetime
    import importlib.util
    out = {"tzdata_module": importlib.util.find_spec("tzdata") is not None}
    try:
        import zoneinfo
        out["tzpath"] = list(zoneinfo.TZPATH)
        out["tzfile"] = next((os.path.join(d, "Europe/Paris") for d in zoneinfo.TZPATH
                              if os.path.isfile(os.path.join(d, "Europe/Paris"))), None)
        tz = zoneinfo.ZoneInfo("Europe/Paris")
        offs = {}
        for label, month in (("2024-01-15", 1), ("2024-07-15", 7)):
            dt = datetime.datetime(2024, month, 15, 12, 0, tzinfo=datetime.timezone.utc).astimezone(tz)
            offs[label] = int(dt.utcoffset().total_seconds())
        out["ok"] = True
        out["utcoffset_s"] = offs
    except Exception as e:
        out["ok"] = False
        out["error"] = "%s: %s" % (type(e).__name__, e)
    return "ok", out, None


_MALLOC_CHILD = r'''
import json, random, sys, threading, time
seconds = float(sys.argv[1])
nthreads = int(sys.argv[2])
rng = random.Random(12345)
sizes = [rng.randint(1024, 65536) for _ in range(4096)]
counts = [0] * nthreads
stop = [False]
barrier = threading.Barrier(nthreads + 1)
def work(i):
    live = [None] * 16
    n = 0
    k = i * 997
    barrier.wait()
    while not stop[0]:
        for _ in range(64):
            live[n & 15] = bytearray(sizes[k & 4095])
            n += 1
            k += 1
    counts[i] = n
threads = [threading.Thread(target=work, args=(i,)) for i in range(nthreads)]
for t in threads:
    t.start()
barrier.wait()
t0 = time.perf_counter()
time.sleep(seconds)
stop[0] = True
for t in threads:
    t.join()
elapsed = time.perf_counter() - t0
sys.stdout.write(json.dumps({"ops_per_sec": int(sum(counts) / elapsed), "threads": nthreads,
                             "seconds": round(elapsed, 2)}) + "\n")
'''


def check_malloc_threads(cfg):
    seconds = 0.5 if cfg.get("quick") else 1.5
    return _child_value(_MALLOC_CHILD, args=(seconds, 4), timeout=30.0,
                        env={"PYTHONMALLOC": "malloc"})


_MATH_DIGEST_1 = ["sin", "cos", "tan", "exp", "log", "log10", "log2", "atan", "asin", "acos",
                  "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc", "expm1",
                  "log1p", "cbrt", "exp2", "sqrt", "gamma", "lgamma"]
_MATH_DIGEST_2 = ["pow", "atan2", "hypot", "fmod", "remainder"]


def _math_digests(n=500):
    """Per libm function: sha256 (12 hex digits) of the reprs of its results on n fixed inputs.
    The inputs come from random.Random(7), which is the same sequence on every platform."""
    import hashlib
    import math
    import random
    out = {}
    for name in _MATH_DIGEST_1 + _MATH_DIGEST_2:
        fn = getattr(math, name, None)
        if fn is None:
            continue
        rng = random.Random(7)
        h = hashlib.sha256()
        for _ in range(n):
            if name in _MATH_DIGEST_1:
                args = (rng.choice([rng.uniform(-10, 10), rng.uniform(-1, 1), rng.uniform(0, 1e6),
                                    math.ldexp(rng.random(), rng.randint(-1070, 1020))]),)
            else:
                args = (rng.uniform(-100, 100),
                        rng.choice([rng.uniform(-100, 100),
                                    math.ldexp(rng.random(), rng.randint(-1070, 1020))]))
            try:
                r = repr(fn(*args))
            except (ValueError, OverflowError, ArithmeticError) as e:
                r = type(e).__name__
            h.update(r.encode() + b";")
        out[name] = h.hexdigest()[:12]
    return out


def check_math(cfg):
    import math
    out = {}
    msg = None
    if hasattr(math, "fma"):
        out["fma(1e-300,-1e-300,0.0)"] = repr(math.fma(1e-300, -1e-300, 0.0))
        out["fma(-1e-300,1e-300,-0.0)"] = repr(math.fma(-1e-300, 1e-300, -0.0))
    else:
        out["fma(1e-300,-1e-300,0.0)"] = None
        msg = "math.fma absent (Python < 3.13): fma skipped"
    opt = lambda name, *a: getattr(math, name)(*a) if hasattr(math, name) else None
    exprs = [
        # edge cases
        ("fmod(-0.0,1.0)", lambda: math.fmod(-0.0, 1.0)),
        ("lgamma(-0.5)", lambda: math.lgamma(-0.5)),
        ("pow(2.0,-1074.5)", lambda: math.pow(2.0, -1074.5)),
        ("pow(1.0000000000000002,1e16)", lambda: math.pow(1.0000000000000002, 1e16)),
        ("sin(1e22)", lambda: math.sin(1e22)),
        ("exp(709.78)", lambda: math.exp(709.78)),
        ("erfc(27.0)", lambda: math.erfc(27.0)),
        # ordinary arguments (last-digit rounding of the libm routines)
        ("sin(0.9603496949851642)", lambda: math.sin(0.9603496949851642)),
        ("cos(-0.6557230516822354)", lambda: math.cos(-0.6557230516822354)),
        ("exp(8.41292475411678)", lambda: math.exp(8.41292475411678)),
        ("tanh(-0.5510314088667121)", lambda: math.tanh(-0.5510314088667121)),
        ("cbrt(-0.34301444433758066)", lambda: opt("cbrt", -0.34301444433758066)),
        ("gamma(-2.7352524540906886)", lambda: math.gamma(-2.7352524540906886)),
        ("lgamma(-7.267171861411386)", lambda: math.lgamma(-7.267171861411386)),
        ("atan2(-2.6921114147003635,12.729645890904521)",
         lambda: math.atan2(-2.6921114147003635, 12.729645890904521)),
    ]
    for label, fn in exprs:
        try:
            r = fn()
            out[label] = None if r is None else repr(r)
        except (ValueError, OverflowError, ArithmeticError) as e:
            out[label] = "%s: %s" % (type(e).__name__, e)
    out["digests"] = _math_digests()
    return "ok", out, msg
