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
                            (and "utf8_to_latin1_unrepresentable": a euro sign to ISO-8859-1)
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
  stdio.printf              {"%Ld": {"returned": n, "text": str|null}, "%lld": {...},
                             "%.1f of 0.25, rounding upward": str|null}  (snprintf via ctypes)
  locale.default            {"setlocale('')", "preferred_encoding", "C.UTF-8 accepted",
                             "mbstowcs of a 5-byte sequence": -1 (rejected) | n}  with no LANG or
                            LC_* and PYTHONCOERCECLOCALE=0
  math.errno                {"log(0.0)": repr, "errno after log(0.0)": name|0, "feenableexcept": bool}
  regex.posix               {BRE pattern: {"compiles": bool, "matches 'text'": bool}} for \+ \| \<
                            and a bracket class, through regcomp/regexec
  misc.getopt_basename      {"getopt of prog file -a": [options seen], "basename('/usr/lib/')": str}
Every record also carries "about" (what the check looks at) and, where the check has a phrase,
"says" (what this base gave, in words built from the value): probes/libc_profile/words.py.

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
