"""muslcheck probe "profile": observes libc behaviour that Python programs can feel.

Runs after probes/common.py (the harness runs `python3 -c "<common.py>\\n<profile.py>" '<json>'`),
so emit(), run_child(), detect_libc() and mc_config() come from there. Stdout is JSON Lines only
(one record per check through emit); diagnostics go to stderr. Python stdlib only.

Every value below is measured at run time in the container; the probe never states what a libc
"should" give. The harness compares the records of two bases.

Config (first argument, JSON object; unknown keys ignored):
  only       list of check ids (or id prefixes such as "crash_depth") to run; default all
  preimport  list of module names imported in every crash_depth child before the test
  hints      {check id: depth}: a crash_depth boundary seen before, tried first (its two sides)
  quick      bool: shorter malloc benchmark

Checks and value shapes:
  libc                      detect_libc(): {"family", "version", "loader", "how"}
  thread_stack.python       {"bytes": N}  stack of a threading.Thread, read inside the thread
                            with pthread_getattr_np + pthread_attr_getstacksize
  thread_stack.c            {"bytes": N}  pthread_attr_getstacksize of a fresh pthread_attr_init
                            attr: the stack a thread created by C code gets by default
  crash_depth.json_thread   deepest nested list that json.dumps / repr / pickle.dumps completes
  crash_depth.repr_thread   in a threading.Thread (json also in the main thread), with
  crash_depth.pickle_thread sys.setrecursionlimit(1_000_000); depth = how many times []
  crash_depth.json_main     is wrapped ([] is depth 0, [[]] depth 1). Bisection over 0..200000, every
                            attempt in its own child so a segfault is a data point:
                            {"max_ok_depth": N, "failure_at": N+1,
                             "failure": {"status": "crash", "signal": 11, "signal_name": "SIGSEGV"}
                                     or {"status": "error", "exception": "RecursionError"},
                             "attempts": K, "confirmed": bool (both boundary depths re-run and
                             gave the same outcome), "preimport": [...] (only when configured)}
                            failure_at/failure are null when the top depth completes.
  loading.find_library      {"c": str|null, "m": str|null}  ctypes.util.find_library, in a child
  loading.cdll              {"libc.so.6": {"loaded": true} | {"loaded": false, "error": text},
                             "libc.so": ...}
  loading.libc_ver          {"platform_libc_ver": [lib, version],
                             "confstr_gnu_libc_version": {"value": text} | {"error": text},
                             "gnu_get_libc_version": {"present": bool, "value": text|null}}
  loading.ext_suffix        {"EXT_SUFFIX": text, "SOABI": text, "extension_suffixes": [...]}
  loading.dlclose           {"library": path, "mapped_before": bool,
                             "mapped_after_dlclose": bool}  (a lib-dynload module that was not
                            loaded yet, dlopen'ed and dlclose'd through ctypes, in a child)
  locale.setlocale          {"de_DE.UTF-8": {"accepted": bool, "result"|"error": text},
                             "xx_QQ.MADEUP-9": {...}}
  locale.strxfrm            {"LANG": env, "LC_ALL": env, "": {"setlocale": name|"error": text,
                             "order": [...]}, "C.UTF-8": {...}, "de_DE.UTF-8": {...}}
  locale.localeconv         {"locale": accepted name|null, "tried": [...],
                             "decimal_point": text, "thousands_sep": text}
  iconv                     {"utf8_to_gbk": R, "utf8_to_ascii_translit": R, "gbk_to_utf8": R}
                            R = {"ok": true, "hex": text, "irreversible": n}
                              | {"ok": false, "stage": "iconv_open"|"iconv", "errno": "EINVAL",
                                 "hex": partial output}
  cpu.count                 {"cpu_count", "process_cpu_count", "sched_getaffinity",
                             "sysconf_nprocessors_onln", "sysconf_nprocessors_conf",
                             "cgroup_cpuset": text|null}
  time.zoneinfo             {"ok": true, "utcoffset_s": {"2024-01-15": s, "2024-07-15": s}}
                            | {"ok": false, "error": text}; plus "tzdata_module": bool,
                            "tzpath": [...], "tzfile": path of Europe/Paris found on TZPATH|null
                            (tz data is image content, not libc)
  malloc.threads            {"ops_per_sec": N, "threads": 4, "seconds": S}  (PYTHONMALLOC=malloc,
                            each op allocates a 1..64 KiB bytearray and frees an older one)
  math.fma                  {"fma(1e-300,-1e-300,0.0)": repr|null, "<call>": repr, ...: a few libm
                            edge cases and ordinary arguments, as repr;
                            "digests": {fn: 12 hex digits of sha256 over the reprs of fn on 500
                            fixed inputs}: which libm routines round differently}

Sandbox: needs nothing beyond the usual muslcheck flags (read-only root, tmpfs /tmp,
--network none, --cap-drop ALL, non-root user); it writes no files.
"""
import json
import os
import sys
import time

MC_PROBE = "profile"

CRASH_MAX_DEPTH = 200000
CRASH_BUDGET_S = 15.0


def _log(msg):
    sys.stderr.write("profile: %s\n" % msg)
    sys.stderr.flush()


def _child_json(res):
    """Last JSON line a child printed, or None."""
    for line in reversed((res.get("stdout") or "").splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def _child_value(code, args=(), timeout=30.0, env=None):
    """Runs a child that prints one JSON object; returns (status, value, message) for emit."""
    res = run_child(code, args=args, timeout=timeout, env=env)
    val = _child_json(res)
    if res["status"] == "ok" and val is not None:
        return "ok", val, None
    tail = (res.get("stderr") or "").strip()[-600:]
    if res["status"] == "crash":
        return "crash", {"signal": res["signal"], "signal_name": res.get("signal_name")}, tail
    if res["status"] == "timeout":
        return "timeout", None, "child timed out after %.0f s" % timeout
    return "error", val, "child exit %s: %s" % (res.get("exit_code"), tail)


# ---------------------------------------------------------------------------------------------
# libc

def check_libc(cfg):
    return "ok", detect_libc(), None


# ---------------------------------------------------------------------------------------------
# threads and stacks

def _pthread_lib():
    import ctypes
    lib = ctypes.CDLL(None, use_errno=True)
    lib.pthread_self.restype = ctypes.c_size_t
    lib.pthread_self.argtypes = []
    lib.pthread_getattr_np.restype = ctypes.c_int
    lib.pthread_getattr_np.argtypes = [ctypes.c_size_t, ctypes.c_void_p]
    lib.pthread_attr_init.restype = ctypes.c_int
    lib.pthread_attr_init.argtypes = [ctypes.c_void_p]
    lib.pthread_attr_destroy.restype = ctypes.c_int
    lib.pthread_attr_destroy.argtypes = [ctypes.c_void_p]
    lib.pthread_attr_getstacksize.restype = ctypes.c_int
    lib.pthread_attr_getstacksize.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
    return lib


def _current_thread_stack(lib):
    import ctypes
    attr = ctypes.create_string_buffer(256)  # pthread_attr_t is 56 bytes on x86_64; room to spare
    rc = lib.pthread_getattr_np(lib.pthread_self(), attr)
    if rc != 0:
        raise OSError(rc, "pthread_getattr_np: %s" % os.strerror(rc))
    size = ctypes.c_size_t(0)
    try:
        rc = lib.pthread_attr_getstacksize(attr, ctypes.byref(size))
        if rc != 0:
            raise OSError(rc, "pthread_attr_getstacksize: %s" % os.strerror(rc))
    finally:
        lib.pthread_attr_destroy(attr)
    return size.value


def check_thread_stack_python(cfg):
    import threading
    lib = _pthread_lib()
    out = {}

    def target():
        try:
            out["bytes"] = _current_thread_stack(lib)
        except BaseException as e:  # reported by the caller
            out["error"] = repr(e)

    t = threading.Thread(target=target, name="mc-stack")
    t.start()
    t.join()
    if "error" in out:
        return "error", None, out["error"]
    return "ok", {"bytes": out["bytes"]}, "threading.stack_size()=%d" % threading.stack_size()


def check_thread_stack_c(cfg):
    import ctypes
    lib = _pthread_lib()
    attr = ctypes.create_string_buffer(256)
    rc = lib.pthread_attr_init(attr)
    if rc != 0:
        return "error", None, "pthread_attr_init: %s" % os.strerror(rc)
    size = ctypes.c_size_t(0)
    try:
        rc = lib.pthread_attr_getstacksize(attr, ctypes.byref(size))
    finally:
        lib.pthread_attr_destroy(attr)
    if rc != 0:
        return "error", None, "pthread_attr_getstacksize: %s" % os.strerror(rc)
    return "ok", {"bytes": size.value}, None


_CRASH_CHILD = r'''
import sys, os, json
try:
    import resource
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
except Exception:
    pass
kind, where, depth = sys.argv[1], sys.argv[2], int(sys.argv[3])
for name in json.loads(sys.argv[4]):
    try:
        __import__(name)
    except BaseException as e:
        sys.stdout.write(json.dumps({"preimport_failed": name, "error": repr(e)}) + "\n")
        sys.stdout.flush()
        os._exit(4)
import pickle, threading
sys.setrecursionlimit(1000000)
obj = []
for _ in range(depth):
    obj = [obj]
fn = {"json": json.dumps, "repr": repr, "pickle": pickle.dumps}[kind]
out = {}
def target():
    try:
        fn(obj)
        out["result"] = "ok"
    except BaseException as e:
        out["result"] = "exception"
        out["exception"] = type(e).__name__
if where == "thread":
    t = threading.Thread(target=target)
    t.start()
    t.join()
else:
    target()
sys.stdout.write(json.dumps(out) + "\n")
sys.stdout.flush()
os._exit(0 if out.get("result") == "ok" else 3)
'''


class _PreimportFailed(Exception):
    pass


def _crash_attempt(kind, where, depth, preimport):
    """(ok: bool, failure: dict|None) for one depth, in a fresh child."""
    res = run_child(_CRASH_CHILD, args=(kind, where, depth, json.dumps(preimport)), timeout=20.0)
    val = _child_json(res) or {}
    if "preimport_failed" in val:
        raise _PreimportFailed("preimport %s failed: %s" % (val["preimport_failed"], val.get("error")))
    if res["status"] == "ok" and val.get("result") == "ok":
        return True, None
    if res["status"] == "crash":
        return False, {"status": "crash", "signal": res["signal"], "signal_name": res.get("signal_name")}
    if res["status"] == "timeout":
        return False, {"status": "timeout"}
    if val.get("result") == "exception":
        return False, {"status": "error", "exception": val.get("exception")}
    tail = (res.get("stderr") or "").strip().splitlines()
    return False, {"status": "error", "exit_code": res.get("exit_code"),
                   "exception": tail[-1][:200] if tail else None}


def _crash_depth(kind, where):
    def check(cfg):
        preimport = [str(m) for m in (cfg.get("preimport") or [])]
        start = time.monotonic()
        attempts = 0
        value = {}
        if preimport:
            value["preimport"] = preimport
        lo, hi, hi_fail = 0, CRASH_MAX_DEPTH, None
        # A boundary observed before (the base's own, without the imports) is tried first: where
        # the imports did not move it, its two sides are the answer, observed now, in two
        # children instead of twenty; where they did, the search goes on from what was seen.
        hint = (cfg.get("hints") or {}).get("crash_depth.%s_%s" % (kind, where))
        if isinstance(hint, int) and 0 <= hint < CRASH_MAX_DEPTH - 1:
            value["hint"] = hint
            ok, fail = _crash_attempt(kind, where, hint, preimport)
            attempts += 1
            if not ok:
                hi, hi_fail = hint, fail
            else:
                lo = hint
                ok, fail = _crash_attempt(kind, where, hint + 1, preimport)
                attempts += 1
                if not ok:
                    value.update({"max_ok_depth": hint, "failure_at": hint + 1, "failure": fail,
                                  "attempts": attempts, "confirmed": True})
                    return "ok", value, None
                lo = hint + 1
        if hi_fail is None:
            ok, fail = _crash_attempt(kind, where, hi, preimport)
            attempts += 1
            if ok:
                value.update({"max_ok_depth": hi, "failure_at": None, "failure": None,
                              "attempts": attempts, "confirmed": True})
                return "ok", value, "no failure up to depth %d" % hi
            hi_fail = fail
        while hi - lo > 1:
            if time.monotonic() - start > CRASH_BUDGET_S:
                value.update({"max_ok_depth": lo, "failure_at": hi, "failure": hi_fail,
                              "attempts": attempts, "confirmed": False})
                return "error", value, "time budget of %.0f s spent before the bisection converged" % CRASH_BUDGET_S
            mid = (lo + hi) // 2
            ok, fail = _crash_attempt(kind, where, mid, preimport)
            attempts += 1
            if ok:
                lo = mid
            else:
                hi, hi_fail = mid, fail
        # re-run both sides of the boundary once: a moving boundary (ASLR, timing) shows up here
        confirmed = True
        if lo >= 1:
            ok, _ = _crash_attempt(kind, where, lo, preimport)
            attempts += 1
            confirmed = confirmed and ok
        ok, fail = _crash_attempt(kind, where, hi, preimport)
        attempts += 1
        confirmed = confirmed and (not ok) and fail == hi_fail
        value.update({"max_ok_depth": lo, "failure_at": hi, "failure": hi_fail,
                      "attempts": attempts, "confirmed": confirmed})
        return "ok", value, None
    return check


# ---------------------------------------------------------------------------------------------
# loading, platform detection

_FIND_LIBRARY_CHILD = r'''
import json, sys, ctypes.util
out = {}
for name in ("c", "m"):
    out[name] = ctypes.util.find_library(name)
sys.stdout.write(json.dumps(out) + "\n")
'''


def check_find_library(cfg):
    return _child_value(_FIND_LIBRARY_CHILD, timeout=30.0)


_CDLL_CHILD = r'''
import json, sys, ctypes
out = {}
for name in ("libc.so.6", "libc.so"):
    try:
        ctypes.CDLL(name)
        out[name] = {"loaded": True}
    except OSError as e:
        out[name] = {"loaded": False, "error": str(e)}
sys.stdout.write(json.dumps(out) + "\n")
'''


def check_cdll(cfg):
    return _child_value(_CDLL_CHILD, timeout=20.0)


def check_libc_ver(cfg):
    import ctypes
    import platform
    out = {"platform_libc_ver": list(platform.libc_ver())}
    try:
        out["confstr_gnu_libc_version"] = {"value": os.confstr("CS_GNU_LIBC_VERSION")}
    except (OSError, ValueError) as e:
        out["confstr_gnu_libc_version"] = {"error": "%s: %s" % (type(e).__name__, e)}
    lib = ctypes.CDLL(None)
    try:
        fn = lib.gnu_get_libc_version
    except AttributeError:
        out["gnu_get_libc_version"] = {"present": False, "value": None}
    else:
        fn.restype = ctypes.c_char_p
        fn.argtypes = []
        raw = fn()
        out["gnu_get_libc_version"] = {"present": True,
                                       "value": raw.decode("ascii", "replace") if raw else None}
    return "ok", out, None


def check_ext_suffix(cfg):
    import importlib.machinery
    import sysconfig
    return "ok", {
        "EXT_SUFFIX": sysconfig.get_config_var("EXT_SUFFIX"),
        "SOABI": sysconfig.get_config_var("SOABI"),
        "extension_suffixes": list(importlib.machinery.EXTENSION_SUFFIXES),
    }, None


_DLCLOSE_CHILD = r'''
import json, os, sys, glob, sysconfig, ctypes, _ctypes

def maps():
    with open("/proc/self/maps") as f:
        return f.read()

def mapped(path, text):
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].strip() == path:
            return True
    return False

dirs = []
d = sysconfig.get_config_var("DESTSHARED")
if d:
    dirs.append(d)
dirs += [p for p in sys.path if p.endswith("lib-dynload")]
prefer = ["xxlimited", "xxlimited_35", "xxsubtype", "_ctypes_test", "_testimportmultiple",
          "_testbuffer", "_testclinic", "_testcapi"]
now = maps()
candidates = []
seen = set()
for d in dirs:
    for p in sorted(glob.glob(os.path.join(d, "*.so"))):
        real = os.path.realpath(p)
        if real in seen or mapped(real, now):
            continue
        seen.add(real)
        base = os.path.basename(p).split(".")[0]
        rank = prefer.index(base) if base in prefer else len(prefer)
        candidates.append((rank, os.path.getsize(real), real))
candidates.sort()
if not candidates:
    sys.stdout.write(json.dumps({"skipped": "no unloaded shared library in lib-dynload"}) + "\n")
    sys.exit(0)
errors = []
for _, _, path in candidates[:5]:
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        errors.append(str(e))
        continue
    handle = lib._handle
    before = mapped(path, maps())
    del lib
    _ctypes.dlclose(handle)  # raises OSError if dlclose fails
    after = mapped(path, maps())
    sys.stdout.write(json.dumps({"library": path, "mapped_before": before,
                                 "mapped_after_dlclose": after}) + "\n")
    sys.exit(0)
sys.stdout.write(json.dumps({"skipped": "no candidate loaded", "errors": errors}) + "\n")
'''


def check_dlclose(cfg):
    status, val, msg = _child_value(_DLCLOSE_CHILD, timeout=20.0)
    if status == "ok" and isinstance(val, dict) and "skipped" in val:
        return "skipped", None, "%s %s" % (val["skipped"], val.get("errors") or "")
    return status, val, msg


# ---------------------------------------------------------------------------------------------
# locale, iconv

_SETLOCALE_CHILD = r'''
import json, sys, locale
out = {}
for name in ("de_DE.UTF-8", "xx_QQ.MADEUP-9"):
    try:
        out[name] = {"accepted": True, "result": locale.setlocale(locale.LC_ALL, name)}
    except locale.Error as e:
        out[name] = {"accepted": False, "error": str(e)}
    try:
        locale.setlocale(locale.LC_ALL, "C")
    except locale.Error:
        pass
sys.stdout.write(json.dumps(out) + "\n")
'''


def check_setlocale(cfg):
    return _child_value(_SETLOCALE_CHILD, timeout=20.0)


_STRXFRM_CHILD = r'''
import json, os, sys, locale
out = {"LANG": os.environ.get("LANG"), "LC_ALL": os.environ.get("LC_ALL")}
words = ["b", "A", "a", "B"]
for name in ("", "C.UTF-8", "de_DE.UTF-8"):
    entry = {}
    try:
        entry["setlocale"] = locale.setlocale(locale.LC_ALL, name)
    except locale.Error as e:
        entry["error"] = str(e)
        out[name] = entry
        continue
    entry["order"] = sorted(words, key=locale.strxfrm)
    out[name] = entry
sys.stdout.write(json.dumps(out) + "\n")
'''


def check_strxfrm(cfg):
    return _child_value(_STRXFRM_CHILD, timeout=20.0)


_LOCALECONV_CHILD = r'''
import json, sys, locale
tried = ["de_DE.UTF-8", "de_DE.utf8", "de_DE"]
used = None
for name in tried:
    try:
        locale.setlocale(locale.LC_ALL, name)
        used = name
        break
    except locale.Error:
        pass
conv = locale.localeconv()
sys.stdout.write(json.dumps({"locale": used, "tried": tried,
                             "decimal_point": conv.get("decimal_point"),
                             "thousands_sep": conv.get("thousands_sep")}) + "\n")
'''


def check_localeconv(cfg):
    return _child_value(_LOCALECONV_CHILD, timeout=20.0)


_ICONV_CHILD = r'''
import ctypes, errno, json, sys
lib = ctypes.CDLL(None, use_errno=True)
iconv_open = lib.iconv_open
iconv_open.restype = ctypes.c_void_p
iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
iconv = lib.iconv
iconv.restype = ctypes.c_size_t
iconv.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t),
                  ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t)]
iconv_close = lib.iconv_close
iconv_close.restype = ctypes.c_int
iconv_close.argtypes = [ctypes.c_void_p]
BAD = ctypes.c_void_p(-1).value
SIZE_BAD = ctypes.c_size_t(-1).value

def ename(n):
    return errno.errorcode.get(n, str(n))

def convert(to, frm, data):
    ctypes.set_errno(0)
    cd = iconv_open(to.encode(), frm.encode())
    if cd is None or cd == BAD:
        return {"ok": False, "stage": "iconv_open", "errno": ename(ctypes.get_errno())}
    try:
        inbuf = ctypes.create_string_buffer(data, len(data))
        outbuf = ctypes.create_string_buffer(256)
        inptr = ctypes.c_char_p(ctypes.addressof(inbuf))
        outptr = ctypes.c_char_p(ctypes.addressof(outbuf))
        inleft = ctypes.c_size_t(len(data))
        outleft = ctypes.c_size_t(256)
        ctypes.set_errno(0)
        rc = iconv(cd, ctypes.byref(inptr), ctypes.byref(inleft), ctypes.byref(outptr), ctypes.byref(outleft))
        err = ctypes.get_errno()
        produced = outbuf.raw[:256 - outleft.value]
        if rc == SIZE_BAD:
            return {"ok": False, "stage": "iconv", "errno": ename(err), "hex": produced.hex(),
                    "unconverted_bytes": inleft.value}
        return {"ok": True, "hex": produced.hex(), "irreversible": rc}
    finally:
        iconv_close(cd)

out = {
    "utf8_to_gbk": convert("GBK", "UTF-8", "\u4e2d\u6587".encode("utf-8")),
    "utf8_to_ascii_translit": convert("ASCII//TRANSLIT", "UTF-8", "caf\u00e9".encode("utf-8")),
    "gbk_to_utf8": convert("UTF-8", "GBK", "\u4e2d\u6587".encode("gbk")),
}
sys.stdout.write(json.dumps(out) + "\n")
'''


def check_iconv(cfg):
    return _child_value(_ICONV_CHILD, timeout=20.0)


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


# ---------------------------------------------------------------------------------------------

CHECKS = [
    ("libc", check_libc),
    ("thread_stack.python", check_thread_stack_python),
    ("thread_stack.c", check_thread_stack_c),
    ("crash_depth.json_thread", _crash_depth("json", "thread")),
    ("crash_depth.repr_thread", _crash_depth("repr", "thread")),
    ("crash_depth.pickle_thread", _crash_depth("pickle", "thread")),
    ("crash_depth.json_main", _crash_depth("json", "main")),
    ("loading.find_library", check_find_library),
    ("loading.cdll", check_cdll),
    ("loading.libc_ver", check_libc_ver),
    ("loading.ext_suffix", check_ext_suffix),
    ("loading.dlclose", check_dlclose),
    ("locale.setlocale", check_setlocale),
    ("locale.strxfrm", check_strxfrm),
    ("locale.localeconv", check_localeconv),
    ("iconv", check_iconv),
    ("cpu.count", check_cpu_count),
    ("time.zoneinfo", check_zoneinfo),
    ("malloc.threads", check_malloc_threads),
    ("math.fma", check_math),
]


def _selected(check_id, only):
    if not only:
        return True
    for o in only:
        if check_id == o or check_id.startswith(str(o) + "."):
            return True
    return False


def main():
    try:
        cfg = mc_config()
        if not isinstance(cfg, dict):
            raise ValueError("config is not a JSON object")
    except Exception as e:
        _log("bad config, using {}: %r" % (e,))
        cfg = {}
    only = cfg.get("only")
    if isinstance(only, str):
        only = [only]
    selected = [(c, f) for c, f in CHECKS if _selected(c, only)]
    for check_id, fn in selected:
        t0 = time.monotonic()
        try:
            status, value, message = fn(cfg)
        except _PreimportFailed as e:
            status, value, message = "error", None, str(e)
        except Exception as e:
            status, value, message = "error", None, repr(e)
        emit(check_id, status, value, message, duration_ms=(time.monotonic() - t0) * 1000.0)
    mc_end(len(selected))


main()
