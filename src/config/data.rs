//! The `data` section: where the training set comes from.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Dims, MAGNITUDE, check_at_least, check_finite, check_magnitude, check_non_negative, rule};
use crate::error::ConfigError;
use crate::matrix_file::MatrixFile;
use crate::number::float_text;

/// d, k, n of the digits set.
pub const DIGITS_DIMS: Dims = Dims { d: 64, k: 10, n: 1797 };

/// Where the training set comes from. X is d×n (columns are samples), Y is k×n.
///
/// Written as one flat mapping with a `kind` (see [`DataInput`]); a field of another kind is an
/// error naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DataInput", into = "DataInput")]
pub enum DataConfig {
    /// The paper's synthetic set: X_ij ~ N(0,1), Y = −X + noise·E, k = d.
    Paper(PaperData),
    /// X = U diag(s) Vᵀ with a prescribed rank and condition number; Y = W*X + noise·E.
    Spectrum(SpectrumData),
    /// User data from `.npy` or `.csv` files (X n×d, Y n×k on disk).
    File(FileData),
    /// The bundled 8×8 handwritten digits (n = 1797, d = 64, one-hot k = 10).
    Digits(DigitsData),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PaperData {
    pub d: usize,
    pub n: usize,
    /// Standard deviation of the label noise (default 0.1).
    pub noise: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpectrumData {
    pub d: usize,
    pub k: usize,
    pub n: usize,
    /// Rank r of X; default min(d, n).
    pub rank: Option<usize>,
    /// Condition number κ = σ_max²/σ_r² (≥ 1).
    pub kappa: f64,
    /// σ_max(X); default √n (the size of a Gaussian X's largest singular values).
    pub scale: Option<f64>,
    pub target: Target,
    /// Standard deviation of the label noise (default 0).
    pub noise: f64,
}

/// The true map W* of `spectrum` data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// W*_ij ~ N(0, 1/d).
    #[default]
    Gaussian,
    /// W* = −I (needs k = d), the paper's target.
    NegIdentity,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileData {
    /// Inputs, n×d (`.npy` or `.csv`).
    pub x: MatrixFile,
    /// Targets, n×k (`.npy` or `.csv`).
    pub y: MatrixFile,
    /// Centre each feature and scale it to unit variance (constant features become 0).
    pub standardize: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DigitsData {
    /// Centre each pixel and scale it to unit variance (constant pixels become 0).
    pub standardize: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    Paper,
    Spectrum,
    File,
    Digits,
}

impl DataKind {
    /// The fields a `data` mapping of this kind may have besides `kind`.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            DataKind::Paper => &["d", "k", "n", "noise"],
            DataKind::Spectrum => &["d", "k", "n", "noise", "rank", "kappa", "scale", "target"],
            DataKind::File => &["x", "y", "standardize"],
            DataKind::Digits => &["standardize"],
        }
    }
}

/// The `data` mapping as written: a `kind` and the fields of that kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataInput {
    pub kind: Option<DataKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub d: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kappa: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<MatrixFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<MatrixFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standardize: Option<bool>,
}

impl TryFrom<DataInput> for DataConfig {
    type Error = String;

    fn try_from(i: DataInput) -> Result<Self, String> {
        let kind = i.kind.ok_or("missing field `kind` (paper, spectrum, file or digits)")?;
        let name = serde_json::to_value(kind).expect("kinds serialise");
        let name = name.as_str().unwrap_or_default();
        let given: [(&str, bool); 11] = [
            ("d", i.d.is_some()),
            ("k", i.k.is_some()),
            ("n", i.n.is_some()),
            ("noise", i.noise.is_some()),
            ("rank", i.rank.is_some()),
            ("kappa", i.kappa.is_some()),
            ("scale", i.scale.is_some()),
            ("target", i.target.is_some()),
            ("x", i.x.is_some()),
            ("y", i.y.is_some()),
            ("standardize", i.standardize.is_some()),
        ];
        let allowed = kind.fields();
        if let Some((field, _)) = given.iter().find(|(f, set)| *set && !allowed.contains(f)) {
            return Err(format!("field `{field}` does not apply to kind {name} (its fields: {})", allowed.join(", ")));
        }
        let need = |v: Option<usize>, f: &str| v.ok_or_else(|| format!("kind {name} needs `{f}`"));
        Ok(match kind {
            DataKind::Paper => {
                let d = need(i.d, "d")?;
                if let Some(k) = i.k.filter(|&k| k != d) {
                    return Err(format!("paper data has k = d (Y = −X + noise), got k = {k}, d = {d}"));
                }
                DataConfig::Paper(PaperData { d, n: need(i.n, "n")?, noise: i.noise.unwrap_or(0.1) })
            }
            DataKind::Spectrum => DataConfig::Spectrum(SpectrumData {
                d: need(i.d, "d")?,
                k: need(i.k, "k")?,
                n: need(i.n, "n")?,
                rank: i.rank,
                kappa: i.kappa.ok_or("kind spectrum needs `kappa`")?,
                scale: i.scale,
                target: i.target.unwrap_or_default(),
                noise: i.noise.unwrap_or(0.0),
            }),
            DataKind::File => DataConfig::File(FileData {
                x: i.x.ok_or("kind file needs `x` (an n×d .npy or .csv file)")?,
                y: i.y.ok_or("kind file needs `y` (an n×k .npy or .csv file)")?,
                standardize: i.standardize.unwrap_or(false),
            }),
            DataKind::Digits => DataConfig::Digits(DigitsData { standardize: i.standardize.unwrap_or(false) }),
        })
    }
}

impl From<DataConfig> for DataInput {
    fn from(c: DataConfig) -> DataInput {
        match c {
            DataConfig::Paper(p) => DataInput {
                kind: Some(DataKind::Paper),
                d: Some(p.d),
                n: Some(p.n),
                noise: Some(p.noise),
                ..Default::default()
            },
            DataConfig::Spectrum(s) => DataInput {
                kind: Some(DataKind::Spectrum),
                d: Some(s.d),
                k: Some(s.k),
                n: Some(s.n),
                noise: Some(s.noise),
                rank: s.rank,
                kappa: Some(s.kappa),
                scale: s.scale,
                target: Some(s.target),
                ..Default::default()
            },
            DataConfig::File(f) => DataInput {
                kind: Some(DataKind::File),
                x: Some(f.x),
                y: Some(f.y),
                standardize: Some(f.standardize),
                ..Default::default()
            },
            DataConfig::Digits(g) => {
                DataInput { kind: Some(DataKind::Digits), standardize: Some(g.standardize), ..Default::default() }
            }
        }
    }
}

impl DataConfig {
    pub(super) fn resolve(&mut self, base: &Path) -> Result<Dims, ConfigError> {
        match self {
            DataConfig::Paper(p) => {
                check_at_least("data.d", p.d, 1)?;
                check_at_least("data.n", p.n, 1)?;
                check_non_negative("data.noise", p.noise)?;
                check_magnitude("data.noise", p.noise, MAGNITUDE, true)?;
                Ok(Dims { d: p.d, k: p.d, n: p.n })
            }
            DataConfig::Spectrum(s) => {
                check_at_least("data.d", s.d, 1)?;
                check_at_least("data.k", s.k, 1)?;
                check_at_least("data.n", s.n, 1)?;
                let max_rank = s.d.min(s.n);
                // Derived defaults stay unset (rank min(d, n), scale √n), so a resolved run written
                // out and edited (n, d) still derives them from the new values.
                let r = s.rank.unwrap_or(max_rank);
                if r == 0 || r > max_rank {
                    return Err(rule("data.rank", format!("must satisfy 1 ≤ rank ≤ min(d, n) = {max_rank}, got {r}")));
                }
                check_finite("data.kappa", s.kappa)?;
                if s.kappa < 1.0 {
                    return Err(rule(
                        "data.kappa",
                        format!("the condition number must be ≥ 1, got {}", float_text(s.kappa)),
                    ));
                }
                if r == 1 && s.kappa != 1.0 {
                    return Err(rule("data.kappa", "rank 1 data has κ = 1"));
                }
                let scale = s.scale.unwrap_or((s.n as f64).sqrt());
                check_magnitude("data.scale", scale, MAGNITUDE, false)?;
                if scale < 0.0 {
                    return Err(rule("data.scale", format!("must be > 0, got {}", float_text(scale))));
                }
                check_non_negative("data.noise", s.noise)?;
                check_magnitude("data.noise", s.noise, MAGNITUDE, true)?;
                if s.target == Target::NegIdentity && s.k != s.d {
                    return Err(rule("data.target", format!("neg_identity needs k = d, got k = {}, d = {}", s.k, s.d)));
                }
                Ok(Dims { d: s.d, k: s.k, n: s.n })
            }
            DataConfig::File(f) => {
                let (nx, d) = f.x.resolve("data.x", base)?;
                let (ny, k) = f.y.resolve("data.y", base)?;
                if nx != ny {
                    return Err(rule("data.y", format!("X has {nx} rows (samples) but Y has {ny}; they must match")));
                }
                Ok(Dims { d, k, n: nx })
            }
            DataConfig::Digits(_) => Ok(DIGITS_DIMS),
        }
    }

    /// Short name of the data kind, for tables.
    pub fn kind_name(&self) -> &'static str {
        match self {
            DataConfig::Paper(_) => "paper",
            DataConfig::Spectrum(_) => "spectrum",
            DataConfig::File(_) => "file",
            DataConfig::Digits(_) => "digits",
        }
    }
}
