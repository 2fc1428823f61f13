# Part of the libc profile probe (assembled after probes/libc_profile/head.py).
# Loading and platform detection: find_library, CDLL, libc_ver, extension suffixes,
# dlclose.

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
