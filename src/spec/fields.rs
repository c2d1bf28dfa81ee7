//! The fields a run of a grid has, for every place that names one: `--filter` on the command line,
//! the `filter` of figures and checks, a figure's `series`, `facets` and `x`, and the fields a check
//! compares along. A field is a grid axis (a list's path, a `zip` field, `seed`) or a dotted path of
//! a run's resolved configuration (`model.arch`, `optim.step.rule`). A name no run of the grid has is
//! an unknown field, reported with the nearest name that exists.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::GridRun;

/// The value of `field` in `run`: its grid value when the field is an axis of the grid, otherwise
/// the resolved configuration's value at that dotted path; `None` when the run has no such field.
pub fn field_value(run: &GridRun, field: &str) -> Option<Json> {
    if let Some((_, v)) = run.params.iter().find(|(k, _)| k == field) {
        return Some(v.clone());
    }
    let config = run.run.canonical_json();
    field.split('.').try_fold(&config, |v, part| v.get(part)).cloned()
}

/// Whether some run of `runs` has `field`; when none does, the rule broken: "unknown field `x`",
/// with the nearest field that exists ("did you mean `y`?") or, when none is near, the fields of
/// the same section.
pub fn known_field(runs: &[GridRun], field: &str) -> Result<(), String> {
    if runs.iter().any(|r| field_value(r, field).is_some()) {
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
    use super::edit_distance;

    #[test]
    fn the_edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("model.transfrom", "model.transform"), 2);
        assert_eq!(edit_distance("model.dept", "model.depth"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("κ", "k"), 1, "characters, not bytes");
    }
}
