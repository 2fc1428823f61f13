# Probe "wheel-elf": the ELF facts of the native files inside a wheel that is not installed, read
# from the wheel's zip by the same reader the wheel probe uses on installed files (elf.py), so
# another version's wheel can be judged by the same rules before anyone installs it. Runs after
# common.py and elf.py. Nothing here depends on the base's libc: the facts are the files'.
#
# Config: {"wheel": "/path/x.whl"}. One record per native file, check "elf:<path in the wheel>",
# with what the installed-wheel probe reports per file (needed, version needs, glibc symbol
# versions, linkage, relr...), and one record "wheel" counting the members read.
import zipfile as _z_zipfile

MC_PROBE = "wheel-elf"
# The same names the installed-wheel probe treats as native files.
_Z_NATIVE = _w_re.compile(r"\.so(\.[0-9]+)*$")


def _z_main():
    cfg = mc_config()
    path = str(cfg.get("wheel") or "")
    try:
        archive = _z_zipfile.ZipFile(path)
    except (OSError, _z_zipfile.BadZipFile) as e:
        emit("wheel", "error", message="cannot open the wheel %s: %s" % (path, e))
        mc_end(1)
        return
    with archive:
        members = sorted(n for n in archive.namelist() if _Z_NATIVE.search(n) and not n.endswith("/"))
        for name in members:
            try:
                info = _w_elf_blob(archive.read(name))
            except (_WElfError, OSError, _z_zipfile.BadZipFile, RuntimeError) as e:
                emit("elf:" + name, "error", message=str(e))
                continue
            glibc_versions, glibc_linked, musl_linked, _foreign = _w_linkage(info, None)
            parts = name.split("/")
            info.pop("pyinit", None)
            info.update({
                "path": name,
                "kind": "vendored" if len(parts) > 1 and parts[0].endswith(".libs") else "extension",
                "glibc_symbol_versions": glibc_versions,
                "glibc_linked": glibc_linked,
                "musl_linked": musl_linked,
            })
            emit("elf:" + name, "ok", info)
        emit("wheel", "ok", {"members": len(archive.namelist()), "native": len(members)})
    mc_end(len(members) + 1)


_z_main()
