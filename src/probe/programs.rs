//! The probe programs shipped inside the binary, so it runs anywhere and the engine may be
//! remote. A probe is run as `python -c <prelude + probe> <json config>`: see probes/common.py.

pub const COMMON: &str = include_str!("../../probes/common.py");
/// The ELF reader (probes/elf.py) comes first: the wheel probe uses it. probes/elf_files.py
/// runs the same reader on given files (the test suite checks it on files built for the purpose).
pub const WHEELS: &str = concat!(include_str!("../../probes/elf.py"), "\n", include_str!("../../probes/wheels.py"));
/// The same reader on the native files inside a wheel that is not installed (probes/wheel_elf.py).
pub const WHEEL_ELF: &str =
    concat!(include_str!("../../probes/elf.py"), "\n", include_str!("../../probes/wheel_elf.py"));

/// The libc profile, assembled from its parts in order (probes/libc_profile/: the prelude and
/// the libc check, then threads, loading, locale, the system, the words of each check, the
/// documented differences, and the checks table and runner).
pub const PROFILE: &str = concat!(
    include_str!("../../probes/libc_profile/head.py"),
    "\n",
    include_str!("../../probes/libc_profile/threads.py"),
    "\n",
    include_str!("../../probes/libc_profile/loader.py"),
    "\n",
    include_str!("../../probes/libc_profile/locale.py"),
    "\n",
    include_str!("../../probes/libc_profile/system.py"),
    "\n",
    include_str!("../../probes/libc_profile/words.py"),
    "\n",
    include_str!("../../probes/libc_profile/quirks.py"),
    "\n",
    include_str!("../../probes/libc_profile/main.py")
);
/// The DNS lab, from its parts in probes/dnslab/ in dependency order. Its schema comes first, as
/// the text of the same file the Rust validator reads (src/scenario/schema.rs), so both sides
/// know the same keys, actions, rcodes and record types.
pub const DNS: &str = concat!(
    "DNSLAB_SCHEMA = r'''",
    include_str!("../../probes/dnslab/schema.json"),
    "'''\n",
    include_str!("../../probes/dnslab/wire.py"),
    "\n",
    include_str!("../../probes/dnslab/zone.py"),
    "\n",
    include_str!("../../probes/dnslab/lab.py"),
    "\n",
    include_str!("../../probes/dnslab/child.py"),
    "\n",
    include_str!("../../probes/dnslab/prepare.py"),
    "\n",
    include_str!("../../probes/dnslab/builtins.py"),
    "\n",
    include_str!("../../probes/dnslab/enforced.py"),
    "\n",
    include_str!("../../probes/dnslab/runner.py"),
);
/// The C and C++ compilers a source build would use, in a prepared image.
pub const COMPILER: &str = include_str!("../../probes/compiler.py");

/// The program text for a probe: the shared prelude, then the probe.
pub fn program(probe: &str) -> String {
    format!("{COMMON}\n{probe}\n")
}

/// The smallest probe: which libc the base's Python runs on.
pub const LIBC: &str = "MC_PROBE = \"libc\"\nemit(\"libc\", value=detect_libc())\nmc_end(1)\n";

/// Every program text above: what the observations' identity is made of (`identity`).
pub const ALL: &[&str] = &[COMMON, WHEELS, WHEEL_ELF, PROFILE, DNS, COMPILER, LIBC];
