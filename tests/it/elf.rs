//! The probes' ELF reader and loader listing (probes/elf.py) on files made for the purpose:
//! shared objects built in the test bed's toolchain image (one with DT_RELR from
//! `-z pack-relative-relocs`, one needing `GLIBC_2.34`, one with a NEEDED library that does not
//! exist) and two synthesised headers (32-bit little-endian, 64-bit big-endian), read in a
//! container of each base by the same program the wheel probe runs.

use std::path::Path;
use std::process::Command;

use crate::common::*;

fn toolchain() -> String {
    std::env::var("MUSLCHECK_TEST_TOOLCHAIN")
        .expect("MUSLCHECK_TEST_TOOLCHAIN is not set: run scripts/test.sh (the test bed's build stage)")
}

/// Runs a shell script in the test bed's toolchain image, with `dir` as its working directory.
fn in_toolchain(dir: &Path, script: &str) {
    let ok = Command::new("docker")
        .args(["run", "--rm", "--network", "none", "--label", "io.muslcheck.test=1", "-v"])
        .arg(format!("{}:/out", dir.display()))
        .args(["-w", "/out", &toolchain(), "bash", "-c", script])
        .status()
        .unwrap()
        .success();
    assert!(ok, "the script failed in the toolchain image: {script}");
}

/// Builds the shared-object fixtures in `dir` with the test bed's gcc and binutils.
fn build_fixtures(dir: &Path) {
    let script = r#"set -eu
printf 'static int x, y; int *p = &x; int *q = &y; int *r = &x; int f(void){return *p+*q+*r;}\n' > r.c
gcc -shared -fPIC -O1 -Wl,-z,pack-relative-relocs -o relr.so r.c
printf '#include <pthread.h>\nstatic void *g(void *a){return a;}\nint start(void){pthread_t t; return pthread_create(&t, 0, g, 0);}\n' > t.c
gcc -shared -fPIC -o glibc234.so t.c
printf 'int mcmissing(void){return 1;}\n' > m.c
gcc -shared -fPIC -o libmcmissing.so m.c
printf 'int mcmissing(void); int g(void){return mcmissing();}\n' > n.c
gcc -shared -fPIC -o needs_missing.so n.c -L. -lmcmissing
rm libmcmissing.so ./*.c
chmod 644 ./*.so"#;
    in_toolchain(dir, script);
}

/// A minimal ELF file with one PT_DYNAMIC segment naming `libfoo.so` as DT_NEEDED.
fn synthetic(is64: bool, big: bool) -> Vec<u8> {
    let mut b: Vec<u8> = vec![0x7f, b'E', b'L', b'F', if is64 { 2 } else { 1 }, if big { 2 } else { 1 }, 1];
    b.resize(16, 0);
    let h = |b: &mut Vec<u8>, v: u16| b.extend(if big { v.to_be_bytes() } else { v.to_le_bytes() });
    let w = |b: &mut Vec<u8>, v: u32| b.extend(if big { v.to_be_bytes() } else { v.to_le_bytes() });
    let x = |b: &mut Vec<u8>, v: u64| b.extend(if big { v.to_be_bytes() } else { v.to_le_bytes() });
    let strtab = b"\0libfoo.so\0";
    if is64 {
        let (ph, dynamic) = (64u64, 120u64);
        let strtab_at = dynamic + 4 * 16;
        h(&mut b, 3);
        h(&mut b, 43);
        w(&mut b, 1);
        x(&mut b, 0);
        x(&mut b, ph);
        x(&mut b, 0);
        w(&mut b, 0);
        for v in [64, 56, 1, 64, 0, 0] {
            h(&mut b, v);
        }
        w(&mut b, 2);
        w(&mut b, 4);
        for v in [dynamic, dynamic, dynamic, 64, 64, 8] {
            x(&mut b, v);
        }
        for (tag, val) in [(1u64, 1u64), (5, strtab_at), (10, strtab.len() as u64), (0, 0)] {
            x(&mut b, tag);
            x(&mut b, val);
        }
    } else {
        let (ph, dynamic) = (52u32, 84u32);
        let strtab_at = dynamic + 4 * 8;
        h(&mut b, 3);
        h(&mut b, 3);
        w(&mut b, 1);
        w(&mut b, 0);
        w(&mut b, ph);
        w(&mut b, 0);
        w(&mut b, 0);
        for v in [52, 32, 1, 40, 0, 0] {
            h(&mut b, v);
        }
        for v in [2, dynamic, dynamic, dynamic, 32, 32, 4, 4] {
            w(&mut b, v);
        }
        for (tag, val) in [(1u32, 1u32), (5, strtab_at), (10, strtab.len() as u32), (0, 0)] {
            w(&mut b, tag);
            w(&mut b, val);
        }
    }
    b.extend_from_slice(strtab);
    b
}

/// Runs the ELF probe program on the fixtures in a container of `image`: check -> value.
fn read_in(image: &str, dir: &Path, files: &[&str]) -> serde_json::Map<String, serde_json::Value> {
    let config = serde_json::json!({"files": files.iter().map(|f| format!("/fx/{f}")).collect::<Vec<_>>()});
    run_probe(image, dir, "elf_files.py", config)
}

/// Runs the wheel-ELF probe program on a wheel (a zip) in `dir`: member -> value.
fn read_wheel_in(image: &str, dir: &Path, wheel: &str) -> serde_json::Map<String, serde_json::Value> {
    run_probe(image, dir, "wheel_elf.py", serde_json::json!({"wheel": format!("/fx/{wheel}")}))
}

/// Runs one of the ELF probe programs on files of `dir`, mounted at /fx, in a container of
/// `image`: the `elf:` records' values by path (without a leading /fx/).
fn run_probe(
    image: &str,
    dir: &Path,
    probe: &str,
    config: serde_json::Value,
) -> serde_json::Map<String, serde_json::Value> {
    let program = ["common.py", "elf.py", probe]
        .iter()
        .map(|f| std::fs::read_to_string(root().join("probes").join(f)).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let out = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            "--user",
            "1000",
            "--label",
            "io.muslcheck.test=1",
            "-v",
            &format!("{}:/fx:ro", dir.display()),
            image,
            "python3",
            "-c",
            &program,
            &config.to_string(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut m = serde_json::Map::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(f) = r["check"].as_str().and_then(|c| c.strip_prefix("elf:")) {
            let f = f.strip_prefix("/fx/").unwrap_or(f);
            assert_eq!(r["status"], "ok", "{r}");
            m.insert(f.to_string(), r["value"].clone());
        }
    }
    m
}

#[test]
fn the_elf_reader_sees_what_the_loader_will_need_in_real_and_synthetic_files() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    build_fixtures(d.path());
    std::fs::write(d.path().join("le32.so"), synthetic(false, false)).unwrap();
    std::fs::write(d.path().join("be64.so"), synthetic(true, true)).unwrap();
    let files = ["relr.so", "glibc234.so", "needs_missing.so", "le32.so", "be64.so"];
    for (base, image) in [("glibc", GLIBC), ("musl", MUSL)] {
        let v = read_in(image, d.path(), &files);
        assert_eq!(v["relr.so"]["relr"], true, "{base}: {}", v["relr.so"]);
        assert_eq!(v["glibc234.so"]["relr"], false);
        assert!(
            v["glibc234.so"]["version_needs"]["libc.so.6"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("GLIBC_2.34")),
            "{base}: {}",
            v["glibc234.so"]
        );
        // Observed by each base's own loader, not assumed.
        assert_eq!(
            v["needs_missing.so"]["missing"],
            serde_json::json!(["libmcmissing.so"]),
            "{base}: {}",
            v["needs_missing.so"]
        );
        assert_eq!(v["glibc234.so"]["missing"], serde_json::json!([]), "{base}: {}", v["glibc234.so"]);
        assert_eq!((v["le32.so"]["elf_class"].as_u64(), v["le32.so"]["endian"].as_str()), (Some(32), Some("little")));
        assert_eq!((v["be64.so"]["elf_class"].as_u64(), v["be64.so"]["endian"].as_str()), (Some(64), Some("big")));
        for f in ["le32.so", "be64.so"] {
            assert_eq!(v[f]["needed"], serde_json::json!(["libfoo.so"]), "{base} {f}: {}", v[f]);
        }
    }
    // The same reader on the same files inside a wheel that is not installed reports the same
    // facts of the files (what it reports per file for another version's wheel).
    let zipped = Command::new("python3")
        .args(["-m", "zipfile", "-c", "fixtures.whl"])
        .args(files)
        .current_dir(d.path())
        .status()
        .expect("python3 on the host")
        .success();
    assert!(zipped);
    for image in [GLIBC, MUSL] {
        let installed = read_in(image, d.path(), &files);
        let wheel = read_wheel_in(image, d.path(), "fixtures.whl");
        assert_eq!(wheel.len(), files.len(), "{wheel:#?}");
        for f in files {
            for k in ["relr", "needed", "version_needs", "elf_class", "endian"] {
                assert_eq!(wheel[f][k], installed[f][k], "{image} {f} {k}");
            }
        }
        assert_eq!(wheel["relr.so"]["relr"], true);
        assert_eq!(wheel["glibc234.so"]["glibc_symbol_versions"].as_array().unwrap().last().unwrap(), "GLIBC_2.34");
    }
    // What each loader makes of glibc's libc name is a fact of that base, recorded as observed.
    let musl = read_in(MUSL, d.path(), &["glibc234.so"]);
    assert!(musl["glibc234.so"]["resolved"]["libc.so.6"].as_str().unwrap().contains("musl"), "{}", musl["glibc234.so"]);
}

#[test]
fn an_import_that_fails_for_a_missing_library_is_explained_by_the_loader() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    // An extension module linked against a library that is not shipped.
    let script = r#"set -eu
printf 'int mcmissing(void){return 1;}\n' > m.c
gcc -shared -fPIC -o libmcmissing.so m.c
printf 'int mcmissing(void); void *PyInit__native(void){ mcmissing(); return 0; }\n' > n.c
gcc -shared -fPIC -o _native.so n.c -L. -lmcmissing
rm libmcmissing.so ./*.c; chmod 644 _native.so"#;
    in_toolchain(d.path(), script);
    let n = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
    let name = format!("mcneeds{n}");
    let (init, native) = (format!("{name}/__init__.py"), format!("{name}/_native.so"));
    publish_wheel_with(
        &name,
        "1.0",
        &[(init.as_str(), "from . import _native\n")],
        &[(native.as_str(), &d.path().join("_native.so"))],
        &[&name],
    );
    let results = d.path().join("results");
    let mut args: Vec<String> = vec![
        "gate".into(),
        format!("{name}==1.0"),
        "--matrix".into(),
        "tests/fixtures/small.toml".into(),
        "--format".into(),
        "markdown".into(),
    ];
    args.extend(local_index_with_ca());
    args.extend(["--results-dir".into(), results.display().to_string()]);
    let out = bin().args(&args).current_dir(root()).assert().code(1);
    let md = stdout_of(&out);
    let r = report(&results);
    let fails = findings_of(&r, "fails");
    assert_eq!(fails.len(), 1, "one finding for the one cause: {r:#}");
    for base in ["glibc", "musl"] {
        let why = fails[0]["explanation"][base].to_string();
        assert!(why.contains(&format!("{name}/_native.so needs libmcmissing.so")), "{base}: {why}");
    }
    assert!(md.contains("**why on musl**"), "{md}");
    assert_no_leftovers(&r);
    unpublish(&n);
}

/// numpy's musllinux wheel vendors libraries with DT_RELR relocations: on musl 1.2.3 every
/// import of it crashes, on musl 1.2.5 it works. One finding for the one cause, explained by
/// the observed loader version and the rule that links them, with what to do: the musl version
/// that loads it, and an older numpy whose wheel for that base was read without DT_RELR.
#[test]
fn numpy_on_an_older_musl_is_one_crash_explained_by_dt_relr() {
    require_engine();
    let d = tempfile::tempdir().unwrap();
    let results = d.path().join("r");
    let out = in_results(
        &results,
        &[
            "gate",
            "numpy==2.5.5",
            "--matrix",
            "tests/fixtures/older-musl.toml",
            "--ca-bundle",
            &ca_bundle(),
            "--format",
            "markdown",
        ],
    )
    .code(1);
    let r = report(&results);
    let f = r["findings"].as_array().unwrap();
    let blocking: Vec<&serde_json::Value> = f.iter().filter(|f| f["severity"] == "blocking").collect();
    assert_eq!(blocking.len(), 1, "one blocking finding, not one per module: {f:#?}");
    assert_eq!(blocking[0]["failing"], serde_json::json!(["musl123"]));
    let why = blocking[0]["explanation"]["musl123"].to_string();
    assert!(why.contains("DT_RELR") && why.contains("musl 1.2.3") && why.contains("from 1.2.4"), "{why}");
    let base_libc =
        |b: &str| r["bases"].as_array().unwrap().iter().find(|x| x["name"] == b).unwrap()["libc"]["version"].clone();
    assert_eq!(base_libc("musl123"), "1.2.3", "the version in the explanation is the observed one");
    let pass: Vec<(String, bool)> = r["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["base"].as_str().unwrap().to_string(), v["pass"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        pass,
        [("glibc".to_string(), true), ("musl".to_string(), true), ("musl123".to_string(), false)],
        "the same wheel passes on musl 1.2.5"
    );
    assert!(stdout_of(&out).contains("**why on musl123**"));
    // What to do: the libc version by the rule table, and an older version whose wheel for this
    // base was read (downloaded, its native files read in a container of the base) without the
    // cause, or that none of those read is.
    let lines: Vec<String> = blocking[0]["explanation"]["musl123"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    assert!(lines.iter().any(|l| l.starts_with("by the rule table, musl 1.2.4 or newer loads DT_RELR")), "{lines:#?}");
    let found = lines.iter().find_map(|l| {
        l.strip_prefix("an older version without the cause: numpy ")
            .map(|rest| (rest.split_once(' ').unwrap().0.to_string(), l.clone()))
    });
    match found {
        Some((version, line)) => {
            // The version named was read and reported free of DT_RELR; every newer one read was
            // reported with it.
            let entries: Vec<&str> = line.split_once("): ").unwrap().1.split("; ").collect();
            let free = entries
                .iter()
                .position(|e| e.starts_with(&format!("{version} (numpy-{version}-")))
                .unwrap_or_else(|| panic!("{version} is not among the versions read: {line}"));
            assert!(entries[free].contains("native files read): no DT_RELR"), "{line}");
            assert!(entries[free].contains("musllinux"), "the wheel read is one for this base: {line}");
            for e in &entries[..free] {
                assert!(e.contains("native files read): DT_RELR in numpy.libs/"), "{e} in {line}");
            }
            let v = |s: &str| s.split('.').map(|p| p.parse::<u32>().unwrap()).collect::<Vec<_>>();
            assert!(v(&version) < v("2.5.5"), "an older version: {line}");
        }
        None => assert!(
            lines.iter().any(|l| l.starts_with("none of the ")
                && l.contains("versions of numpy read has a wheel for this base without DT_RELR")),
            "either a version without the cause or that none read is: {lines:#?}"
        ),
    }
    // The other bases load the wheel: nothing to suggest there.
    assert!(blocking[0]["explanation"].get("musl").is_none(), "{:#}", blocking[0]);
    assert_no_leftovers(&r);
}
