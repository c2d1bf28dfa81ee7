//! `linres export --npy DIR`: a run's inputs as numpy files, so anyone can re-check it.
//!
//! Files: `X.npy` (n×d), `Y.npy` (n×k); for a ResNet `A.npy` (m×d), `B.npy` (k×m) and, with a
//! Gaussian hidden initialisation, `W1.npy` … `WL.npy` (m×m); for a linear network `W1.npy` …
//! `WL.npy` (the initial weights, unscaled: f(x) = α·W_L⋯W_1·x). A ResNet whose transformations
//! were drawn as a Gram matrix only (`sampling: gram`) has no A or B: `G.npy` ((d+k)×(d+k),
//! G = [A, Bᵀ]ᵀ[A, Bᵀ]) takes their place. `meta.json` holds the model,
//! depth, width, α, the step size actually used, the optimiser, iterations and seeds.

use std::fs;
use std::path::Path;

use ndarray::Array2;
use ndarray_npy::WriteNpyExt;
use serde_json::json;

use crate::config::ResolvedRun;
use crate::error::{DataError, RunError};
use crate::model::{Hidden, Network};
use crate::train::Setup;

fn write_matrix(dir: &Path, name: &str, m: &Array2<f64>) -> Result<(), RunError> {
    let path = dir.join(name);
    let io = |e: std::io::Error| RunError::Data(DataError::Write { path: path.clone(), source: e });
    let file = fs::File::create(&path).map_err(io)?;
    m.as_standard_layout()
        .write_npy(std::io::BufWriter::new(file))
        .map_err(|e| RunError::Data(DataError::Format { path: path.clone(), message: e.to_string() }))
}

/// Writes the inputs of `run` into `dir` (created if needed); returns the file names written.
pub fn export_inputs(run: &ResolvedRun, dir: &Path) -> Result<Vec<String>, RunError> {
    fs::create_dir_all(dir).map_err(|source| DataError::Write { path: dir.to_path_buf(), source })?;
    // One set-up serves both the files and the step size (the theory consumes a copy).
    let setup = Setup::new(run)?;
    let theory = setup.clone().initial_theory(run)?;
    let mut written = Vec::new();
    let mut put = |name: String, m: &Array2<f64>| -> Result<(), RunError> {
        write_matrix(dir, &name, m)?;
        written.push(name);
        Ok(())
    };
    put("X.npy".into(), &setup.problem.x.t().to_owned())?;
    put("Y.npy".into(), &setup.problem.y.t().to_owned())?;
    let alpha = match &setup.network {
        Network::Resnet { transforms, gram, hidden } => {
            match transforms {
                Some(t) => {
                    put("A.npy".into(), &t.a)?;
                    put("B.npy".into(), &t.b)?;
                }
                None => put("G.npy".into(), &gram.g)?,
            }
            if let Hidden::Weights(ws) = hidden {
                for (l, w) in ws.iter().enumerate() {
                    put(format!("W{}.npy", l + 1), w)?;
                }
            }
            None
        }
        Network::Linear { weights, alpha } => {
            for (l, w) in weights.iter().enumerate() {
                put(format!("W{}.npy", l + 1), w)?;
            }
            Some(*alpha)
        }
    };
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
    let path = dir.join("meta.json");
    fs::write(&path, serde_json::to_vec_pretty(&meta).expect("meta serialises"))
        .map_err(|source| DataError::Write { path, source })?;
    written.push("meta.json".into());
    Ok(written)
}
