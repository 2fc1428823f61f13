//! JUnit XML: one test case per job, named `<dependency>[<base>]`; a failing verdict is a
//! failure with its reasons, and the evidence goes to system-out.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::model::RunReport;

pub fn render(r: &RunReport) -> String {
    let mut report = Report::new("muslcheck");
    let mut deps: Vec<&str> = r.verdicts.iter().map(|v| v.dependency.as_str()).collect();
    deps.dedup();
    for dep in deps {
        let mut suite = TestSuite::new(dep);
        for v in r.verdicts.iter().filter(|v| v.dependency == dep) {
            let id = crate::plan::job_id(&v.dependency, &v.base);
            let job = r.jobs.iter().find(|j| j.id == id);
            let blocking: Vec<String> = r
                .findings
                .iter()
                .filter(|f| f.subject == dep && f.severity == super::model::Severity::Blocking && f.evidence.contains_key(&v.base))
                .map(|f| format!("[{}] {}", f.kind, f.summary))
                .collect();
            let status = if v.pass && blocking.is_empty() && super::not_applicable(r, dep, &v.base) {
                let mut s = TestCaseStatus::skipped();
                s.set_message(format!("not applicable: {}", job.and_then(|j| j.error.as_deref()).unwrap_or("the requirement's marker excludes this base")));
                s
            } else if v.pass && blocking.is_empty() {
                TestCaseStatus::success()
            } else if !v.required && blocking.is_empty() {
                let mut s = TestCaseStatus::skipped();
                s.set_message(format!("optional base: {}", v.reasons.join("; ")));
                s
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let mut reasons = v.reasons.clone();
                reasons.extend(blocking);
                s.set_message(reasons.join("; "));
                s.set_type("muslcheck");
                s
            };
            let mut case = TestCase::new(id, status);
            case.set_classname(format!("muslcheck.{dep}"));
            if let Some(j) = job {
                case.set_time(Duration::from_secs_f64(j.build_secs));
                let mut out = String::new();
                for f in r.findings.iter().filter(|f| f.subject == dep) {
                    if let Some(e) = f.evidence.get(&v.base) {
                        out.push_str(&format!("[{}] {}\n  {}: {e}\n", f.kind, f.summary, v.base));
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
