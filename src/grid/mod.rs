//! Experiment files: a YAML document that expands into a grid of runs.
//!
//! ```yaml
//! name: fig1-transforms          # results go to results/<name>/
//! master_seed: 20200302
//! seeds: 5                       # seed indices 0..4 (or an explicit list)
//! data:  { kind: paper, d: 10, n: 1000 }
//! model: { arch: resnet, depth: 10, width: [40, 200], transform: [identity, gaussian] }
//! optim: { method: gd, iters: 5000, step: { rule: zou, scale: 1.0 } }
//! zip:                           # lists in one group vary together
//!   - { model.depth: [2, 8], optim.iters: [100, 400] }
//! ```
//!
//! Any scalar of the run sections (`data`, `model`, `optim`, `engine`, `log`) may be a list; the grid is the cartesian product of all lists, of the zip groups and of the seeds. Errors
//! carry the file, line, column and field ([`SpecError`]).

pub mod check;
pub mod expand;
pub mod field;
pub mod figure;
pub mod filter;
pub mod locate;
pub mod quantity;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};
use thiserror::Error;

use crate::config::{DataKind, StepKind, TheoryConstants};

pub use expand::GridRun;
pub use field::{FieldPath, FieldValue, known_field};
pub use filter::{Filter, select};
use locate::{Locations, Position};

/// Top-level keys of an experiment file.
const TOP_KEYS: [&str; 12] =
    ["name", "master_seed", "seeds", "data", "model", "optim", "engine", "log", "theory", "zip", "figures", "checks"];
/// Largest experiment file read (a grid file is a few kilobytes).
const MAX_SPEC_BYTES: u64 = 16 << 20;
/// Longest experiment name: it is a directory name, and file systems allow 255 bytes.
const MAX_NAME_BYTES: usize = 255;
/// Most seeds (and, in `expand`, most runs) a grid may have.
const MAX_SEEDS: u64 = 1_000_000;

/// The keys that describe one run.
pub const RUN_KEYS: [&str; 5] = ["data", "model", "optim", "engine", "log"];

/// A problem in an experiment file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct SpecError {
    /// The file (or `--set` for a command-line override).
    pub file: String,
    pub position: Option<Position>,
    /// Dotted path of the field.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        // An empty path (`--set =1`) names no field.
        if let Some(field) = self.field.as_deref().filter(|f| !f.is_empty()) {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Whether `text` may be displayed (a figure's title and labels, a check's claim): the rule broken
/// when it holds a control character (C0, DEL, C1), a line or paragraph separator or a
/// bidirectional control, which would break or reorder the line of a table, a legend or a page.
pub fn displayable(text: &str) -> Result<(), String> {
    let layout = |c: char| matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    match text.chars().find(|&c| c.is_control() || layout(c)) {
        Some(c) => Err(format!(
            "contains the control character U+{:04X}; displayed text (titles, labels, claims) may not hold \
             control characters",
            c as u32
        )),
        None => Ok(()),
    }
}

/// One zip group: (dotted field path, values) pairs whose lists have equal lengths.
type ZipGroup = Vec<(String, Vec<Value>)>;

/// A parsed experiment file.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Experiment name; results go to `results/<name>/`.
    pub name: String,
    /// The file the spec came from.
    pub path: PathBuf,
    pub master_seed: u64,
    /// Seed indices.
    pub seeds: Vec<u64>,
    /// The run sections, with lists still in place.
    body: Mapping,
    /// `zip` groups: lists of equal length varied together.
    zip: Vec<ZipGroup>,
    /// The raw `figures` section (read by the plotting stage).
    pub figures: Value,
    /// The raw `checks` section (read by the checks).
    pub checks: Value,
    /// The theorems' open constants and the accuracy target, applied when results are read.
    pub theory: TheoryConstants,
    locations: Locations,
    /// Field paths set by `--set` overrides (errors in them point at the flag, not the file).
    overridden: Vec<String>,
    /// Directory that relative file paths in the spec are taken from.
    base: PathBuf,
}

impl Spec {
    /// Reads and parses an experiment file.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Spec, SpecError> {
        let error =
            |message: String| SpecError { file: path.display().to_string(), position: None, field: None, message };
        let bytes = crate::fileio::read_bounded(path, MAX_SPEC_BYTES)
            .map_err(|e| error(format!("cannot read the experiment file: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| error(format!("not UTF-8 text: {e}")))?;
        Spec::parse(&text, path, overrides)
    }

    /// Parses `text` (the contents of `path`), then applies `overrides` (`key.path=yaml value`).
    pub fn parse(text: &str, path: &Path, overrides: &[String]) -> Result<Spec, SpecError> {
        // A byte-order mark (some Windows editors write one) is not part of the YAML.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let file = path.display().to_string();
        let locations = Locations::of(text);
        let error = |field: Option<&str>, message: String| SpecError {
            file: file.clone(),
            position: field.and_then(|f| locations.find(f)),
            field: field.map(str::to_string),
            message,
        };
        let doc: Value = serde_norway::from_str(text).map_err(|e| SpecError {
            file: file.clone(),
            position: e.location().map(|l| Position { line: l.line(), column: l.column() }),
            field: None,
            message: format!("not valid YAML: {e}"),
        })?;
        if let Some(tagged) = first_tag(&doc, "") {
            return Err(error(
                Some(&tagged.0),
                format!(
                    "YAML tags such as `{}` are not supported: write plain values (kinds are `kind:` fields)",
                    tagged.1
                ),
            ));
        }
        let Value::Mapping(mut doc) = doc else {
            return Err(error(None, "an experiment file is a YAML mapping (name, master_seed, data, model, …)".into()));
        };
        for o in overrides {
            apply_override(&mut doc, o)?;
        }
        for key in doc.keys() {
            let name = key_text(key);
            if !TOP_KEYS.contains(&name.as_str()) {
                return Err(error(
                    Some(&name),
                    format!("unknown key `{}`; expected one of {}", key_text(key), TOP_KEYS.join(", ")),
                ));
            }
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("experiment").to_string();
        let name = match doc.get("name") {
            None => stem,
            Some(Value::String(s)) => s.clone(),
            Some(other) => return Err(error(Some("name"), format!("must be a string, got {}", kind_of(other)))),
        };
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            || name.starts_with('.')
        {
            return Err(error(
                Some("name"),
                format!("`{name}` must be a non-empty directory name of letters, digits, `-`, `_` and `.`"),
            ));
        }
        if name.len() > MAX_NAME_BYTES {
            return Err(error(
                Some("name"),
                format!("is {} bytes long; a directory name has at most {MAX_NAME_BYTES} bytes", name.len()),
            ));
        }
        let master_seed = match doc.get("master_seed") {
            None => 0,
            Some(v) => v.as_u64().ok_or_else(|| {
                error(Some("master_seed"), format!("must be a non-negative integer, got {}", kind_of(v)))
            })?,
        };
        let seeds = parse_seeds(doc.get("seeds")).map_err(|(f, m)| error(Some(&f), m))?;
        let zip = parse_zip(doc.get("zip")).map_err(|(f, m)| error(Some(&f), m))?;
        let figures = doc.get("figures").cloned().unwrap_or(Value::Null);
        let checks = doc.get("checks").cloned().unwrap_or(Value::Null);
        let theory = parse_theory(doc.get("theory")).map_err(|(f, m)| {
            let from_flag = overrides.iter().any(|o| o.starts_with(&format!("{f}=")) || o.starts_with("theory="));
            if from_flag {
                SpecError { file: "--set".into(), position: None, field: Some(f), message: m }
            } else {
                error(Some(&f), m)
            }
        })?;
        let mut body = Mapping::new();
        for key in RUN_KEYS {
            if let Some(v) = doc.get(key) {
                body.insert(Value::String(key.into()), v.clone());
            }
        }
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let overridden = overrides.iter().filter_map(|o| o.split_once('=')).map(|(p, _)| p.to_string()).collect();
        Ok(Spec {
            name,
            path: path.to_path_buf(),
            master_seed,
            seeds,
            body,
            zip,
            figures,
            checks,
            theory,
            locations,
            overridden,
            base,
        })
    }

    /// The fields that vary together with `field` in a `zip` group (empty when it is in none).
    pub fn zip_partners(&self, field: &str) -> Vec<String> {
        self.zip
            .iter()
            .find(|g| g.iter().any(|(f, _)| f == field))
            .map(|g| g.iter().map(|(f, _)| f.clone()).filter(|f| f != field).collect())
            .unwrap_or_default()
    }

    /// The directory relative paths in this spec are resolved against.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// An error in the `figures` section at `path` (e.g. `figures[0].series`).
    pub(crate) fn figure_error(&self, path: &str, message: impl Into<String>) -> SpecError {
        self.section_error(path, message)
    }

    /// An error in a section that is not part of a run (`figures`, `checks`) at `path`, e.g.
    /// `checks[2].test`.
    pub(crate) fn section_error(&self, path: &str, message: impl Into<String>) -> SpecError {
        SpecError {
            file: self.path.display().to_string(),
            position: self.locations.find(path),
            field: Some(path.to_string()),
            message: message.into(),
        }
    }

    fn error_at(&self, field: &str, location_path: &str, message: impl Into<String>) -> SpecError {
        let field_name = (!field.is_empty()).then(|| field.to_string());
        let from_flag = self.overridden.iter().any(|o| field == o || field.starts_with(&format!("{o}.")));
        if from_flag {
            return SpecError { file: "--set".into(), position: None, field: field_name, message: message.into() };
        }
        SpecError {
            file: self.path.display().to_string(),
            position: field_name.as_ref().and_then(|_| self.locations.find(location_path)),
            field: field_name,
            message: message.into(),
        }
    }
}

fn key_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_norway::to_string(other).unwrap_or_default().trim().to_string(),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// The dotted path and tag of the first tagged value (`!custom x`) in a document.
fn first_tag(v: &Value, path: &str) -> Option<(String, String)> {
    let join = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match v {
        Value::Tagged(t) => Some((path.to_string(), t.tag.to_string())),
        Value::Mapping(m) => m.iter().find_map(|(k, v)| first_tag(v, &join(&key_text(k)))),
        Value::Sequence(items) => items.iter().enumerate().find_map(|(i, v)| first_tag(v, &format!("{path}[{i}]"))),
        _ => None,
    }
}

/// The `theory:` section: one value per constant (they apply to every run of the experiment).
fn parse_theory(v: Option<&Value>) -> Result<TheoryConstants, (String, String)> {
    let Some(v) = v else { return Ok(TheoryConstants::default()) };
    if let Value::Mapping(m) = v
        && let Some((key, _)) = m.iter().find(|(_, v)| matches!(v, Value::Sequence(_)))
    {
        return Err((
            format!("theory.{}", key_text(key)),
            "the theory constants apply to the whole experiment (they are used when results are read, \
             not by training): give one value, not a list"
                .into(),
        ));
    }
    let constants: TheoryConstants = serde_path_to_error::deserialize(v.clone()).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "theory".to_string() } else { format!("theory.{path}") };
        let message = e.into_inner().to_string();
        match message.strip_prefix("unknown field `").and_then(|r| r.split('`').next()) {
            Some(key) => (format!("theory.{key}"), message),
            None => (field, message),
        }
    })?;
    constants.check().map_err(|e| (e.field, e.rule))?;
    Ok(constants)
}

/// `seeds: N` (indices 0..N) or `seeds: [i, j, …]` (distinct); default 1.
fn parse_seeds(v: Option<&Value>) -> Result<Vec<u64>, (String, String)> {
    let err = |m: String| ("seeds".to_string(), m);
    match v {
        None => Ok(vec![0]),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(count) if (1..=MAX_SEEDS).contains(&count) => Ok((0..count).collect()),
            _ => Err(err(format!("a seed count must be an integer from 1 to {MAX_SEEDS}, got {n}"))),
        },
        Some(Value::Sequence(items)) => {
            if items.is_empty() {
                return Err(err("empty list: give at least one seed index".into()));
            }
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let s = item.as_u64().ok_or_else(|| {
                    (format!("seeds[{i}]"), format!("a seed index is a non-negative integer, got {}", kind_of(item)))
                })?;
                if out.contains(&s) {
                    return Err((format!("seeds[{i}]"), format!("seed index {s} is listed twice")));
                }
                out.push(s);
            }
            Ok(out)
        }
        Some(other) => Err(err(format!("must be a count or a list of seed indices, got {}", kind_of(other)))),
    }
}

/// `zip: [{path: [values…], path: [values…]}, …]`, lists of equal length within a group.
fn parse_zip(v: Option<&Value>) -> Result<Vec<ZipGroup>, (String, String)> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let Value::Sequence(groups) = v else {
        return Err((
            "zip".into(),
            format!("must be a list of groups (mappings from field paths to lists), got {}", kind_of(v)),
        ));
    };
    let mut out = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let Value::Mapping(map) = group else {
            return Err((
                format!("zip[{g}]"),
                format!("a zip group maps field paths to lists, got {}", kind_of(group)),
            ));
        };
        let mut fields = Vec::new();
        let mut len = None;
        for (key, values) in map {
            let path = key_text(key);
            let field = format!("zip[{g}].{path}");
            if !RUN_KEYS.iter().any(|k| path.starts_with(&format!("{k}.")) || path == *k) {
                return Err((field, format!("`{path}` is not a field of a run section ({})", RUN_KEYS.join(", "))));
            }
            let Value::Sequence(items) = values else {
                return Err((field, format!("a zip entry is a list of values, got {}", kind_of(values))));
            };
            if items.is_empty() {
                return Err((field, "empty list: a zip entry needs at least one value".into()));
            }
            match len {
                None => len = Some(items.len()),
                Some(l) if l != items.len() => {
                    return Err((
                        field,
                        format!(
                            "has {} values but the group's first entry has {l}; zipped lists must have equal lengths",
                            items.len()
                        ),
                    ));
                }
                _ => {}
            }
            fields.push((path, items.clone()));
        }
        if fields.is_empty() {
            return Err((format!("zip[{g}]"), "an empty zip group".into()));
        }
        out.push(fields);
    }
    Ok(out)
}

/// Applies `key.path=value` (the value read as YAML) to the top-level document.
fn apply_override(doc: &mut Mapping, text: &str) -> Result<(), SpecError> {
    let err =
        |field: Option<String>, message: String| SpecError { file: "--set".into(), position: None, field, message };
    let Some((path, raw)) = text.split_once('=') else {
        return Err(err(None, format!("`{text}` is not of the form key.path=value")));
    };
    let value: Value =
        serde_norway::from_str(raw).map_err(|e| err(Some(path.into()), format!("`{raw}` is not a YAML value: {e}")))?;
    if let Some((_, tag)) = first_tag(&value, "") {
        return Err(err(Some(path.into()), format!("YAML tags such as `{tag}` are not supported: write plain values")));
    }
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(err(
            Some(path.into()),
            format!("`{text}`: the field path has an empty component (write key.path=value)"),
        ));
    }
    drop_inapplicable(doc, &parts, &value);
    set_path(doc, &parts, value).map_err(|m| err(Some(path.into()), m))
}

/// The sibling fields a selector's value takes (`None` for a value that is not a known kind).
type FieldsOf = fn(&Value) -> Option<&'static [&'static str]>;

/// The fields of a run whose value decides which of their sibling fields apply, with the siblings
/// each value takes (e.g. `data.kind: file` takes `x`, `y`, `standardize`).
const SELECTORS: [(&str, FieldsOf); 2] = [
    ("data.kind", |v| serde_norway::from_value::<DataKind>(v.clone()).ok().map(DataKind::fields)),
    ("optim.step.rule", |v| serde_norway::from_value::<StepKind>(v.clone()).ok().map(StepKind::fields)),
];

/// Before `--set` changes a selector (`data.kind`, `optim.step.rule`) to another value, removes
/// the sibling fields the new value does not take, so that `--set data.kind=file` does not leave
/// the `d` and `n` of the default data behind. Fields the new value takes are kept.
fn drop_inapplicable(doc: &mut Mapping, parts: &[&str], new: &Value) {
    let path = parts.join(".");
    let Some((_, fields_of)) = SELECTORS.iter().find(|(p, _)| *p == path) else { return };
    let Some(keep) = fields_of(new) else { return };
    let (key, parents) = parts.split_last().expect("a non-empty path");
    let mut map = doc;
    for p in parents {
        match map.get_mut(*p) {
            Some(Value::Mapping(inner)) => map = inner,
            _ => return,
        }
    }
    if map.get(*key).is_none_or(|old| old == new) {
        return;
    }
    map.retain(|k, _| k.as_str().is_some_and(|k| k == *key || keep.contains(&k)));
}

/// Sets `parts` (a dotted path) in a mapping, creating intermediate mappings.
pub(crate) fn set_path(map: &mut Mapping, parts: &[&str], value: Value) -> Result<(), String> {
    let (first, rest) = parts.split_first().expect("a non-empty path");
    if rest.is_empty() {
        map.insert(Value::String((*first).into()), value);
        return Ok(());
    }
    let entry = map.entry(Value::String((*first).into())).or_insert_with(|| Value::Mapping(Mapping::new()));
    match entry {
        Value::Mapping(inner) => set_path(inner, rest, value),
        Value::String(s) if *first == "transform" => {
            // The shorthand `transform: gaussian` becomes the map it abbreviates.
            let mut inner = Mapping::new();
            inner.insert(Value::String("kind".into()), Value::String(s.clone()));
            set_path(&mut inner, rest, value)?;
            *entry = Value::Mapping(inner);
            Ok(())
        }
        other => Err(format!("`{first}` holds {}, not a mapping", kind_of(other))),
    }
}
