# Part of the libc profile probe (assembled after probes/libc_profile/head.py).
# The checks table and the runner: which checks run, in order, each in a subprocess
# where it can crash.

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
    ("stdio.printf", check_printf),
    ("locale.default", check_default_locale),
    ("math.errno", check_math_errno),
    ("regex.posix", check_regex),
    ("misc.getopt_basename", check_getopt_basename),
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
        about, says = words(check_id, status, value)
        emit(check_id, status, value, message, duration_ms=(time.monotonic() - t0) * 1000.0,
             about=about, says=says)
    mc_end(len(selected))


main()
