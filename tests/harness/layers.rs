//! The layers of the library go one way (docs/ARCHITECTURE.md): every `crate::…` path in a
//! module names a module of its own layer or of a lower one, the outputs never name each other,
//! and modules of one layer import each other without a circle.
//!
//! Read from the source text: every `crate::<module>` (in `use` lines, paths in code and doc
//! links alike) counts, so a layer cannot be crossed even in a comment's link.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers from the bottom up, each with its top-level modules (`cluster::slurm` writes
/// scripts: an output, while the rest of `cluster` is harness).
const LAYERS: [(&str, &[&str]); 6] = [
    ("core", &["error", "fileio", "canonical", "json_float", "halt", "escape", "number", "shell"]),
    ("inputs", &["blas", "provenance", "matrix_file", "config", "rng", "linalg", "random", "data"]),
    ("science", &["problem", "model", "engine", "optim", "theory", "train"]),
    ("harness", &["grid", "experiment", "runner", "store", "cluster"]),
    ("measures", &["measure"]),
    ("outputs", &["plot", "check", "table", "report", "export", "cluster::slurm"]),
];

/// The module a source file belongs to: `src/check/cells.rs` → `check`, `src/cluster/slurm.rs` →
/// `cluster::slurm`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string()).collect();
    if parts.len() >= 2 && parts[0] == "cluster" && parts[1] == "slurm" {
        return "cluster::slurm".into();
    }
    parts[0].clone()
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

/// Every module a file's text names as `crate::<module>` (with `cluster::slurm` told apart).
fn imports(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        // `linres::…` in doc tests and `crate::` inside another identifier do not count.
        if text[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if name.is_empty() {
            continue;
        }
        if name == "cluster" && rest["cluster".len()..].starts_with("::slurm") {
            out.insert("cluster::slurm".into());
        } else {
            out.insert(name);
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// module → the modules it names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(&src, &file);
        if module == "main" || module == "cmd" || module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(imports(&text).into_iter().filter(|m| *m != module));
    }
    graph
}

#[test]
fn every_module_belongs_to_a_layer() {
    let unknown: Vec<String> = graph().into_keys().filter(|m| layer_of(m).is_none()).collect();
    assert!(unknown.is_empty(), "modules in no layer of tests/layers.rs: {unknown:?} (add them to LAYERS)");
}

#[test]
fn imports_never_go_up_and_outputs_never_import_each_other() {
    let mut wrong = Vec::new();
    for (module, names) in graph() {
        let Some(own) = layer_of(&module) else { continue };
        for name in names {
            let Some(theirs) = layer_of(&name) else { continue };
            let outputs = LAYERS.len() - 1;
            if theirs > own || (own == outputs && theirs == outputs) {
                wrong.push(format!("{module} ({}) imports {name} ({})", LAYERS[own].0, LAYERS[theirs].0));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers:\n{}", wrong.join("\n"));
}

#[test]
fn no_import_circle() {
    let graph = graph();
    // Depth-first search for a back edge.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            let mut cycle = path[i..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for next in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("import circle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_reader_sees_paths_in_use_lines_code_and_links() {
    let text = "use crate::store::{Lookup, Record};\nlet x = crate::plot::data::spread(v);\n/// [`crate::cluster::slurm`]\nlinres::check::x; mycrate::table";
    let found: Vec<String> = imports(text).into_iter().collect();
    assert_eq!(found, ["cluster::slurm", "plot", "store"]);
}
