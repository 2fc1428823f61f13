# Part of the libc profile probe (assembled after probes/libc_profile/head.py).
# Locale and iconv: setlocale, strxfrm, localeconv, iconv conversions.

# ---------------------------------------------------------------------------------------------
# locale, iconv

_SETLOCALE_CHILD = r'''
import json, sys, locale
out = {}
for name in ("de_DE.UTF-8", "xx_QQ.MADEUP-9"):
    try:
        out[name] = {"accepted": True, "result": locale.setlocale(locale.LC_ALL, name)}
    except locale.Error as e:
        out[name] = {"accepted": False, "error": str(e)}
    try:
        locale.setlocale(locale.LC_ALL, "C")
    except locale.Error:
        pass
sys.stdout.write(json.dumps(out) + "\n")
'''


def check_setlocale(cfg):
    return _child_value(_SETLOCALE_CHILD, timeout=20.0)


_STRXFRM_CHILD = r'''
import json, os, sys, locale
out = {"LANG": os.environ.get("LANG"), "LC_ALL": os.environ.get("LC_ALL")}
words = ["b", "A", "a", "B"]
for name in ("", "C.UTF-8", "de_DE.UTF-8"):
    entry = {}
    try:
        entry["setlocale"] = locale.setlocale(locale.LC_ALL, name)
    except locale.Error as e:
        entry["error"] = str(e)
        out[name] = entry
        continue
    entry["order"] = sorted(words, key=locale.strxfrm)
    out[name] = entry
sys.stdout.write(json.dumps(out) + "\n")
'''


def check_strxfrm(cfg):
    return _child_value(_STRXFRM_CHILD, timeout=20.0)


_LOCALECONV_CHILD = r'''
import json, sys, locale
tried = ["de_DE.UTF-8", "de_DE.utf8", "de_DE"]
used = None
for name in tried:
    try:
        locale.setlocale(locale.LC_ALL, name)
        used = name
        break
    except locale.Error:
        pass
conv = locale.localeconv()
sys.stdout.write(json.dumps({"locale": used, "tried": tried,
                             "decimal_point": conv.get("decimal_point"),
                             "thousands_sep": conv.get("thousands_sep")}) + "\n")
'''


def check_localeconv(cfg):
    return _child_value(_LOCALECONV_CHILD, timeout=20.0)


_ICONV_CHILD = r'''
import ctypes, errno, json, sys
lib = ctypes.CDLL(None, use_errno=True)
iconv_open = lib.iconv_open
iconv_open.restype = ctypes.c_void_p
iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
iconv = lib.iconv
iconv.restype = ctypes.c_size_t
iconv.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t),
                  ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t)]
iconv_close = lib.iconv_close
iconv_close.restype = ctypes.c_int
iconv_close.argtypes = [ctypes.c_void_p]
BAD = ctypes.c_void_p(-1).value
SIZE_BAD = ctypes.c_size_t(-1).value

def ename(n):
    return errno.errorcode.get(n, str(n))

def convert(to, frm, data):
    ctypes.set_errno(0)
    cd = iconv_open(to.encode(), frm.encode())
    if cd is None or cd == BAD:
        return {"ok": False, "stage": "iconv_open", "errno": ename(ctypes.get_errno())}
    try:
        inbuf = ctypes.create_string_buffer(data, len(data))
        outbuf = ctypes.create_string_buffer(256)
        inptr = ctypes.c_char_p(ctypes.addressof(inbuf))
        outptr = ctypes.c_char_p(ctypes.addressof(outbuf))
        inleft = ctypes.c_size_t(len(data))
        outleft = ctypes.c_size_t(256)
        ctypes.set_errno(0)
        rc = iconv(cd, ctypes.byref(inptr), ctypes.byref(inleft), ctypes.byref(outptr), ctypes.byref(outleft))
        err = ctypes.get_errno()
        produced = outbuf.raw[:256 - outleft.value]
        if rc == SIZE_BAD:
            return {"ok": False, "stage": "iconv", "errno": ename(err), "hex": produced.hex(),
                    "unconverted_bytes": inleft.value}
        return {"ok": True, "hex": produced.hex(), "irreversible": rc}
    finally:
        iconv_close(cd)

out = {
    "utf8_to_gbk": convert("GBK", "UTF-8", "\u4e2d\u6587".encode("utf-8")),
    "utf8_to_ascii_translit": convert("ASCII//TRANSLIT", "UTF-8", "caf\u00e9".encode("utf-8")),
    "gbk_to_utf8": convert("UTF-8", "GBK", "\u4e2d\u6587".encode("gbk")),
    # A character the destination cannot hold: an error (EILSEQ) or an inexact conversion.
    "utf8_to_latin1_unrepresentable": convert("ISO-8859-1", "UTF-8", "\u20ac".encode("utf-8")),
}
sys.stdout.write(json.dumps(out) + "\n")
'''


def check_iconv(cfg):
    return _child_value(_ICONV_CHILD, timeout=20.0)
