# Probe "elf": the ELF facts of given files, as the wheel probe records them for the native files
# of a distribution, so the parser and the loader listing can be checked on files made for the
# purpose. Runs after common.py and elf.py.
#
# Config: {"files": ["/path/a.so", ...]}. One record per file, check "elf:<path>".
MC_PROBE = "elf"


def _e_main():
    cfg = mc_config()
    files = [str(f) for f in cfg.get("files") or []]
    loader = detect_libc().get("loader")
    for path in files:
        try:
            info = _w_elf_read(path)
        except (OSError, _WElfError) as e:
            emit("elf:" + path, "error", message=str(e))
            continue
        info.pop("pyinit", None)
        info.update(_w_loader_list(loader, path))
        emit("elf:" + path, "ok", info)
    mc_end(len(files))


_e_main()
