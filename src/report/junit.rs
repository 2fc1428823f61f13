//! JUnit XML: one test case per job, named `<dependency>[<base>]`. A case fails exactly when
//! its verdict fails on a required base (on an optional base it is skipped with the reasons);
//! the verdict is read, never re-derived. The evidence goes to system-out.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::model::RunReport;

pub fn render(r: &RunReport) -> String {
    let mut report = Report::new("muslcheck");
    let mut deps: Vec<&str> = r.verdicts.iter().map(|v| v.dependency.as_str()).collect();
    deps.dedup();
    for dep in deps {
        let mut suite = TestSuite::new(dep);
        for v in r.verdicts.iter().filter(|v| v.dependency == dep) {
            let id = crate::plan::job_id(&v.dependency, &v.base);
            let job = r.jobs.iter().find(|j| j.id == id);
            let status = if v.pass && super::not_applicable(r, dep, &v.base) {
                let mut s = TestCaseStatus::skipped();
                s.set_message(format!(
                    "not applicable: {}",
                    job.and_then(|j| j.error.as_deref()).unwrap_or("the requirement's marker excludes this base")
                ));
                s
            } else if let Some(e) = &v.error {
                // Nothing was observed: neither a pass nor a failure of the dependency.
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(format!("not run: {e}"));
                s.set_type("infrastructure");
                s
            } else if v.pass {
                TestCaseStatus::success()
            } else if !v.blocks() {
                let mut s = TestCaseStatus::skipped();
                s.set_message(format!("optional base: {}", v.reasons.join("; ")));
                s
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(v.reasons.join("; "));
                s.set_type("muslcheck");
                s
            };
            let mut case = TestCase::new(id, status);
            case.set_classname(format!("muslcheck.{dep}"));
            if let Some(j) = job {
                case.set_time(Duration::from_secs_f64(j.build_secs));
                let mut out = String::new();
                for f in r.findings.iter().filter(|f| f.subject == dep || v.failed_by.contains(&f.id)) {
                    if let Some(e) = f.evidence.get(&v.base) {
                        out.push_str(&format!("[{}] {}\n  {}: {e}\n", f.kind, f.summary, v.base));
                        for w in f.explanation.get(&v.base).into_iter().flatten() {
                            out.push_str(&format!("  why: {w}\n"));
                        }
                    }
                }
                out.push_str(&format!("--- pip output (tail) ---\n{}", j.log_tail));
                case.set_system_out(out);
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().expect("serialising JUnit XML")
}
