//! `linres export --npy DIR`: a run's inputs as numpy files, so anyone can re-check it.
//!
//! Files: `X.npy` (n×d), `Y.npy` (n×k); for a ResNet `A.npy` (m×d), `B.npy` (k×m) and, with a
//! Gaussian hidden initialisation, `W1.npy` … `WL.npy` (m×m); for a linear network `W1.npy` …
//! `WL.npy` (the initial weights, unscaled: f(x) = α·W_L⋯W_1·x). A ResNet whose transformations
//! were drawn as a Gram matrix only (`sampling: gram`) has no A or B: `G.npy` ((d+k)×(d+k),
//! G = [A, Bᵀ]ᵀ[A, Bᵀ]) takes their place. `meta.json` holds the model,
//! depth, width, α, the step size actually used, the optimiser, iterations and seeds.

use std::fs;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use ndarray_npy::WriteNpyExt;
use serde_json::json;
use thiserror::Error;

use crate::config::ResolvedRun;
use crate::error::{DataError, RunError};
use crate::model::{Hidden, Network};
use crate::store::atomic;
use crate::train::Setup;

/// Why the inputs were not exported.
#[derive(Debug, Error)]
pub enum ExportError {
    /// A file of the export is already there: nothing was written.
    #[error(
        "{0}: already exists and was not written by this export; refusing to overwrite it (nothing was written; \
         --force replaces it)"
    )]
    Exists(PathBuf),
    #[error(transparent)]
    Run(#[from] RunError),
}

fn npy_bytes(name: &str, m: &Array2<f64>) -> Result<Vec<u8>, RunError> {
    let mut bytes = Vec::new();
    m.as_standard_layout()
        .write_npy(&mut bytes)
        .map_err(|e| RunError::Data(DataError::Format { path: name.into(), message: e.to_string() }))?;
    Ok(bytes)
}

/// Writes the inputs of `run` into `dir` (created if needed); returns the file names written.
/// Without `force`, no file is replaced: when any of the files is already in `dir` (or appears
/// there while they are written) the export is refused ([`ExportError::Exists`]) and leaves `dir`
/// as it was. Each file is written atomically.
pub fn export_inputs(run: &ResolvedRun, dir: &Path, force: bool) -> Result<Vec<String>, ExportError> {
    fs::create_dir_all(dir).map_err(|source| RunError::from(DataError::Write { path: dir.to_path_buf(), source }))?;
    // One set-up serves both the files and the step size (the theory consumes a copy).
    let setup = Setup::new(run)?;
    let theory = setup.clone().initial_theory(run)?;
    let (x, y) = (setup.problem.x.t().to_owned(), setup.problem.y.t().to_owned());
    let mut matrices: Vec<(String, &Array2<f64>)> = vec![("X.npy".into(), &x), ("Y.npy".into(), &y)];
    let alpha = match &setup.network {
        Network::Resnet { transforms, gram, hidden } => {
            match transforms {
                Some(t) => matrices.extend([("A.npy".into(), &t.a), ("B.npy".into(), &t.b)]),
                None => matrices.push(("G.npy".into(), &gram.g)),
            }
            if let Hidden::Weights(ws) = hidden {
                matrices.extend(ws.iter().enumerate().map(|(l, w)| (format!("W{}.npy", l + 1), w)));
            }
            None
        }
        Network::Linear { weights, alpha } => {
            matrices.extend(weights.iter().enumerate().map(|(l, w)| (format!("W{}.npy", l + 1), w)));
            Some(*alpha)
        }
    };
    let written: Vec<String> = matrices.iter().map(|(name, _)| name.clone()).collect();
    let c = run.config();
    let meta = json!({
        "id": run.id(),
        "model": c.model.arch,
        "depth": c.model.depth,
        "width": c.model.width,
        "transform": run.transform().map(|t| t.kind.name()),
        "init_std": run.init_std(),
        "alpha": alpha,
        "eta": theory.eta,
        "method": c.optim.method,
        "batch": c.optim.batch,
        "iters": c.optim.iters,
        "loss": "sum: L(W) = 1/2 * ||f(X) - Y||_F^2 over the n samples",
        "layout": "X.npy is n×d and Y.npy n×k (rows are samples); A is m×d, B is k×m; f(x) = B(I+W_L)...(I+W_1)Ax or alpha*W_L...W_1x",
        "seeds": setup.seeds,
        "config": c,
        "files": written,
    });
    let mut files: Vec<(String, Vec<u8>)> =
        matrices.iter().map(|(name, m)| Ok((name.clone(), npy_bytes(name, m)?))).collect::<Result<_, RunError>>()?;
    files.push(("meta.json".into(), serde_json::to_vec_pretty(&meta).expect("meta serialises")));
    if !force && let Some((name, _)) = files.iter().find(|(name, _)| fs::symlink_metadata(dir.join(name)).is_ok()) {
        return Err(ExportError::Exists(dir.join(name)));
    }
    let mut done: Vec<String> = Vec::new();
    for (name, bytes) in &files {
        let path = dir.join(name);
        let result = if force { atomic::write(&path, bytes) } else { atomic::write_new(&path, bytes) };
        if let Err(source) = result {
            if !force {
                // All or nothing: this call's files go; nothing else was touched.
                for name in &done {
                    let _ = fs::remove_file(dir.join(name));
                }
            }
            return Err(if source.kind() == std::io::ErrorKind::AlreadyExists {
                ExportError::Exists(path)
            } else {
                RunError::from(DataError::Write { path, source }).into()
            });
        }
        done.push(name.clone());
    }
    Ok(done)
}
