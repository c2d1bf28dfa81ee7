//! The `checks:` section of an experiment file: claims declared in YAML, measured on the results.
//!
//! ```yaml
//! checks:
//!   - name: iterations_linear_in_kappa          # unique within the experiment
//!     claim: "ResNet iterations grow about linearly with κ"
//!     filter: {model.arch: resnet, model.width: 128}   # values (or lists of alternatives) of fields
//!     measure: iters_to_target                 # see below
//!     target: 1.0e-6                           # iters_to_target, critical_width (default theory.target)
//!     # budget: 10 | budget_iters: 2000        # critical_width: × the theorem's iterations, or absolute
//!     over_seeds: median                       # median | min | max | mean (per-run measures)
//!     test: {slope: {x: data.kappa, at_least: 0.5, at_most: 1.5}}
//!     finding: false                           # true: reported with its numbers, never gating
//! ```
//!
//! A measure gives one number per *cell*: the selected runs that agree on every grid field but the
//! seed (per-run measures, aggregated over seeds with `over_seeds`), or on every grid field but the
//! seed and the width (`critical_width`, `margin_one_width`). So no field is ever pooled. Measures:
//! `final_rel_excess`, `iters_to_target`, `seconds`, `theory.<quantity>` (see [`TheoryQuantity`]),
//! `critical_width` (needs `budget`), `margin_one_width`, `certified_width` (the margin-one width
//! of a ResNet, Du & Hu's required width of a linear network), and the built-ins `zou_bound` and
//! `engines_agree`, which carry their own test.
//!
//! Tests compare cells: `each` (every cell within bounds), and along a numeric grid field `x` within
//! each group of cells that agree on every other field: `slope` (least-squares slope of log value on
//! log x), `ratio` (value at the largest x over value at the smallest), `spread` (largest over
//! smallest value); `versus` divides the cell with `field = numerator` by the one with
//! `field = denominator`. Bounds are `at_least`, `at_most`, `above`, `below`, and some number
//! (∞ included) must meet them all. A cell without a finite value follows one rule in every test,
//! stated in the verdicts of the `check` output: n/a fails the test, ∞ is a value above every number.
//!
//! Every field a check names is looked up in the grid ([`super::known_field`]: an unknown one is
//! named with the nearest that exists), and its claim is displayable text ([`super::displayable`]).
//! A check is read once, when its experiment is loaded, into a [`CheckDecl`] whose [`CheckBody`]
//! holds exactly what its measure needs; the output `check` evaluates it.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

use super::quantity::{Budget, OverSeeds, Quantity, QuantityInput, WidthMeasure};
use super::{FieldPath, FieldValue, Filter, GridRun, Spec, SpecError, displayable, known_field};
use crate::config::StepRule;
use crate::number::float_text;

#[cfg(doc)]
use super::quantity::TheoryQuantity;

/// Bounds on a number; at least one is given.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
    pub above: Option<f64>,
    pub below: Option<f64>,
}

impl Bounds {
    pub fn holds(&self, v: f64) -> bool {
        self.at_least.is_none_or(|b| v >= b)
            && self.at_most.is_none_or(|b| v <= b)
            && self.above.is_none_or(|b| v > b)
            && self.below.is_none_or(|b| v < b)
    }

    /// "≥ 0.5 and ≤ 1.5".
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [("≥", self.at_least), ("≤", self.at_most), (">", self.above), ("<", self.below)]
            .iter()
            .filter_map(|(op, b)| b.map(|b| format!("{op} {}", float_text(b))))
            .collect();
        parts.join(" and ")
    }

    /// At least one bound, every bound a number (±∞ included), and some value that meets them all
    /// (∞ is a value: `at_least: .inf` admits ∞ alone); the rule broken otherwise. Bounds that admit
    /// no value would fail whatever was measured.
    fn check(&self) -> Result<(), String> {
        let all = [self.at_least, self.at_most, self.above, self.below];
        if all.iter().all(Option::is_none) {
            return Err("give at least one bound: at_least, at_most, above or below".into());
        }
        if let Some(b) = all.iter().flatten().find(|b| b.is_nan()) {
            return Err(format!("a bound must be a number, got {}", float_text(*b)));
        }
        // The tightest lower and upper bound (name, value, strict); at equal values the strict one.
        let given = |bounds: [(&'static str, Option<f64>, bool); 2]| {
            bounds.into_iter().filter_map(|(name, b, strict)| b.map(|b| (name, b, strict))).collect::<Vec<_>>()
        };
        let lower = given([("at_least", self.at_least, false), ("above", self.above, true)])
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1).then(a.2.cmp(&b.2)));
        let upper = given([("at_most", self.at_most, false), ("below", self.below, true)])
            .into_iter()
            .min_by(|a, b| a.1.total_cmp(&b.1).then(b.2.cmp(&a.2)));
        let text = |(name, b, _): (&str, f64, bool)| format!("{name} {}", float_text(b));
        let rule = |what: String| Err(format!("no number meets {what}: the test would fail whatever was measured"));
        match (lower, upper) {
            (Some(lo), _) if lo.2 && lo.1 == f64::INFINITY => rule(text(lo)),
            (_, Some(hi)) if hi.2 && hi.1 == f64::NEG_INFINITY => rule(text(hi)),
            (Some(lo), Some(hi)) if lo.1 > hi.1 || (lo.1 == hi.1 && (lo.2 || hi.2)) => {
                rule(format!("{} and {}", text(lo), text(hi)))
            }
            _ => Ok(()),
        }
    }
}

/// A comparison along a numeric field: the field and the bounds of the compared number.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Along {
    pub x: String,
    #[serde(flatten)]
    pub bounds: Bounds,
}

/// The ratio of two groups: the cell with `field = numerator` over the one with `field = denominator`.
/// Either every ratio is bounded, or (`slope`) the log–log slope of the ratios along another field.
/// The sides are written as values of the field and compared with the grid's values as a filter
/// compares them ([`FieldValue::wanted`]: numbers as numbers, `0.0` is the grid's `0`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Versus {
    pub field: String,
    pub numerator: Json,
    pub denominator: Json,
    #[serde(flatten)]
    pub bounds: Bounds,
    #[serde(default)]
    pub slope: Option<Along>,
}

/// What a check compares: one of `each`, `slope`, `ratio`, `spread`, `versus`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "TestInput")]
pub enum Test {
    Each(Bounds),
    Slope(Along),
    Ratio(Along),
    Spread(Along),
    Versus(Versus),
}

/// A test as written: a mapping with exactly one of the test kinds (serde_norway reads enums only
/// from YAML tags, which the files do not use).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestInput {
    each: Option<Bounds>,
    slope: Option<Along>,
    ratio: Option<Along>,
    spread: Option<Along>,
    versus: Option<Versus>,
}

impl TryFrom<TestInput> for Test {
    type Error = String;

    fn try_from(i: TestInput) -> Result<Test, String> {
        let mut given = Vec::new();
        given.extend(i.each.map(Test::Each));
        given.extend(i.slope.map(Test::Slope));
        given.extend(i.ratio.map(Test::Ratio));
        given.extend(i.spread.map(Test::Spread));
        given.extend(i.versus.map(Test::Versus));
        match given.len() {
            1 => Ok(given.remove(0)),
            n => Err(format!("give exactly one test (each, slope, ratio, spread or versus), got {n}")),
        }
    }
}

impl Test {
    /// Where the bounds are written, below `test`: `each`, `slope`, …, `versus.slope`.
    fn bounds_path(&self) -> &'static str {
        match self {
            Test::Each(_) => "each",
            Test::Slope(_) => "slope",
            Test::Ratio(_) => "ratio",
            Test::Spread(_) => "spread",
            Test::Versus(Versus { slope: Some(_), .. }) => "versus.slope",
            Test::Versus(_) => "versus",
        }
    }

    /// Every grid field the test names, with where it is written below `test`.
    fn named_fields(&self) -> Vec<(&'static str, &str)> {
        match self {
            Test::Each(_) => Vec::new(),
            Test::Slope(a) => vec![("slope.x", &a.x)],
            Test::Ratio(a) => vec![("ratio.x", &a.x)],
            Test::Spread(a) => vec![("spread.x", &a.x)],
            Test::Versus(v) => {
                let mut out = vec![("versus.field", v.field.as_str())];
                out.extend(v.slope.as_ref().map(|a| ("versus.slope.x", a.x.as_str())));
                out
            }
        }
    }

    fn bounds(&self) -> &Bounds {
        match self {
            Test::Each(b) => b,
            Test::Slope(a) | Test::Ratio(a) | Test::Spread(a) => &a.bounds,
            Test::Versus(Versus { slope: Some(a), .. }) => &a.bounds,
            Test::Versus(v) => &v.bounds,
        }
    }

    /// The test in words: "every cell ≤ 1e-6", "log–log slope over data.kappa ≥ 0.5 and ≤ 1.5".
    pub fn describe(&self) -> String {
        let b = self.bounds().describe();
        match self {
            Test::Each(_) => format!("every cell {b}"),
            Test::Slope(a) => format!("log–log slope over {} {b}", a.x),
            Test::Ratio(a) => format!("value at the largest {x} / at the smallest {x} {b}", x = a.x),
            Test::Spread(a) => format!("largest / smallest value over {} {b}", a.x),
            Test::Versus(v) => {
                let ratio =
                    format!("{f} = {} over {f} = {}", json_text(&v.numerator), json_text(&v.denominator), f = v.field);
                match &v.slope {
                    Some(a) => format!("log–log slope of ({ratio}) over {} {b}", a.x),
                    None => format!("{ratio} {b}"),
                }
            }
        }
    }
}

/// A value as written in YAML, as text (a string without its quotes).
pub fn json_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One declared check, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckInput {
    name: String,
    claim: String,
    #[serde(default)]
    filter: BTreeMap<String, Json>,
    measure: String,
    #[serde(default)]
    target: Option<f64>,
    #[serde(default)]
    budget: Option<f64>,
    #[serde(default)]
    budget_iters: Option<u64>,
    #[serde(default)]
    over_seeds: Option<OverSeeds>,
    #[serde(default)]
    test: Option<Test>,
    #[serde(default)]
    finding: bool,
}

/// Whether a check's result is a claim of the papers (gating), a finding (reported with its
/// numbers, never gating) or a property that holds by construction (gating like a test of the
/// software, never shown as a claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    Claim,
    Finding,
}

/// What a check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The claim holds on the measurements.
    Pass,
    /// The claim does not hold, or there was nothing to measure.
    Fail,
    /// Runs the check needs have no result yet: the verdict would rest on part of the data.
    Incomplete,
    /// A measurement reported beside the claims (an extension, not a claim of the papers): shown
    /// with its numbers, never gating.
    Finding,
}

impl CheckStatus {
    /// Whether this status lets `linres check` exit 0: PASS and findings do; FAIL and INCOMPLETE do not.
    pub fn gates_ok(self) -> bool {
        matches!(self, CheckStatus::Pass | CheckStatus::Finding)
    }

    /// Upper-case label: PASS, FAIL, INCOMPLETE, FINDING.
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pass => "PASS",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Incomplete => "INCOMPLETE",
            CheckStatus::Finding => "FINDING",
        }
    }
}

/// The verdict of one check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    /// The experiment that declares the check.
    pub experiment: String,
    pub name: String,
    /// The claim, in words.
    pub claim: String,
    pub status: CheckStatus,
    /// What was measured.
    pub measured: String,
    /// What it was compared with.
    pub threshold: String,
}

impl CheckOutcome {
    /// Whether the check passed (a finding is not a pass).
    pub fn passed(&self) -> bool {
        self.status == CheckStatus::Pass
    }
}

/// What a check measures and how it is judged.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckBody {
    /// One number per cell, compared by a test.
    Cells { quantity: Quantity, test: Box<Test> },
    /// Built-in: the Zou bound holds at every logged point of every covered run.
    ZouBound,
    /// Built-in: re-runs with every other applicable engine agree with the cached curves.
    EnginesAgree,
}

impl CheckBody {
    /// What the check measures, in words.
    pub fn describe(&self) -> String {
        match self {
            CheckBody::Cells { quantity, .. } => quantity.describe(),
            CheckBody::ZouBound => "L(W_t) − L* ≤ (1 − ρ)^t (L(W0) − L*) at every logged point above 1e-12 × (L(W0) − \
                 L*), on every covered run (GD, margin ≥ 1, η ≤ bracket); at least one covered run"
                .into(),
            CheckBody::EnginesAgree => "re-runs with every other applicable engine: |a − b| ≤ 1e-9 · max(|a|, |b|, \
                 1e-12 × initial excess) at every logged point; at least one comparison"
                .into(),
        }
    }
}

/// One declared check, read and checked against its experiment's grid.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckDecl {
    pub name: String,
    pub claim: String,
    pub filters: Vec<Filter>,
    pub kind: CheckKind,
    pub body: CheckBody,
}

impl CheckDecl {
    /// The runs of `runs` that the check selects.
    pub fn select<'a>(&self, runs: impl IntoIterator<Item = &'a GridRun>) -> Vec<&'a GridRun> {
        runs.into_iter().filter(|r| self.filters.iter().all(|f| f.matches(r))).collect()
    }

    /// What the check compares against, in words.
    pub fn threshold(&self) -> String {
        match &self.body {
            CheckBody::Cells { quantity, test } => format!("{}: {}", quantity.describe(), test.describe()),
            builtin => builtin.describe(),
        }
    }
}

impl Spec {
    /// The checks declared in this spec, read and validated against its grid `runs` (the expanded
    /// grid): the claim is displayable text, every field named exists in the grid, every filter
    /// selects runs, the field a test compares along varies among them and is numeric where it
    /// must be, a `versus` names values the field takes, bounds admit some value, targets are
    /// decades, budgets positive and, in theory iterations, only for runs with a theorem's step.
    pub fn check_decls(&self, runs: &[GridRun]) -> Result<Vec<CheckDecl>, SpecError> {
        if self.checks.is_null() {
            return Ok(Vec::new());
        }
        let inputs: Vec<CheckInput> = serde_path_to_error::deserialize(self.checks.clone()).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            self.section_error(&format!("checks{}", bracket(&path)), e.into_inner().to_string())
        })?;
        let mut names = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (i, input) in inputs.into_iter().enumerate() {
            let err = |field: &str, message: String| self.section_error(&format!("checks[{i}].{field}"), message);
            if input.name.is_empty() || !input.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) {
                return Err(err("name", format!("`{}` must be a name of letters, digits, `-` and `_`", input.name)));
            }
            if !names.insert(input.name.clone()) {
                return Err(err("name", format!("check `{}` is declared twice", input.name)));
            }
            displayable(&input.claim).map_err(|m| err("claim", m))?;
            for key in input.filter.keys() {
                known_field(runs, key).map_err(|m| err(&format!("filter.{}", key.escape_debug()), m))?;
            }
            let filters = Filter::from_map(&input.filter);
            let selected: Vec<&GridRun> = runs.iter().filter(|r| filters.iter().all(|f| f.matches(r))).collect();
            if selected.is_empty() {
                return Err(err("filter", "selects no run of the grid".into()));
            }
            let body = match input.measure.as_str() {
                "zou_bound" | "engines_agree" => {
                    if input.test.is_some() {
                        return Err(err("test", format!("{} brings its own test", input.measure)));
                    }
                    let extra = [
                        ("target", input.target.is_some()),
                        ("budget", input.budget.is_some() || input.budget_iters.is_some()),
                        ("over_seeds", input.over_seeds.is_some()),
                    ];
                    if let Some((field, _)) = extra.iter().find(|(_, given)| *given) {
                        return Err(err(field, format!("{} takes no `{field}`", input.measure)));
                    }
                    if input.measure == "zou_bound" { CheckBody::ZouBound } else { CheckBody::EnginesAgree }
                }
                measure => {
                    let quantity = QuantityInput {
                        measure,
                        target: input.target,
                        budget: input.budget,
                        budget_iters: input.budget_iters,
                        over_seeds: input.over_seeds,
                    }
                    .read(self.theory.target)
                    .map_err(|e| err(e.field, e.message))?;
                    let Some(mut test) = input.test else {
                        return Err(err("test", "give a test: each, slope, ratio, spread or versus".into()));
                    };
                    let at = format!("test.{}", test.bounds_path());
                    test.bounds().check().map_err(|m| err(&at, m))?;
                    if let Test::Versus(v) = &test
                        && v.slope.is_some()
                        && v.bounds != Bounds::default()
                    {
                        return Err(err(
                            "test.versus",
                            "versus takes bounds on each ratio or a `slope`, not both".into(),
                        ));
                    }
                    for (at, field) in test.named_fields() {
                        known_field(runs, field).map_err(|m| err(&format!("test.{at}"), m))?;
                    }
                    theory_steps(quantity, &selected).map_err(|m| err("measure", m))?;
                    check_fields(&mut test, &selected).map_err(|(at, m)| err(&format!("test.{at}"), m))?;
                    CheckBody::Cells { quantity, test: Box::new(test) }
                }
            };
            let kind = if input.finding { CheckKind::Finding } else { CheckKind::Claim };
            out.push(CheckDecl { name: input.name, claim: input.claim, filters, kind, body });
        }
        Ok(out)
    }
}

/// A budget in theory iterations needs runs with a theorem's step (a wide-limit iteration
/// count): the rule broken by the first run with a fixed step.
pub fn theory_steps(quantity: Quantity, runs: &[&GridRun]) -> Result<(), String> {
    if let Quantity::Width(WidthMeasure::Critical { budget: Budget::TimesTheory(_), .. }) = quantity
        && let Some(r) = runs.iter().find(|r| matches!(r.run.config().optim.step, StepRule::Fixed { .. }))
    {
        return Err(format!(
            "a budget in theory iterations needs the theorem's step, but run {} has a fixed step (give `budget_iters`)",
            r.run.id()
        ));
    }
    Ok(())
}

/// Checks the fields `test` compares along against the `selected` runs: each takes two or more
/// values, numeric ones where the test computes with them, and a `versus` field takes both of its
/// sides (compared as the grid's values: numbers as numbers, so `0.0` is the grid's `0`), which
/// are then written as the grid writes them. Returns where below `test` a rule is broken, and the
/// rule.
fn check_fields(test: &mut Test, selected: &[&GridRun]) -> Result<(), (&'static str, String)> {
    for (at, field) in test.named_fields() {
        let values = distinct_values(selected, field);
        if values.len() < 2 {
            return Err((at, format!("`{field}` must take two or more values among the selected runs")));
        }
        let numeric = at != "versus.field";
        if numeric && let Some(v) = values.iter().find(|v| v.number().is_none()) {
            return Err((at, format!("`{field}` must be numeric to compare along it, got `{v}`")));
        }
    }
    if let Test::Versus(Versus { field, numerator, denominator, .. }) = test {
        let values = distinct_values(selected, field);
        for (at, side) in [("versus.numerator", numerator), ("versus.denominator", denominator)] {
            let Some(value) = values.iter().find(|v| **v == FieldValue::wanted(side)) else {
                return Err((
                    at,
                    format!("`{field}` never takes the value `{}` among the selected runs", json_text(side)),
                ));
            };
            *side = value.json();
        }
    }
    Ok(())
}

/// `[0].name` stays, `name` becomes `.name`, nothing stays nothing.
fn bracket(path: &str) -> String {
    if path.is_empty() || path.starts_with('[') { path.to_string() } else { format!(".{path}") }
}

/// Distinct values of `field` among `runs`, in grid order.
pub fn distinct_values(runs: &[&GridRun], field: &str) -> Vec<FieldValue> {
    let path = FieldPath::new(field);
    let mut out: Vec<FieldValue> = Vec::new();
    for r in runs {
        let v = path.value_of(r);
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}
