//! Integration tests: the muslcheck binary against a real Docker engine and the test-bed bases
//! (scripts/testbed/build.sh makes them; scripts/test.sh runs it first). One test binary.

mod common;

mod cli;
mod decision;
mod dns;
mod elf;
mod engines;
mod first_run;
mod fresh;
mod gate;
mod hostile;
mod html;
mod inputs;
mod inspect;
mod lock;
mod locks;
mod nightly;
mod pins;
mod podman;
mod profile;
mod reliability;
mod remote;
mod reports;
mod repro;
mod run;
mod runtime;
mod testbed;
mod toolchain;
mod transitive;
