# Part of the libc profile probe (assembled before main.py).
# Words for each check: ABOUT, one line on what it looks at, and SAY, a short phrase for what
# this base gave, built only from the value observed here (never from what a libc "should"
# give). The harness sets the bases' phrases side by side when they differ ("stack of a thread
# started by Python: 128 KiB on musl; 8 MiB on glibc"); a check without a phrase is described
# by the values that differ.

# ---------------------------------------------------------------------------------------------
# words


def _size(n):
    if not isinstance(n, int):
        return "?"
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            v = n / scale
            return ("%d %s" if v == int(v) else "%.2f %s") % (v, unit)
    return "%d bytes" % n


def _say_libc(v):
    return "%s %s" % (v.get("family"), v.get("version") or "(version unknown)")


def _say_stack(v):
    return "%s of stack" % _size(v.get("bytes"))


def _say_depth(v):
    if v.get("failure_at") is None:
        return "completes every depth up to %s" % v.get("max_ok_depth")
    f = v.get("failure") or {}
    how = f.get("signal_name") or f.get("exception") or f.get("status") or "fails"
    return "completes depth %s, %s at %s" % (v.get("max_ok_depth"), how, v.get("failure_at"))


def _say_find_library(v):
    return ", ".join("find_library(%r) = %s" % (k, v[k] if v.get(k) else "nothing") for k in ("c", "m"))


def _say_cdll(v):
    parts = []
    for name in sorted(v):
        r = v[name] or {}
        parts.append("%s %s" % (name, "loads" if r.get("loaded") else "does not load"))
    return ", ".join(parts)


def _say_libc_ver(v):
    lv = v.get("platform_libc_ver") or ["", ""]
    cs = v.get("confstr_gnu_libc_version") or {}
    gv = v.get("gnu_get_libc_version") or {}
    return "platform.libc_ver() = %r, CS_GNU_LIBC_VERSION %s, gnu_get_libc_version %s" % (
        tuple(lv), repr(cs["value"]) if "value" in cs else "unavailable",
        "present" if gv.get("present") else "absent")


def _say_ext_suffix(v):
    return "%s" % v.get("EXT_SUFFIX")


def _say_dlclose(v):
    if not v.get("mapped_before"):
        return "the library was not mapped after dlopen"
    return "still mapped after dlclose" if v.get("mapped_after_dlclose") else "unmapped by dlclose"


def _say_setlocale(v):
    return ", ".join("%s %s" % (k, "accepted" if (v.get(k) or {}).get("accepted") else "refused")
                     for k in sorted(v))


def _say_strxfrm(v):
    parts = []
    for name in ("", "C.UTF-8", "de_DE.UTF-8"):
        e = v.get(name) or {}
        label = "default locale" if name == "" else name
        parts.append("%s: %s" % (label, " ".join(e["order"]) if "order" in e else "refused"))
    return "; ".join(parts)


def _say_localeconv(v):
    return "%s: decimal point %r, thousands separator %r" % (
        v.get("locale") or "no German locale accepted", v.get("decimal_point"), v.get("thousands_sep"))


def _say_iconv_one(r):
    if not isinstance(r, dict):
        return "?"
    if r.get("ok"):
        n = r.get("irreversible") or 0
        return "converts" + (" (%d inexact)" % n if n else "")
    return "fails at %s (%s)" % (r.get("stage"), r.get("errno"))


def _say_iconv(v):
    labels = {"utf8_to_gbk": "UTF-8 to GBK", "utf8_to_ascii_translit": "to ASCII//TRANSLIT",
              "gbk_to_utf8": "GBK to UTF-8", "utf8_to_latin1_unrepresentable": "to ISO-8859-1 unrepresentable"}
    return ", ".join("%s %s" % (labels.get(k, k), _say_iconv_one(v[k])) for k in v)


def _say_cpu_count(v):
    return "os.cpu_count() %s, process_cpu_count() %s, affinity %s, sysconf online %s" % (
        v.get("cpu_count"), v.get("process_cpu_count"), v.get("sched_getaffinity"),
        v.get("sysconf_nprocessors_onln"))


def _say_zoneinfo(v):
    if not v.get("ok"):
        return "fails: %s" % v.get("error")
    offs = v.get("utcoffset_s") or {}
    hours = ["%+g h" % (offs[k] / 3600.0) for k in sorted(offs)]
    return "UTC%s in January, UTC%s in July (from %s)" % (
        hours[0] if hours else "?", hours[1] if len(hours) > 1 else "?",
        v.get("tzfile") or ("the tzdata module" if v.get("tzdata_module") else "nowhere"))


def _say_malloc(v):
    return "%s allocations/s in %s threads" % (v.get("ops_per_sec"), v.get("threads"))


ABOUT = {
    "libc": "the C library the loader runs",
    "thread_stack.python": "stack of a thread started by Python's threading module",
    "thread_stack.c": "default stack of a thread started by C code (pthread_attr_init)",
    "crash_depth.json_thread": "deepest nested list json.dumps serialises in a thread",
    "crash_depth.repr_thread": "deepest nested list repr() formats in a thread",
    "crash_depth.pickle_thread": "deepest nested list pickle.dumps serialises in a thread",
    "crash_depth.json_main": "deepest nested list json.dumps serialises in the main thread",
    "loading.find_library": "what ctypes.util.find_library returns for the C and maths libraries",
    "loading.cdll": "whether ctypes.CDLL loads the C library by the names code uses",
    "loading.libc_ver": "the C library as platform.libc_ver() and glibc's own interfaces report it",
    "loading.ext_suffix": "the file suffix extension modules must have (EXT_SUFFIX)",
    "loading.dlclose": "whether dlclose unmaps a library (so that reopening it starts afresh)",
    "locale.setlocale": "whether setlocale accepts a locale that is not installed, and a made-up one",
    "locale.strxfrm": "the order of b, A, a, B sorted by locale.strxfrm",
    "locale.localeconv": "decimal point and thousands separator after choosing a German locale",
    "iconv": "iconv conversions between UTF-8, GBK and ASCII with transliteration",
    "cpu.count": "how many CPUs Python's interfaces report",
    "time.zoneinfo": "Europe/Paris's UTC offsets through zoneinfo",
    "malloc.threads": "allocations per second in 4 threads with Python's allocator off",
    "math.fma": "libm results on edge cases, and digests of 500 fixed inputs per function",
}

SAY = {
    "libc": _say_libc,
    "thread_stack.python": _say_stack,
    "thread_stack.c": _say_stack,
    "crash_depth.json_thread": _say_depth,
    "crash_depth.repr_thread": _say_depth,
    "crash_depth.pickle_thread": _say_depth,
    "crash_depth.json_main": _say_depth,
    "loading.find_library": _say_find_library,
    "loading.cdll": _say_cdll,
    "loading.libc_ver": _say_libc_ver,
    "loading.ext_suffix": _say_ext_suffix,
    "loading.dlclose": _say_dlclose,
    "locale.setlocale": _say_setlocale,
    "locale.strxfrm": _say_strxfrm,
    "locale.localeconv": _say_localeconv,
    "iconv": _say_iconv,
    "cpu.count": _say_cpu_count,
    "time.zoneinfo": _say_zoneinfo,
    "malloc.threads": _say_malloc,
}


def words(check_id, status, value):
    """(about, says) of a record; says is None where the check has no phrase, did not give a
    value, or the phrase could not be built (the observation is kept either way)."""
    about = ABOUT.get(check_id)
    say = SAY.get(check_id)
    if status != "ok" or say is None or not isinstance(value, dict):
        return about, None
    try:
        return about, say(value)
    except Exception as e:
        _log("no words for %s: %r" % (check_id, e))
        return about, None
