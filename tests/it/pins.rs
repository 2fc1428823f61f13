//! Digest pins against the local registry: `bases pin` writes the digest the tag has now,
//! `bases check` passes while it holds and flags the pin stale once a new image is pushed under
//! the same tag.

use std::process::Command;

use crate::common::*;

fn docker(args: &[&str]) {
    let o = Command::new("docker").args(args).output().unwrap();
    assert!(o.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_re_pushed_tag_makes_the_pin_stale() {
    require_engine();
    let n = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
    let tag = format!("127.0.0.1:5000/muslcheck-test/pin:{n}");
    docker(&["tag", GLIBC, &tag]);
    docker(&["push", "-q", &tag]);
    let d = tempfile::tempdir().unwrap();
    let matrix = d.path().join("m.toml");
    let text = format!("# pinned bases\n[[base]]\nname = \"pinned\"  # a comment that stays\nimage = \"{tag}\"\n\n[[dependency]]\nrequirement = \"six\"\n");
    std::fs::write(&matrix, &text).unwrap();
    let m = matrix.to_str().unwrap();
    bin().args(["bases", "pin", "--matrix", m]).assert().code(0);
    let pinned = std::fs::read_to_string(&matrix).unwrap();
    let digest = pinned.split(&format!("{tag}@")).nth(1).and_then(|s| s.split('"').next()).expect("a pin").to_string();
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "{pinned}");
    assert_eq!(pinned, text.replace(&format!("\"{tag}\""), &format!("\"{tag}@{digest}\"")), "comments and layout kept");
    bin().args(["bases", "check", "--matrix", m]).assert().code(0).stdout(predicates::str::contains("still is"));
    // A new image under the same tag.
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("Dockerfile"), format!("FROM {GLIBC}\nLABEL io.muslcheck.test.repushed={n}\n"))
        .unwrap();
    docker(&["build", "-q", "-t", &tag, ctx.path().to_str().unwrap()]);
    docker(&["push", "-q", &tag]);
    let out = bin().args(["bases", "check", "--matrix", m]).assert().code(1);
    let text = stdout_of(&out);
    assert!(text.contains("STALE") && text.contains(&digest), "{text}");
    let new = text.split(" now is ").nth(1).unwrap_or("").trim();
    assert!(new.starts_with("sha256:") && new != digest, "{text}");
    let _ = Command::new("docker").args(["rmi", &tag]).output();
}
