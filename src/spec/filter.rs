//! `--filter key=value[,value…]`: select runs of a grid by a field of their configuration.
//!
//! The key is a grid axis (`model.width`, `seed`, `zip` fields) or any dotted path of the resolved
//! configuration (`model.arch`, `optim.step.rule`). Values are read as YAML and compared as
//! numbers when both sides are numbers; a transformation matches by its kind name. Several
//! filters must all match; the values of one filter are alternatives.

use serde_json::Value as Json;

use super::{GridRun, SpecError};

/// One `key=value[,value…]` filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub key: String,
    pub values: Vec<Json>,
}

impl Filter {
    /// The filters of a YAML `filter:` mapping (figures, checks): each key's value, or a list of
    /// alternatives.
    pub fn from_map(map: &std::collections::BTreeMap<String, Json>) -> Vec<Filter> {
        map.iter()
            .map(|(key, v)| Filter {
                key: key.clone(),
                values: match v {
                    Json::Array(items) => items.clone(),
                    other => vec![other.clone()],
                },
            })
            .collect()
    }

    /// Parses `key=value[,value…]`.
    pub fn parse(text: &str) -> Result<Filter, SpecError> {
        let err = |m: String| SpecError { file: "--filter".into(), position: None, field: None, message: m };
        let (key, raw) = text.split_once('=').ok_or_else(|| err(format!("`{text}` is not of the form key=value")))?;
        if key.is_empty() || raw.is_empty() {
            return Err(err(format!("`{text}` is not of the form key=value")));
        }
        let values = raw
            .split(',')
            .map(|v| {
                serde_norway::from_str::<serde_norway::Value>(v)
                    .map(|y| serde_json::to_value(y).unwrap_or(Json::String(v.to_string())))
                    .map_err(|e| err(format!("`{v}` is not a value: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Filter { key: key.to_string(), values })
    }

    /// The value of this filter's field in `run`, if the run has the field.
    fn field_of(&self, run: &GridRun) -> Option<Json> {
        if let Some((_, v)) = run.params.iter().find(|(k, _)| *k == self.key) {
            return Some(v.clone());
        }
        let config = run.run.canonical_json();
        self.key.split('.').try_fold(&config, |v, part| v.get(part)).cloned()
    }

    /// Whether `run` has this field with one of the filter's values.
    pub fn matches(&self, run: &GridRun) -> bool {
        let Some(field) = self.field_of(run) else { return false };
        self.values.iter().any(|want| same(&field, want))
    }
}

fn same(field: &Json, want: &Json) -> bool {
    match (field, want) {
        (Json::Number(a), Json::Number(b)) => a.as_f64() == b.as_f64(),
        (Json::Object(map), Json::String(_)) => map.get("kind").or_else(|| map.get("rule")).is_some_and(|k| k == want),
        _ => field == want,
    }
}

/// The runs that pass every filter. A filter whose key no run has is an error (a typo would
/// otherwise select nothing silently).
pub fn select(runs: Vec<GridRun>, filters: &[Filter]) -> Result<Vec<GridRun>, SpecError> {
    for f in filters {
        if !runs.iter().any(|r| f.field_of(r).is_some()) {
            return Err(SpecError {
                file: "--filter".into(),
                position: None,
                field: Some(f.key.clone()),
                message: "no run of this grid has this field".into(),
            });
        }
    }
    Ok(runs.into_iter().filter(|r| filters.iter().all(|f| f.matches(r))).collect())
}
