# ELF reading and loader facts, shared by the "wheels" and "elf" probes (run after common.py,
# before the probe itself, in one program). Stdlib only: struct over a mapped file.
import os as _w_os
import re as _w_re
import struct as _w_struct

# ELF reading: 32- and 64-bit, little- and big-endian


class _WElfError(Exception):
    pass


def _w_cstr(blob, off, limit=4096):
    if off < 0 or off >= len(blob):
        return None
    end = blob.find(b"\x00", off, off + limit)
    if end < 0:
        end = min(len(blob), off + limit)
    return bytes(blob[off:end]).decode("utf-8", "replace")


def _w_version_key(v):
    parts = _w_re.split(r"[_.]", v)
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts]


def _w_elf_head(head):
    """(is64, endian) of an ELF header. Raises _WElfError for a file that is not ELF."""
    if head[:4] != b"\x7fELF":
        raise _WElfError("not an ELF file")
    if len(head) < 6:
        raise _WElfError("truncated ELF header")
    if head[4] not in (1, 2) or head[5] not in (1, 2):
        raise _WElfError("unknown ELF class %d or data encoding %d" % (head[4], head[5]))
    return head[4] == 2, "<" if head[5] == 1 else ">"


def _w_elf_blob(data):
    """Linkage facts of an ELF file's contents (bytes or a mapping)."""
    is64, e = _w_elf_head(data[:64])
    try:
        return _w_elf_parse(data, is64, e)
    except (_w_struct.error, IndexError, ValueError) as err:
        raise _WElfError("truncated or malformed ELF: %s" % err)


def _w_elf_read(path):
    """Linkage facts of one ELF file. Raises _WElfError for a file that is not ELF."""
    import mmap
    with open(path, "rb") as f:
        _w_elf_head(f.read(64))
        # mapped, not read: vendored libraries can be hundreds of megabytes
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        return _w_elf_blob(data)
    finally:
        data.close()


# Dynamic tags and flags the loader must support (see the rule table in the harness).
_DT = {"NEEDED": 1, "HASH": 4, "STRTAB": 5, "STRSZ": 10, "SONAME": 14, "RPATH": 15,
       "RUNPATH": 29, "FLAGS": 30, "RELRSZ": 35, "RELR": 36, "GNU_HASH": 0x6FFFFEF5,
       "FLAGS_1": 0x6FFFFFFB, "VERNEED": 0x6FFFFFFE, "VERNEEDNUM": 0x6FFFFFFF}
_DF_STATIC_TLS = 0x10


def _w_elf_parse(data, is64, e):
    u = _w_struct.unpack_from
    e_type, e_machine = u(e + "HH", data, 16)
    if is64:
        e_phoff, e_shoff = u(e + "QQ", data, 32)
        e_phentsize, e_phnum, e_shentsize, e_shnum = u(e + "HHHH", data, 54)
    else:
        e_phoff, e_shoff = u(e + "II", data, 28)
        e_phentsize, e_phnum, e_shentsize, e_shnum = u(e + "HHHH", data, 42)

    interp = None
    dyn_off = dyn_size = None
    tls = False
    loads = []  # (vaddr, memsz, offset, filesz)
    for i in range(e_phnum):
        base = e_phoff + i * e_phentsize
        if is64:
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz = u(e + "IIQQQQQ", data, base)
        else:
            p_type, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, _flags = u(e + "IIIIIII", data, base)
        if p_type == 3:  # PT_INTERP
            interp = data[p_offset:p_offset + p_filesz].rstrip(b"\x00").decode("utf-8", "replace")
        elif p_type == 2:  # PT_DYNAMIC
            dyn_off, dyn_size = p_offset, p_filesz
        elif p_type == 1:  # PT_LOAD
            loads.append((p_vaddr, p_memsz, p_offset, p_filesz))
        elif p_type == 7:  # PT_TLS
            tls = True

    def v2o(vaddr):
        for va, memsz, off, filesz in loads:
            if va <= vaddr < va + max(memsz, filesz):
                return vaddr - va + off
        return vaddr  # shared objects usually map the first segment at 0

    tags = {}
    needed_off = []
    if dyn_off is not None:
        ent, fmt = (16, e + "qQ") if is64 else (8, e + "iI")
        for j in range(dyn_size // ent):
            tag, val = u(fmt, data, dyn_off + j * ent)
            if tag == 0:
                break
            if tag == _DT["NEEDED"]:
                needed_off.append(val)
            else:
                tags.setdefault(tag, val)

    strings = b""
    if _DT["STRTAB"] in tags:
        so = v2o(tags[_DT["STRTAB"]])
        strsz = tags.get(_DT["STRSZ"])
        strings = data[so:so + strsz] if strsz else data[so:]

    def s(off):
        return _w_cstr(strings, off) if off is not None else None

    version_needs = {}
    verneed, verneednum = tags.get(_DT["VERNEED"]), tags.get(_DT["VERNEEDNUM"], 0)
    if verneed is not None and verneednum:
        off = v2o(verneed)
        for _ in range(verneednum):
            _vn_version, vn_cnt, vn_file, vn_aux, vn_next = u(e + "HHIII", data, off)
            lib = s(vn_file) or "?"
            aoff = off + vn_aux
            names = version_needs.setdefault(lib, [])
            for _k in range(vn_cnt):
                _hash, _flags, _other, vna_name, vna_next = u(e + "IHHII", data, aoff)
                name = s(vna_name)
                if name and name not in names:
                    names.append(name)
                if not vna_next:
                    break
                aoff += vna_next
            if not vn_next:
                break
            off += vn_next
    for lib in version_needs:
        version_needs[lib].sort(key=_w_version_key)

    return {
        "elf_class": 64 if is64 else 32,
        "endian": "little" if e == "<" else "big",
        "e_type": e_type,
        "machine": e_machine,
        "needed": [s(o) for o in needed_off],
        "soname": s(tags.get(_DT["SONAME"])),
        "interpreter": interp,
        "rpath": s(tags.get(_DT["RPATH"])),
        "runpath": s(tags.get(_DT["RUNPATH"])),
        "version_needs": version_needs,
        # what the loader must support to load this file at all
        "relr": _DT["RELR"] in tags or _DT["RELRSZ"] in tags,
        "hash_styles": [n for n, t in (("sysv", _DT["HASH"]), ("gnu", _DT["GNU_HASH"])) if t in tags],
        "tls": tls,
        "static_tls": bool(tags.get(_DT["FLAGS"], 0) & _DF_STATIC_TLS),
        "pyinit": _w_pyinit_exports(data, is64, e, e_shoff, e_shentsize, e_shnum),
    }


def _w_pyinit_exports(data, is64, e, e_shoff, e_shentsize, e_shnum):
    """Names of defined PyInit_* symbols in .dynsym, or None when there are no section headers."""
    if not e_shoff or not e_shnum:
        return None
    sections = []
    for i in range(e_shnum):
        base = e_shoff + i * e_shentsize
        if is64:
            (_name, sh_type, _flags, _addr, sh_offset, sh_size, sh_link, _info, _align,
             sh_entsize) = _w_struct.unpack_from(e + "IIQQQQIIQQ", data, base)
        else:
            (_name, sh_type, _flags, _addr, sh_offset, sh_size, sh_link, _info, _align,
             sh_entsize) = _w_struct.unpack_from(e + "IIIIIIIIII", data, base)
        sections.append((sh_type, sh_offset, sh_size, sh_link, sh_entsize))
    found = []
    for sh_type, sh_offset, sh_size, sh_link, sh_entsize in sections:
        if sh_type != 11:  # SHT_DYNSYM
            continue
        if sh_link >= len(sections):
            continue
        _t, str_off, str_size, _l, _e = sections[sh_link]
        strs = data[str_off:str_off + str_size]
        ent = sh_entsize or (24 if is64 else 16)
        for k in range(sh_size // ent):
            if is64:
                st_name, st_info, _other, st_shndx = _w_struct.unpack_from(e + "IBBH", data, sh_offset + k * ent)
            else:
                st_name, _value, _size, st_info, _other, st_shndx = _w_struct.unpack_from(
                    e + "IIIBBH", data, sh_offset + k * ent)
            if st_shndx == 0 or (st_info & 0xF) != 2:  # undefined or not STT_FUNC
                continue
            nm = _w_cstr(strs, st_name)
            if nm and nm.startswith("PyInit_"):
                found.append(nm)
    return sorted(found)


# --------------------------------------------------------------------------------------------
# resolution of NEEDED libraries, by the base's own loader


def _w_loader_list(loader, path, timeout=20):
    """What the base's dynamic loader finds for each NEEDED library of `path`, by its own
    search path (`<loader> --list`, the ldd of both glibc and musl, which loads but runs no
    initialiser): {"resolved": {lib: path}, "missing": [lib], "error": text or None}."""
    if not loader:
        return {"resolved": {}, "missing": [], "error": "no loader observed"}
    r = run_child("import os, sys\nos.execv(sys.argv[1], [sys.argv[1], '--list', sys.argv[2]])",
                  args=(loader, path), timeout=timeout)
    resolved, missing = {}, []
    for line in (r["stdout"] + "\n" + r["stderr"]).splitlines():
        line = line.strip()
        m = _w_re.match(r"^(\S+) => (not found|\S+)", line)
        if m:
            if m.group(2) == "not found":
                missing.append(m.group(1))
            else:
                resolved[m.group(1)] = m.group(2)
            continue
        # musl: "Error loading shared library X: ..."; glibc stops at the first it cannot find:
        # "F: error while loading shared libraries: X: cannot open shared object file: ..."
        m = _w_re.match(r"^Error loading shared library (\S+?): ", line) or \
            _w_re.search(r"error while loading shared libraries: (\S+?): cannot open shared object", line)
        if m:
            missing.append(m.group(1))
    err = None
    if r["status"] == "crash":
        err = "the loader was killed by %s listing this file" % r.get("signal_name")
    elif r["status"] == "timeout":
        err = "the loader did not finish listing this file"
    return {"resolved": resolved, "missing": sorted(set(missing)), "error": err}


def _w_is_glibc_name(lib):
    return lib == "libc.so.6" or lib.startswith("ld-linux")


def _w_is_musl_name(lib):
    return lib.startswith("libc.musl-") or lib.startswith("ld-musl-")


def _w_linkage(info, family):
    """glibc_linked / musl_linked / foreign_libc of one parsed ELF file, observed from its names."""
    glibc_versions = sorted(
        {v for names in info["version_needs"].values() for v in names if v.startswith("GLIBC_")},
        key=_w_version_key)
    libs = list(info["needed"]) + list(info["version_needs"].keys())
    interp = _w_os.path.basename(info["interpreter"] or "")
    glibc_linked = bool(glibc_versions) or any(_w_is_glibc_name(x or "") for x in libs) \
        or _w_is_glibc_name(interp)
    musl_linked = any(_w_is_musl_name(x or "") for x in libs) or _w_is_musl_name(interp)
    if family == "musl":
        foreign = glibc_linked
    elif family == "glibc":
        foreign = musl_linked
    else:
        foreign = None
    return glibc_versions, glibc_linked, musl_linked, foreign


