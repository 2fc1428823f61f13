# Prelude shared by every muslcheck probe. The harness runs a probe as
#   python3 -c "<common.py>\n<probe.py>" '<json config>'
# so a probe is one program with no files of its own inside the container (the root filesystem
# may be read-only and the engine may be remote). Python stdlib only; runs on CPython 3.8+.
#
# Protocol (schema 1): every line on stdout is one JSON object
#   {"schema": 1, "probe": NAME, "check": ID, "status": STATUS, "value": ANY, "message": TEXT,
#    "duration_ms": FLOAT}
# STATUS is "ok" (the check ran; value is what was observed), "error" (the check raised or the
# observed thing failed; message says why), "crash" (a child died by a signal; value.signal),
# "timeout" (a child was killed after its time limit) or "skipped" (message says why).
# Nothing else may be written to stdout; diagnostics go to stderr. A check id appears once.
# Every probe ends with one closing record, check "probe.end", value {"planned": N,
# "emitted": M, "protected": BOOL}: without it (or with fewer records than it counts) the
# harness knows the probe was cut short, and fails that base instead of reading silence as a
# pass.
#
# The code under test (imports, smoke scripts) runs in children of the probe with the same uid.
# The probe makes itself non-dumpable first, so its /proc/<pid>/fd (and mem, environ) belong to
# root: a child cannot open the probe's stdout and write records of its own.
import json as _mc_json
import os as _mc_os
import signal as _mc_signal
import subprocess as _mc_subprocess
import sys as _mc_sys
import time as _mc_time

MC_SCHEMA = 1
MC_PROBE = "unknown"
_MC_EMITTED = 0


def _mc_protect():
    """prctl(PR_SET_DUMPABLE, 0): None when done, else why not."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE
            return "prctl(PR_SET_DUMPABLE) failed: errno %d" % ctypes.get_errno()
        return None
    except Exception as e:  # no ctypes on this base: reported in probe.end
        return "%s: %s" % (type(e).__name__, e)


_MC_PROTECT_ERROR = _mc_protect()


def mc_config():
    """The probe's configuration: the JSON object given as the first argument, or {}."""
    if len(_mc_sys.argv) > 1 and _mc_sys.argv[1]:
        return _mc_json.loads(_mc_sys.argv[1])
    return {}


def emit(check, status="ok", value=None, message=None, duration_ms=None, about=None, says=None):
    """One record. `about` is one line on what the check looks at and `says` a short phrase for
    what this base gave, built from `value` only: the harness sets the bases' phrases side by
    side when they differ."""
    rec = {"schema": MC_SCHEMA, "probe": MC_PROBE, "check": check, "status": status}
    if value is not None:
        rec["value"] = value
    if about is not None:
        rec["about"] = str(about)[:300]
    if says is not None:
        rec["says"] = str(says)[:300]
    if message is not None:
        rec["message"] = str(message)[:4000]
    if duration_ms is not None:
        rec["duration_ms"] = round(float(duration_ms), 3)
    global _MC_EMITTED
    _MC_EMITTED += 1
    _mc_sys.stdout.write(_mc_json.dumps(rec, sort_keys=True) + "\n")
    _mc_sys.stdout.flush()


def mc_end(planned):
    """The closing record: how many records the probe planned and how many it emitted."""
    emit("probe.end", "ok", {"planned": int(planned), "emitted": _MC_EMITTED,
                             "protected": _MC_PROTECT_ERROR is None},
         message=_MC_PROTECT_ERROR)


def run_child(code, args=(), timeout=30.0, env=None, stdin_data=None, max_output=65536):
    """Runs `python -c code args...` in a subprocess so that a segfault or a hang is a result.

    Returns a dict: status ("ok" exit 0, "error" non-zero exit, "crash" killed by a signal,
    "timeout"), exit_code, signal, stdout, stderr (each cut to max_output characters),
    duration_ms.
    """
    start = _mc_time.monotonic()
    child_env = dict(_mc_os.environ)
    for k, v in (env or {}).items():
        if v is None:  # None removes a variable
            child_env.pop(k, None)
        else:
            child_env[k] = v
    try:
        proc = _mc_subprocess.run(
            [_mc_sys.executable, "-c", code] + [str(a) for a in args],
            input=stdin_data, capture_output=True, timeout=timeout, env=child_env,
        )
    except _mc_subprocess.TimeoutExpired as e:
        return {
            "status": "timeout", "exit_code": None, "signal": None,
            "stdout": _mc_text(e.stdout, max_output), "stderr": _mc_text(e.stderr, max_output),
            "duration_ms": (_mc_time.monotonic() - start) * 1000.0,
        }
    dur = (_mc_time.monotonic() - start) * 1000.0
    rc = proc.returncode
    if rc < 0:
        status, sig, code_ = "crash", -rc, None
    else:
        status, sig, code_ = ("ok" if rc == 0 else "error"), None, rc
    return {
        "status": status, "exit_code": code_, "signal": sig,
        "signal_name": _mc_signal_name(sig),
        "stdout": _mc_text(proc.stdout, max_output), "stderr": _mc_text(proc.stderr, max_output),
        "duration_ms": dur,
    }


def _mc_signal_name(sig):
    if sig is None:
        return None
    try:
        return _mc_signal.Signals(sig).name
    except ValueError:
        return "SIG%d" % sig


def _mc_text(data, limit):
    if data is None:
        return ""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    return data[-limit:] if len(data) > limit else data


def detect_libc():
    """Which libc this Python runs on, observed the way `packaging` does: read the ELF
    interpreter of sys.executable; if it is musl's loader, run it and parse its version banner;
    otherwise ask glibc itself. Returns {"family", "version", "loader", "how"}."""
    interp = _mc_elf_interpreter(_mc_os.path.realpath(_mc_sys.executable))
    if interp and "musl" in _mc_os.path.basename(interp):
        try:
            proc = _mc_subprocess.run([interp], capture_output=True, timeout=10)
            banner = proc.stderr.decode("utf-8", "replace")
        except OSError as e:
            return {"family": "musl", "version": None, "loader": interp, "how": "loader did not run: %s" % e}
        version = None
        for line in banner.splitlines():
            if line.startswith("Version "):
                version = line.split(None, 1)[1].strip()
        return {"family": "musl", "version": version, "loader": interp, "how": "loader banner"}
    try:
        gnu = _mc_os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):
        gnu = None
    if gnu and gnu.startswith("glibc "):
        return {"family": "glibc", "version": gnu.split()[1], "loader": interp, "how": "confstr"}
    return {"family": "unknown", "version": None, "loader": interp, "how": "neither musl loader nor glibc confstr"}


def _mc_elf_interpreter(path):
    """PT_INTERP of a 64- or 32-bit little-endian ELF file, or None."""
    import struct
    try:
        with open(path, "rb") as f:
            ident = f.read(16)
            if ident[:4] != b"\x7fELF":
                return None
            is64 = ident[4] == 2
            f.seek(0)
            if is64:
                hdr = f.read(64)
                phoff, = struct.unpack_from("<Q", hdr, 32)
                phentsize, phnum = struct.unpack_from("<HH", hdr, 54)
            else:
                hdr = f.read(52)
                phoff, = struct.unpack_from("<I", hdr, 28)
                phentsize, phnum = struct.unpack_from("<HH", hdr, 42)
            for i in range(phnum):
                f.seek(phoff + i * phentsize)
                ph = f.read(phentsize)
                p_type, = struct.unpack_from("<I", ph, 0)
                if p_type != 3:  # PT_INTERP
                    continue
                if is64:
                    off, = struct.unpack_from("<Q", ph, 8)
                    size, = struct.unpack_from("<Q", ph, 32)
                else:
                    off, = struct.unpack_from("<I", ph, 4)
                    size, = struct.unpack_from("<I", ph, 16)
                f.seek(off)
                return f.read(size).rstrip(b"\x00").decode("utf-8", "replace")
    except (OSError, struct.error):
        return None
    return None
