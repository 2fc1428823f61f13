# Probe "compiler": the C and C++ compilers a source build on this image would use, found the
# way the build backends find them: $CC/$CXX first; else the compiler CPython was built with
# (sysconfig, what setuptools uses), if it is present; else the first of cc, gcc, clang (c++,
# g++, clang++) on PATH, as meson looks. Each found compiler is asked for its version.
#
# Records "compiler.cc" and "compiler.cxx": status ok with {command, path, version, from}, or
# error "no C compiler" with what was looked for. Runs after common.py.
import os
import shlex
import shutil
import sysconfig

MC_PROBE = "compiler"


def _c_find(env_var, config_var, fallbacks):
    looked = []
    candidates = []
    if os.environ.get(env_var):
        candidates.append((shlex.split(os.environ[env_var])[0], "$" + env_var))
    configured = sysconfig.get_config_var(config_var)
    if configured:
        candidates.append((shlex.split(configured)[0], "sysconfig " + config_var))
    candidates += [(c, "PATH") for c in fallbacks]
    for command, origin in candidates:
        looked.append("%s (%s)" % (command, origin))
        path = shutil.which(command)
        if path:
            r = run_child("import subprocess, sys; r = subprocess.run([sys.argv[1], '--version'], "
                          "capture_output=True, text=True, timeout=60); print((r.stdout or r.stderr).strip())",
                          args=[path], timeout=90)
            out = (r.get("stdout") or "").strip().splitlines()
            value = {"command": command, "path": os.path.realpath(path), "from": origin, "version": None}
            if r.get("status") == "ok" and out and "error" not in out[0].lower():
                value["version"] = out[0]
            else:
                # Found but not answering: its output says why, never taken for a version.
                value["version_error"] = (out[0] if out else r.get("status"))
            return "ok", value, None
        if origin.startswith("$"):
            # A named compiler that is not there is what the build would fail on.
            return "error", {"command": command, "from": origin, "looked": looked}, "%s is not installed" % command
    return "error", {"looked": looked}, "none found (looked for %s)" % ", ".join(looked)


def _c_main():
    for check, env_var, config_var, fallbacks in (
        ("compiler.cc", "CC", "CC", ["cc", "gcc", "clang"]),
        ("compiler.cxx", "CXX", "CXX", ["c++", "g++", "clang++"]),
    ):
        status, value, message = _c_find(env_var, config_var, fallbacks)
        emit(check, status, value, message=message)
    mc_end(2)


_c_main()
