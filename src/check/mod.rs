//! Claims declared in experiment files (`checks:`), measured on the cached results: each check
//! selects runs, measures one number per cell (see [`spec`]), compares the cells with its test and
//! reports PASS or FAIL with the numbers (a claim of the papers, or a property that holds by
//! construction: both gate), INCOMPLETE when runs it needs have no result, or FINDING for a
//! measurement reported beside the papers' claims. Nothing passes vacuously: a check whose runs are
//! all missing is INCOMPLETE, and one with nothing to compare fails.

mod bound;
pub mod cells;
mod engines;
pub mod verdict;

pub use bound::{du_hu_bound, zou_bound};
pub use engines::engines_agree;

use crate::grid::check::{CheckBody, CheckDecl, CheckKind, CheckOutcome, CheckStatus, by_kind};
use cells::Cells;

use crate::escape::{markdown_code, markdown_text};
use crate::experiment::{Experiment, Row};

/// Runs every check `exp` declares on its results.
pub fn check_experiment(exp: &Experiment) -> Vec<CheckOutcome> {
    exp.checks.iter().map(|c| evaluate(c, exp)).collect()
}

/// One check on `exp`.
pub fn evaluate(check: &CheckDecl, exp: &Experiment) -> CheckOutcome {
    let rows: Vec<&Row> = exp.rows.iter().filter(|r| check.filters.iter().all(|f| f.matches(&r.run))).collect();
    let missing = check.select(&exp.missing).len();
    let outcome = |status: CheckStatus, measured: String| CheckOutcome {
        experiment: exp.spec.name.clone(),
        name: check.name.clone(),
        claim: check.claim.clone(),
        kind: check.kind,
        status,
        measured,
        threshold: check.threshold(),
    };
    if missing > 0 {
        return outcome(
            CheckStatus::Incomplete,
            format!(
                "{missing} of {} selected runs have no result (`{}` computes them)",
                missing + rows.len(),
                exp.run_command()
            ),
        );
    }
    let (pass, measured) = match &check.body {
        CheckBody::ZouBound => zou_bound(&rows),
        CheckBody::DuHuBound => du_hu_bound(&rows),
        CheckBody::EnginesAgree => engines_agree(&rows),
        CheckBody::Cells { quantity, test } => match Cells::of(*quantity, exp, &rows) {
            Ok(cells) => {
                let v = verdict::judge(test, &cells);
                (v.pass, v.measured)
            }
            // Refused at load; a grid edited behind the check's back still fails with the reason.
            Err(e) => (false, e.to_string()),
        },
    };
    let status = match (check.kind, pass) {
        (CheckKind::Finding, _) => CheckStatus::Finding,
        (CheckKind::Claim | CheckKind::Property, true) => CheckStatus::Pass,
        (CheckKind::Claim | CheckKind::Property, false) => CheckStatus::Fail,
    };
    outcome(status, measured)
}

/// The checks as markdown: one table per kind ([`by_kind`]) under a bold line naming the kind,
/// every text from input escaped ([`markdown_text`]), so each check is one row of five cells
/// whatever its claim says.
pub fn markdown(outcomes: &[CheckOutcome]) -> String {
    by_kind(outcomes)
        .into_iter()
        .map(|(kind, group)| format!("**{}**\n\n{}", kind.heading(), markdown_table(&group)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `text` holds tables [`markdown`] wrote (a header row at least) without an INCOMPLETE
/// row (a check whose runs had no result): a table that `linres check` must not replace by an
/// incomplete one.
pub fn is_complete_table(text: &str) -> bool {
    let incomplete = format!("| **{}** |", CheckStatus::Incomplete.label());
    text.lines().any(|l| l.starts_with(TABLE_HEADER)) && !text.lines().any(|l| l.starts_with(&incomplete))
}

/// The header row of every table of checks.
const TABLE_HEADER: &str = "| result | check | claim | measured | threshold |";

/// One table of checks.
fn markdown_table(outcomes: &[&CheckOutcome]) -> String {
    let mut s = format!("{TABLE_HEADER}\n|---|---|---|---|---|\n");
    for o in outcomes {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            if o.status.gates_ok() { o.status.label().to_string() } else { format!("**{}**", o.status.label()) },
            markdown_code(&format!("{}/{}", o.experiment, o.name)),
            markdown_text(&o.claim),
            markdown_text(&o.measured),
            markdown_text(&o.threshold)
        ));
    }
    s
}
