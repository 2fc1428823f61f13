# Part of the libc profile probe (assembled after probes/libc_profile/head.py).
# Interfaces whose behaviour the C libraries document differently (musl's "functional
# differences from glibc"): printf formats and rounding, the default locale and UTF-8
# decoding, maths error reporting, POSIX regex extensions, getopt and basename. Each is called
# through ctypes in a child, so a crash is an observation; each records what happened only.

# ---------------------------------------------------------------------------------------------
# documented differences

_PRINTF_CHILD = r'''
import ctypes, json, sys
lib = ctypes.CDLL(None)
buf = ctypes.create_string_buffer(64)
def fmt(f, *args):
    n = lib.snprintf(buf, 64, f.encode(), *args)
    return {"returned": n, "text": buf.value.decode("latin-1") if n >= 0 else None}
out = {"%Ld": fmt("%Ld", ctypes.c_longlong(5)), "%lld": fmt("%lld", ctypes.c_longlong(5))}
# Rounding of a floating-point conversion under FE_UPWARD (x86-64's value 0x800), then back.
fesetround = getattr(lib, "fesetround", None)
if fesetround is not None and fesetround(0x800) == 0:
    out["%.1f of 0.25, rounding upward"] = fmt("%.1f", ctypes.c_double(0.25))["text"]
    fesetround(0)
else:
    out["%.1f of 0.25, rounding upward"] = None
sys.stdout.write(json.dumps(out) + "\n")
'''


def check_printf(cfg):
    return _child_value(_PRINTF_CHILD, timeout=20.0)


# With no LANG or LC_* at all, and Python's own C-locale coercion off, so that what the C
# library picks for "" is what is seen.
_DEFAULT_LOCALE_CHILD = r'''
import ctypes, json, locale, sys
out = {"setlocale('')": locale.setlocale(locale.LC_ALL, ""),
       "preferred_encoding": locale.getpreferredencoding(False)}
lib = ctypes.CDLL(None)
lib.mbstowcs.restype = ctypes.c_ssize_t
lib.mbstowcs.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
try:
    locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
    out["C.UTF-8 accepted"] = True
except locale.Error:
    out["C.UTF-8 accepted"] = False
# A 5-byte pseudo-UTF-8 sequence (beyond U+10FFFF): -1 is a rejection, 1 a decoded character.
out["mbstowcs of a 5-byte sequence"] = lib.mbstowcs(None, b"\xf8\x88\x80\x80\x80", 0)
sys.stdout.write(json.dumps(out) + "\n")
'''


def check_default_locale(cfg):
    env = {k: None for k in os.environ if k in ("LANG", "LANGUAGE") or k.startswith("LC_")}
    env.update({"PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"})
    return _child_value(_DEFAULT_LOCALE_CHILD, timeout=20.0, env=env)


_MATH_ERRNO_CHILD = r'''
import ctypes, errno, json, sys
lib = ctypes.CDLL(None, use_errno=True)
lib.log.restype = ctypes.c_double
lib.log.argtypes = [ctypes.c_double]
ctypes.set_errno(0)
r = lib.log(0.0)
e = ctypes.get_errno()
out = {"log(0.0)": repr(r), "errno after log(0.0)": errno.errorcode.get(e, e) if e else 0,
       "feenableexcept": hasattr(lib, "feenableexcept")}
sys.stdout.write(json.dumps(out) + "\n")
'''


def check_math_errno(cfg):
    return _child_value(_MATH_ERRNO_CHILD, timeout=20.0)


_REGEX_CHILD = r'''
import ctypes, json, sys
lib = ctypes.CDLL(None)
out = {}
for pattern, text in (("a\\+b", "aab"), ("a\\|b", "b"), ("\\<b", "a b"), ("[[:alpha:]]x", "ax")):
    reg = ctypes.create_string_buffer(1024)   # regex_t, with room for any libc's layout
    rc = lib.regcomp(reg, pattern.encode(), 0)   # a basic regular expression (BRE)
    if rc != 0:
        out[pattern] = {"compiles": False}
        continue
    m = lib.regexec(reg, text.encode(), 0, None, 0)
    out[pattern] = {"compiles": True, "matches %r" % text: m == 0}
    lib.regfree(reg)
sys.stdout.write(json.dumps(out) + "\n")
'''


def check_regex(cfg):
    return _child_value(_REGEX_CHILD, timeout=20.0)


_GETOPT_CHILD = r'''
import ctypes, json, sys
lib = ctypes.CDLL(None)
args = [b"prog", b"file", b"-a"]
argv = (ctypes.c_char_p * (len(args) + 1))(*args, None)
lib.getopt.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p), ctypes.c_char_p]
seen = []
while True:
    c = lib.getopt(len(args), argv, b"a")
    if c == -1:
        break
    seen.append(chr(c))
lib.basename.restype = ctypes.c_char_p
lib.basename.argtypes = [ctypes.c_char_p]
out = {"getopt of prog file -a": seen,
       "basename('/usr/lib/')": lib.basename(ctypes.create_string_buffer(b"/usr/lib/")).decode()}
sys.stdout.write(json.dumps(out) + "\n")
'''


def check_getopt_basename(cfg):
    return _child_value(_GETOPT_CHILD, timeout=20.0)


def _say_printf(v):
    ld = v.get("%Ld") or {}
    text = "snprintf('%%Ld', 5) gives %s" % (repr(ld.get("text")) if (ld.get("returned") or -1) >= 0 else "an error")
    up = v.get("%.1f of 0.25, rounding upward")
    return text + ("; 0.25 as %%.1f rounding upward is %r" % up if up is not None else "")


def _say_default_locale(v):
    return "setlocale('') is %r (preferred encoding %s); a 5-byte UTF-8 sequence is %s" % (
        v.get("setlocale('')"), v.get("preferred_encoding"),
        "rejected" if v.get("mbstowcs of a 5-byte sequence") == -1 else "accepted")


def _say_math_errno(v):
    e = v.get("errno after log(0.0)")
    return "log(0.0) %s errno; feenableexcept %s" % (
        "sets %s in" % e if e else "leaves", "exists" if v.get("feenableexcept") else "does not exist")


def _say_regex(v):
    parts = []
    for pattern in sorted(v):
        r = v[pattern] or {}
        if not r.get("compiles"):
            parts.append("%s does not compile" % pattern)
        else:
            matched = any(val for key, val in r.items() if key.startswith("matches"))
            parts.append("%s %s" % (pattern, "matches" if matched else "does not match"))
    return ", ".join(parts)


def _say_getopt_basename(v):
    seen = v.get("getopt of prog file -a") or []
    return "getopt %s -a after a file argument; basename('/usr/lib/') is %r" % (
        "finds" if "a" in seen else "stops before", v.get("basename('/usr/lib/')"))


ABOUT.update({
    "stdio.printf": "printf's non-standard %Ld and its rounding under a non-default rounding mode",
    "locale.default": "the locale chosen with no LANG or LC_* set, and UTF-8 decoding of 5-byte sequences",
    "math.errno": "whether libm reports errors through errno, and whether FP traps can be enabled",
    "regex.posix": "GNU extensions to POSIX basic regular expressions (\\+, \\|, \\<) in regcomp",
    "misc.getopt_basename": "GNU getopt's argument permutation and GNU basename of a trailing slash",
})
SAY.update({
    "stdio.printf": _say_printf,
    "locale.default": _say_default_locale,
    "math.errno": _say_math_errno,
    "regex.posix": _say_regex,
    "misc.getopt_basename": _say_getopt_basename,
})
