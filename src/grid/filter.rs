//! `--filter key=value[,value…]`: select runs of a grid by a field of their configuration.
//!
//! The key is a grid axis (`model.width`, `seed`, `zip` fields) or any dotted path of the resolved
//! configuration (`model.arch`, `optim.step.rule`). Values are read as YAML and compared as the
//! grid's values ([`FieldValue`]): numbers as numbers, a transformation by its kind name, and
//! `null` (or `n/a`) for a field a run does not have, so `model.transform: [gaussian, null]`
//! keeps the linear networks beside the Gaussian ResNets. Several filters must all match; the
//! values of one filter are alternatives.

use serde_json::Value as Json;

use super::{FieldPath, FieldValue, GridRun, SpecError, known_field};

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

    /// Whether `run`'s value of this field is one of the filter's values, compared as values
    /// ([`FieldValue`]: numbers as numbers, so `0.0` is `0`; a transformation or step by its kind
    /// or rule name; `null` or `n/a` for a field the run does not have).
    pub fn matches(&self, run: &GridRun) -> bool {
        let field = FieldPath::new(self.key.as_str()).value_of(run);
        self.values.iter().any(|want| FieldValue::wanted(want) == field)
    }
}

/// The runs that pass every filter. A filter whose key no run has is an unknown field, named with
/// the nearest field that exists (a typo would otherwise select nothing silently).
pub fn select(runs: Vec<GridRun>, filters: &[Filter]) -> Result<Vec<GridRun>, SpecError> {
    for f in filters {
        known_field(&runs, &f.key).map_err(|message| SpecError {
            file: "--filter".into(),
            position: None,
            field: Some(f.key.escape_debug().to_string()),
            message,
        })?;
    }
    Ok(runs.into_iter().filter(|r| filters.iter().all(|f| f.matches(r))).collect())
}
