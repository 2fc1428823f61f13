# Part of the libc profile probe (assembled after probes/libc_profile/head.py).
# Threads and stacks: the default thread stack size, and how deep recursion goes in a
# thread before it crashes (crash_depth).

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
