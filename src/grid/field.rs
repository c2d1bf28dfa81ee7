//! The fields of a run, looked up by their dotted path: the one reading of "the value a run
//! takes on a field" for filters, series, facets, table layouts, check cells and every table
//! column.
//!
//! A path names a grid axis (`model.width`, a `zip` field, `seed`) or any field of the resolved
//! configuration (`model.arch`, `optim.step.rule`). An axis has the value the grid gives it, as
//! written; any other field its resolved value. A configuration object with a `kind` (a
//! transformation, a data set) or a `rule` (a step) stands for that name.
//!
//! A name no run of the grid has is an unknown field ([`known_field`]), reported with the nearest
//! name that exists.
//!
//! **A field a run does not have** (a linear network has no `model.transform`, a GD run no
//! `optim.batch`) is [`FieldValue::Absent`]: shown as `n/a` ([`ABSENT_TEXT`]), an empty cell in
//! CSV, `null` in JSON, and selected by a filter value `null` (or `n/a`). It is never a blank
//! label and never equal to a value the field takes.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value as Json;

use super::GridRun;

/// How a field a run does not have is shown in text (legends, tables, reports).
pub const ABSENT_TEXT: &str = "n/a";

/// The value a run takes on a field.
#[derive(Debug, Clone)]
pub enum FieldValue {
    /// The run has no such field (it does not apply to its architecture, method or data).
    Absent,
    /// A number, with its text as the grid writes it (`1e-05` stays `1e-5`, `40` stays `40`).
    Number(f64, String),
    Text(String),
    Bool(bool),
    /// A configuration object with a `kind` or `rule` (a transformation, a data set, a step):
    /// `name` is that kind or rule, `text` the object itself, which is the name alone when the
    /// object has no other field (`zou`) and its canonical JSON otherwise
    /// (`{"rule":"zou","scale":4}`: two steps of one rule stay two values). A filter value that
    /// is the name alone selects every object of that name.
    Named {
        name: String,
        text: String,
    },
    /// Anything else (a list, an object without a `kind` or `rule`), as canonical JSON text.
    Other(String),
}

impl FieldValue {
    /// The value of a JSON scalar or object, with the `kind`/`rule` rule applied.
    pub fn of_json(v: &Json) -> FieldValue {
        match v {
            Json::Null => FieldValue::Absent,
            Json::Bool(b) => FieldValue::Bool(*b),
            Json::Number(n) => {
                let value = n.as_f64().unwrap_or(f64::NAN);
                let text = if n.is_f64() { crate::number::float_text(value) } else { n.to_string() };
                FieldValue::Number(value, text)
            }
            Json::String(s) => FieldValue::Text(s.clone()),
            Json::Object(map) => match map.get("kind").or_else(|| map.get("rule")) {
                Some(Json::String(name)) => FieldValue::Named {
                    name: name.clone(),
                    text: if map.len() == 1 { name.clone() } else { crate::canonical::to_string(v) },
                },
                _ => FieldValue::Other(crate::canonical::to_string(v)),
            },
            Json::Array(_) => FieldValue::Other(crate::canonical::to_string(v)),
        }
    }

    /// A value as the user writes it in a filter or a `versus` test (YAML read as JSON): `null`
    /// and the text `n/a` stand for [`FieldValue::Absent`].
    pub fn wanted(v: &Json) -> FieldValue {
        match v {
            Json::String(s) if s == ABSENT_TEXT => FieldValue::Absent,
            other => FieldValue::of_json(other),
        }
    }

    /// Whether the value is one a user asked for (`want`, from [`FieldValue::wanted`]): equal, or
    /// a configuration object whose kind or rule is the name asked for.
    pub fn is(&self, want: &FieldValue) -> bool {
        match (self, want) {
            (FieldValue::Named { name, .. }, FieldValue::Text(t)) => name == t || self == want,
            _ => self == want,
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, FieldValue::Absent)
    }

    /// The number, if the value is one.
    pub fn number(&self) -> Option<f64> {
        match self {
            FieldValue::Number(v, _) => Some(*v),
            _ => None,
        }
    }

    /// The value as text: numbers as written, [`ABSENT_TEXT`] for an absent field.
    pub fn text(&self) -> &str {
        match self {
            FieldValue::Absent => ABSENT_TEXT,
            FieldValue::Number(_, t) | FieldValue::Text(t) | FieldValue::Other(t) => t,
            FieldValue::Named { text, .. } => text,
            FieldValue::Bool(true) => "true",
            FieldValue::Bool(false) => "false",
        }
    }

    /// The value in a CSV cell: an absent field is an empty cell (what CSV readers take as
    /// missing), everything else its text.
    pub fn csv(&self) -> &str {
        if self.is_absent() { "" } else { self.text() }
    }

    /// The value as JSON: `null` for an absent field.
    pub fn json(&self) -> Json {
        match self {
            FieldValue::Absent => Json::Null,
            FieldValue::Number(v, t) => t
                .parse::<i64>()
                .map(Json::from)
                .ok()
                .or_else(|| serde_json::Number::from_f64(*v).map(Json::Number))
                .unwrap_or(Json::Null),
            FieldValue::Text(t) | FieldValue::Other(t) | FieldValue::Named { text: t, .. } => Json::String(t.clone()),
            FieldValue::Bool(b) => Json::Bool(*b),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            FieldValue::Absent => 0,
            FieldValue::Bool(_) => 1,
            FieldValue::Number(..) => 2,
            FieldValue::Text(_) | FieldValue::Named { .. } => 3,
            FieldValue::Other(_) => 4,
        }
    }
}

/// Equality as values: numbers by value (`1e-5` = `0.00001`, `0.0` = `0`), text by text, absence
/// only with absence.
impl PartialEq for FieldValue {
    fn eq(&self, other: &FieldValue) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for FieldValue {}

impl PartialOrd for FieldValue {
    fn partial_cmp(&self, other: &FieldValue) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A total order (for keys): absent first, then booleans, numbers by value, texts.
impl Ord for FieldValue {
    fn cmp(&self, other: &FieldValue) -> Ordering {
        match (self, other) {
            // -0 and 0 are one value; NaN (never produced by a grid) sorts last.
            (FieldValue::Number(a, _), FieldValue::Number(b, _)) => (a + 0.0).total_cmp(&(b + 0.0)),
            (FieldValue::Bool(a), FieldValue::Bool(b)) => a.cmp(b),
            (
                FieldValue::Text(a) | FieldValue::Named { text: a, .. },
                FieldValue::Text(b) | FieldValue::Named { text: b, .. },
            )
            | (FieldValue::Other(a), FieldValue::Other(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl std::hash::Hash for FieldValue {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.rank().hash(state);
        match self {
            FieldValue::Number(v, _) => (v + 0.0).to_bits().hash(state),
            FieldValue::Bool(b) => b.hash(state),
            FieldValue::Text(t) | FieldValue::Other(t) | FieldValue::Named { text: t, .. } => t.hash(state),
            FieldValue::Absent => {}
        }
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// A dotted field path (`model.width`, `optim.step.rule`, `seed`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(String);

impl FieldPath {
    pub fn new(path: impl Into<String>) -> FieldPath {
        FieldPath(path.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value `run` takes on this field.
    pub fn value_of(&self, run: &GridRun) -> FieldValue {
        if let Some((_, v)) = run.params.iter().find(|(k, _)| *k == self.0) {
            return FieldValue::of_json(v);
        }
        config_value(run, &self.0)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The resolved configuration's value at `path` (not an axis of the grid).
fn config_value(run: &GridRun, path: &str) -> FieldValue {
    // Every field but the seed is the grid point's (shared by its seeds: no copy per run).
    let c = run.run.point_config();
    // The descriptive fields every table shows, read without serialising the configuration.
    match path {
        "model.arch" => return FieldValue::of_json(&serde_json::to_value(c.model.arch).unwrap_or(Json::Null)),
        "model.depth" => return integer(c.model.depth),
        "model.width" => return integer(c.model.width),
        "model.transform" => {
            return c.model.transform.as_ref().map_or(FieldValue::Absent, |t| FieldValue::Text(t.kind.name().into()));
        }
        "optim.method" => return FieldValue::of_json(&serde_json::to_value(c.optim.method).unwrap_or(Json::Null)),
        "optim.batch" => return c.optim.batch.map_or(FieldValue::Absent, integer),
        "optim.iters" => return integer(c.optim.iters),
        "seed" => return FieldValue::Number(run.run.seed() as f64, run.run.seed().to_string()),
        _ => {}
    }
    let config = run.run.canonical_json();
    path.split('.').try_fold(&config, |v, part| v.get(part)).map_or(FieldValue::Absent, FieldValue::of_json)
}

fn integer(v: usize) -> FieldValue {
    FieldValue::Number(v as f64, v.to_string())
}

/// Whether some run of `runs` has `field`; when none does, the rule broken: "unknown field `x`",
/// with the nearest field that exists ("did you mean `y`?") or, when none is near, the fields of
/// the same section.
pub fn known_field(runs: &[GridRun], field: &str) -> Result<(), String> {
    let path = FieldPath::new(field);
    if runs.iter().any(|r| !path.value_of(r).is_absent()) {
        return Ok(());
    }
    let names = field_names(runs);
    let field = field.escape_debug().to_string();
    let field = field.as_str();
    let nearest = names.iter().map(|n| (edit_distance(field, n), n)).min_by_key(|(d, _)| *d);
    match nearest {
        Some((d, name)) if d <= (field.chars().count() / 3).max(2) => {
            Err(format!("unknown field `{field}`; did you mean `{name}`?"))
        }
        _ => {
            let section = field.split('.').next().unwrap_or(field);
            let same: Vec<&String> =
                names.iter().filter(|n| n.split('.').next() == Some(section) && n.matches('.').count() == 1).collect();
            let (what, list): (String, Vec<&String>) = if same.is_empty() {
                ("the grid's fields".into(), names.iter().filter(|n| !n.contains('.')).collect())
            } else {
                (format!("the fields of `{section}`"), same)
            };
            let list: Vec<&str> = list.iter().map(|s| s.as_str()).collect();
            Err(format!("unknown field `{field}`: no run of the grid has it ({what}: {})", list.join(", ")))
        }
    }
}

/// Every field some run of `runs` has: its axes and every dotted path of its configuration.
fn field_names(runs: &[GridRun]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for run in runs {
        names.extend(run.params.iter().map(|(k, _)| k.clone()));
        paths(&run.run.canonical_json(), "", &mut names);
    }
    names
}

fn paths(v: &Json, prefix: &str, out: &mut BTreeSet<String>) {
    if let Json::Object(map) = v {
        for (k, inner) in map {
            let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            paths(inner, &path, out);
            out.insert(path);
        }
    }
}

/// The Levenshtein distance between `a` and `b`: the fewest insertions, deletions and
/// substitutions of characters that turn one into the other.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("model.transfrom", "model.transform"), 2);
        assert_eq!(edit_distance("model.dept", "model.depth"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("κ", "k"), 1, "characters, not bytes");
    }

    #[test]
    fn numbers_equal_by_value_and_absence_only_with_itself() {
        let a = FieldValue::of_json(&serde_json::json!(1e-5));
        let b = FieldValue::wanted(&serde_json::json!(0.00001));
        assert_eq!(a, b);
        assert_eq!(FieldValue::of_json(&serde_json::json!(0.0)), FieldValue::of_json(&serde_json::json!(-0.0)));
        assert_eq!(FieldValue::of_json(&serde_json::json!(2)), FieldValue::of_json(&serde_json::json!(2.0)));
        assert_ne!(FieldValue::Absent, FieldValue::Text(String::new()));
        assert_ne!(FieldValue::Absent, FieldValue::Text(ABSENT_TEXT.into()));
        assert_eq!(FieldValue::wanted(&serde_json::json!("n/a")), FieldValue::Absent);
        assert_eq!(FieldValue::wanted(&Json::Null), FieldValue::Absent);
    }

    #[test]
    fn objects_stand_for_their_kind_or_rule() {
        let of = |v| FieldValue::of_json(&v);
        assert_eq!(of(serde_json::json!({"kind": "gaussian"})).text(), "gaussian");
        // Other fields keep two objects of one rule apart, and the name alone selects both.
        let (one, four) =
            (of(serde_json::json!({"rule": "zou", "scale": 1})), of(serde_json::json!({"rule": "zou", "scale": 4})));
        assert_eq!(four.text(), r#"{"rule":"zou","scale":4}"#);
        assert_ne!(one, four);
        let zou = FieldValue::wanted(&serde_json::json!("zou"));
        assert!(one.is(&zou) && four.is(&zou) && !four.is(&FieldValue::wanted(&serde_json::json!("du_hu"))));
        assert!(four.is(&FieldValue::wanted(&serde_json::json!({"rule": "zou", "scale": 4}))) && !four.is(&one));
    }

    #[test]
    fn absence_is_shown_never_blank() {
        assert_eq!(FieldValue::Absent.text(), "n/a");
        assert_eq!(FieldValue::Absent.csv(), "");
        assert_eq!(FieldValue::Absent.json(), Json::Null);
    }
}
