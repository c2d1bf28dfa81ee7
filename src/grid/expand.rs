//! Grid expansion: every list in the run sections is an axis, every zip group one joint axis,
//! the seed indices the innermost axis; each point of the product is resolved into a run.
//! Points that resolve to the same configuration (a linear network under a list of ResNet
//! transformations) are kept once.
//!
//! A point (every axis but the seed) is resolved once; its runs, one per seed, share its
//! configuration and its grid values, and each id is hashed from the point's canonical text
//! split around the seed ([`ResolvedRun::with_seeds`]). A grid of 10⁶ runs takes about 70 bytes
//! per run beside one configuration per point.

use std::collections::HashSet;
use std::sync::Arc;

use serde_norway::{Mapping, Value};

use super::{Spec, SpecError, kind_of, set_path};
use crate::config::{ResolvedRun, RunConfig};
use crate::engine::footprint::check_fits;
use crate::error::ConfigError;

/// Most runs one grid may expand to.
const MAX_RUNS: usize = 1_000_000;

/// One run of a grid, with the values it takes on the grid's axes.
#[derive(Debug, Clone)]
pub struct GridRun {
    pub run: ResolvedRun,
    /// (dotted field path, value) for every axis of the grid, and `seed`.
    pub params: Params,
}

/// A grid value: (dotted field path, value).
pub type Param = (String, serde_json::Value);

/// The values a run takes on the grid's axes, then its `seed`: the axis values are shared by the
/// runs of one grid point, the seed entry by the runs of one seed index.
#[derive(Debug, Clone)]
pub struct Params {
    axes: Arc<[Param]>,
    seed: Arc<Param>,
}

impl Params {
    /// Every (field, value), the axes in grid order and then `seed`.
    pub fn iter(&self) -> impl Iterator<Item = &Param> {
        self.axes.iter().chain(std::iter::once(&*self.seed))
    }

    /// How many values (axes and the seed).
    pub fn len(&self) -> usize {
        self.axes.len() + 1
    }

    /// Never empty: the seed is always there.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl<'a> IntoIterator for &'a Params {
    type Item = &'a Param;
    type IntoIter = Box<dyn Iterator<Item = &'a Param> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// A list-valued field of the body, or a field of a zip group.
struct Axis {
    /// Dotted field path, e.g. `model.width`.
    path: String,
    /// Where the list is written, e.g. `model.width` or `zip[0].model.depth`.
    location: String,
    values: Vec<Value>,
}

/// Axes varied together (a single list, or one zip group).
struct AxisGroup {
    axes: Vec<Axis>,
}

impl AxisGroup {
    fn len(&self) -> usize {
        self.axes[0].values.len()
    }
}

impl Spec {
    /// The dotted paths of the grid's axes (in expansion order), then `seed`.
    pub fn axis_names(&self) -> Result<Vec<String>, SpecError> {
        let groups = self.axis_groups()?;
        Ok(groups.iter().flat_map(|g| g.axes.iter().map(|a| a.path.clone())).chain(["seed".to_string()]).collect())
    }

    fn axis_groups(&self) -> Result<Vec<AxisGroup>, SpecError> {
        let mut groups = Vec::new();
        collect_axes(&self.body, "", &mut groups).map_err(|(path, msg)| self.error_at(&path, &path, msg))?;
        for (g, fields) in self.zip.iter().enumerate() {
            let mut axes = Vec::new();
            for (path, values) in fields {
                let location = format!("zip[{g}].{path}");
                if groups.iter().any(|gr: &AxisGroup| gr.axes.iter().any(|a| a.path == *path)) {
                    return Err(self.error_at(
                        path,
                        &location,
                        "is listed both in a zip group and elsewhere in the grid",
                    ));
                }
                if lookup(&self.body, path).is_some() {
                    return Err(self.error_at(
                        path,
                        &location,
                        "is set in the body and in a zip group; give it in one place",
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    if contains_list(v) {
                        return Err(self.error_at(
                            path,
                            &format!("{location}[{i}]"),
                            "nested lists are not supported in a grid",
                        ));
                    }
                }
                axes.push(Axis { path: path.clone(), location, values: values.clone() });
            }
            groups.push(AxisGroup { axes });
        }
        Ok(groups)
    }

    /// Every run of the grid, resolved and validated, in expansion order (first axis slowest,
    /// seeds fastest), without duplicates.
    pub fn expand(&self) -> Result<Vec<GridRun>, SpecError> {
        let groups = self.axis_groups()?;
        let sizes: Vec<usize> = groups.iter().map(AxisGroup::len).collect();
        let points = sizes.iter().try_fold(1usize, |acc, &s| acc.checked_mul(s));
        let total =
            points.and_then(|p| p.checked_mul(self.seeds.len())).filter(|&t| t <= MAX_RUNS).ok_or_else(|| {
                let sizes: Vec<usize> = sizes.iter().copied().chain([self.seeds.len()]).collect();
                SpecError {
                    file: self.path.display().to_string(),
                    position: None,
                    field: None,
                    message: format!("the grid has more than {MAX_RUNS} runs ({sizes:?} values per axis); split it"),
                }
            })?;
        let points = points.unwrap_or(0);
        let first_seed = *self.seeds.first().ok_or_else(|| self.error_at("seeds", "seeds", "no seed"))?;
        // One `seed` entry per seed index, shared by the runs of every point.
        let seed_params: Vec<Arc<Param>> =
            self.seeds.iter().map(|&s| Arc::new(("seed".to_string(), serde_json::Value::from(s)))).collect();
        let mut runs = Vec::with_capacity(total);
        let mut seen = HashSet::new();
        let mut index = vec![0usize; sizes.len()];
        for _ in 0..points {
            let mut body = self.body.clone();
            let mut params = Vec::new();
            for (group, &i) in groups.iter().zip(&index) {
                for axis in &group.axes {
                    let parts: Vec<&str> = axis.path.split('.').collect();
                    set_path(&mut body, &parts, axis.values[i].clone())
                        .map_err(|m| self.error_at(&axis.path, &axis.location, m))?;
                    params.push((axis.path.clone(), yaml_to_json(&axis.values[i])));
                }
            }
            let point = self.resolve_point(body, first_seed, &groups, &index).map_err(|mut e| {
                // Name the run: the grid values that produced the bad point.
                if !params.is_empty() || self.seeds.len() > 1 {
                    let values: Vec<String> = params
                        .iter()
                        .map(|(k, v)| format!("{k}={}", crate::canonical::to_string(v)))
                        .chain([format!("seed={first_seed}")])
                        .collect();
                    e.message = format!("{} (run {})", e.message, values.join(", "));
                }
                e
            })?;
            // Advance the mixed-radix counter, last axis fastest.
            for pos in (0..sizes.len()).rev() {
                index[pos] += 1;
                if index[pos] < sizes[pos] {
                    break;
                }
                index[pos] = 0;
            }
            // Two points with one configuration have the same runs for every seed: keep the first.
            if !seen.insert(point.run_id()) {
                continue;
            }
            // A field that does not apply to this run (a transform of a linear network) was
            // dropped by resolution: it is not one of the run's parameters either.
            let canonical = point.canonical_json();
            params.retain(|(path, _)| path.split('.').try_fold(&canonical, |v, p| v.get(p)).is_some());
            let axes: Arc<[Param]> = params.into();
            for (run, seed) in point.with_seeds(&self.seeds).zip(&seed_params) {
                runs.push(GridRun { run, params: Params { axes: Arc::clone(&axes), seed: Arc::clone(seed) } });
            }
        }
        Ok(runs)
    }

    /// Deserialises and resolves one grid point; errors point at the list element that produced
    /// the bad value when the field is an axis.
    fn resolve_point(
        &self,
        mut body: Mapping,
        seed: u64,
        groups: &[AxisGroup],
        index: &[usize],
    ) -> Result<ResolvedRun, SpecError> {
        body.insert(Value::String("master_seed".into()), Value::from(self.master_seed));
        body.insert(Value::String("seed".into()), Value::from(seed));
        let locate = |field: &str| -> String {
            for (group, &i) in groups.iter().zip(index) {
                for axis in &group.axes {
                    if field == axis.path || field.starts_with(&format!("{}.", axis.path)) {
                        return format!("{}[{i}]", axis.location);
                    }
                }
            }
            field.to_string()
        };
        let config: RunConfig = serde_path_to_error::deserialize(Value::Mapping(body)).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { String::new() } else { path };
            let message = e.into_inner().to_string();
            let (field, message) = refine_unknown_field(field, message);
            self.error_at(&field, &locate(&field), message)
        })?;
        let run = config.resolve(&self.base).and_then(|run| check_fits(&run).map(|()| run));
        run.map_err(|ConfigError { field, rule }| self.error_at(&field, &locate(&field), rule))
    }
}

/// serde reports an unknown key at the path of its parent; move it onto the key itself.
fn refine_unknown_field(field: String, message: String) -> (String, String) {
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some(key) = rest.split('`').next()
    {
        let full = if field.is_empty() {
            key.to_string()
        } else if field.ends_with(key) {
            field.clone()
        } else {
            format!("{field}.{key}")
        };
        return (full, message);
    }
    (field, message)
}

/// Collects every list-valued entry of a mapping (recursively) as a one-axis group.
fn collect_axes(map: &Mapping, prefix: &str, groups: &mut Vec<AxisGroup>) -> Result<(), (String, String)> {
    for (key, value) in map {
        let key = key.as_str().map(str::to_string).unwrap_or_else(|| format!("{key:?}"));
        let path = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
        match value {
            Value::Mapping(inner) => collect_axes(inner, &path, groups)?,
            Value::Sequence(items) => {
                if items.is_empty() {
                    return Err((path, "empty list: a grid axis needs at least one value".into()));
                }
                if let Some(i) = items.iter().position(contains_list) {
                    return Err((format!("{path}[{i}]"), "nested lists are not supported in a grid".into()));
                }
                groups.push(AxisGroup { axes: vec![Axis { location: path.clone(), path, values: items.clone() }] });
            }
            _ => {}
        }
    }
    Ok(())
}

fn contains_list(v: &Value) -> bool {
    match v {
        Value::Sequence(_) => true,
        Value::Mapping(m) => m.values().any(contains_list),
        _ => false,
    }
}

fn lookup<'a>(map: &'a Mapping, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = map.get(parts.next()?)?;
    for p in parts {
        cur = match cur {
            Value::Mapping(m) => m.get(p)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// A YAML scalar or mapping as JSON (for the parameter columns of exports).
pub(crate) fn yaml_to_json(v: &Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_else(|_| serde_json::Value::String(kind_of(v).into()))
}
