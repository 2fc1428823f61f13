//! Check ids of the probe protocol, named once: the probes (probes/*.py) emit them, the record
//! parsers and the comparison read them.

/// The libc the probe's Python runs on.
pub const LIBC: &str = "libc";
/// The closing record every probe ends with (see probes/common.py).
pub const END: &str = "probe.end";
/// The smoke script in the main thread.
pub const SMOKE: &str = "smoke";
/// The smoke script in a worker thread.
pub const SMOKE_THREAD: &str = "smoke.thread";
/// The main-thread smoke run repeated and timed.
pub const SMOKE_RUNTIME: &str = "smoke.runtime";
/// `import:<module>`: importing a module by name in a child.
pub const IMPORT: &str = "import:";
/// `load:<path>`: loading an extension file by path (invisible to the interpreter by suffix).
pub const LOAD: &str = "load:";
/// `dist:<name>`: an installed distribution, its files and their linkage.
pub const DIST: &str = "dist:";
/// The libc profile's thread crash depth with `json.dumps`.
pub const CRASH_DEPTH_JSON_THREAD: &str = "crash_depth.json_thread";
/// Resolver scenarios are `dns.<id>`; `dns.sandbox` describes the lab itself.
pub const DNS: &str = "dns.";
pub const DNS_SANDBOX: &str = "dns.sandbox";
/// The C compiler a source build would use (probes/compiler.py).
pub const COMPILER_CC: &str = "compiler.cc";
/// The C++ compiler a source build would use.
pub const COMPILER_CXX: &str = "compiler.cxx";
