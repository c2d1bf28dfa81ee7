//! The configuration of one run: what the user wrote (with defaults) and its resolved, validated form.
//!
//! A [`RunConfig`] is deserialised from YAML or JSON (unknown keys are errors), then
//! [`RunConfig::resolve`] fills every default that depends on other fields, drops fields that do not
//! apply to the chosen variant (a linear network has no `transform`), and checks every rule. Only a
//! [`ResolvedRun`] reaches the trainer, so no kernel re-checks its input. The resolved config
//! serialises to the canonical form that run ids are hashed from.
//!
//! Sections are flat where grids need to vary a variant together with shared fields (`model.arch`,
//! `model.transform.kind`): a field that does not apply to the chosen variant is removed during
//! resolution. Sections whose variants share nothing (`data.kind`, `optim.step.rule`) are strict
//! tagged enums: a field of another variant is an unknown-key error.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::data::DIGITS_DIMS;
use crate::data::files::{FileDigest, MatrixFile};
use crate::error::ConfigError;

/// Version salt of the run ids. Change it exactly when a change to the engines, data generators or
/// random streams changes the numbers an unchanged configuration produces: every cached result
/// then becomes a miss.
pub const ENGINE_SALT: &str = "linres-engines-v2";

/// One run, as written by the user or as resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Master seed of the experiment; every random stream is derived from it.
    pub master_seed: u64,
    /// Seed index within the experiment (0, 1, …).
    #[serde(default)]
    pub seed: u64,
    pub data: DataConfig,
    pub model: ModelConfig,
    pub optim: OptimConfig,
    #[serde(default)]
    pub engine: EngineChoice,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub theory: TheoryConstants,
}

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
        let allowed: &[&str] = match kind {
            DataKind::Paper => &["d", "k", "n", "noise"],
            DataKind::Spectrum => &["d", "k", "n", "noise", "rank", "kappa", "scale", "target"],
            DataKind::File => &["x", "y", "standardize"],
            DataKind::Digits => &["standardize"],
        };
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

/// The network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub arch: Arch,
    /// ResNet: number of residual blocks L. Linear network: number of weight matrices L.
    pub depth: usize,
    /// Hidden width m.
    pub width: usize,
    /// ResNet only: the fixed input/output transformations A, B (default `gaussian`).
    #[serde(default, deserialize_with = "deserialize_transform", skip_serializing_if = "Option::is_none")]
    pub transform: Option<TransformConfig>,
    /// ResNet only: standard deviation of the hidden weights at initialisation (default 0: the
    /// paper's zero initialisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_std: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// f(x) = B(I+W_L)…(I+W_1)Ax (Zou, Long & Gu).
    Resnet,
    /// f(x) = αW_L…W_1x, α = 1/√(m^{L−1}k) (Du & Hu).
    Linear,
}

/// The ResNet's input and output transformations. Written either as a bare kind (`gaussian`) or as
/// a map (`{kind: gaussian, sigma_a2: 0.5}`); fields that do not apply to the kind are dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformConfig {
    pub kind: TransformKind,
    /// Factor applied to A after it is built.
    #[serde(default = "one")]
    pub a_scale: f64,
    /// Factor applied to B after it is built.
    #[serde(default = "one")]
    pub b_scale: f64,
    /// `gaussian`: variance of A's entries; default 1/m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma_a2: Option<f64>,
    /// `gaussian`: variance of B's entries; default 1/k.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma_b2: Option<f64>,
    /// `file`: A (m×d) as `.npy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<MatrixFile>,
    /// `file`: B (k×m) as `.npy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b: Option<MatrixFile>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransformKind {
    /// A = [I_d; 0], B = [I_k, 0]: overlapping coordinates, BA = I.
    Identity,
    /// A = [I_d; 0], B = [0, I_k]: disjoint coordinates, needs m ≥ d + k.
    ModifiedIdentity,
    /// A_ij ~ N(0, σ_A²), B_ij ~ N(0, σ_B²).
    Gaussian,
    /// A and B loaded from `.npy` files.
    File,
}

impl TransformKind {
    pub fn name(self) -> &'static str {
        match self {
            TransformKind::Identity => "identity",
            TransformKind::ModifiedIdentity => "modified_identity",
            TransformKind::Gaussian => "gaussian",
            TransformKind::File => "file",
        }
    }
}

impl<'de> Deserialize<'de> for TransformConfigInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TransformVisitor)
    }
}

/// Either a bare kind name or a full map; see [`TransformConfig`].
struct TransformConfigInput(TransformConfig);

struct TransformVisitor;

impl<'de> serde::de::Visitor<'de> for TransformVisitor {
    type Value = TransformConfigInput;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a transformation kind (identity, modified_identity, gaussian, file) or a map with `kind`")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let kind = TransformKind::deserialize(serde::de::value::StrDeserializer::<E>::new(v))?;
        Ok(TransformConfigInput(TransformConfig::of_kind(kind)))
    }

    fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
        TransformConfig::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(TransformConfigInput)
    }
}

fn deserialize_transform<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TransformConfig>, D::Error> {
    Option::<TransformConfigInput>::deserialize(d).map(|t| t.map(|t| t.0))
}

impl TransformConfig {
    /// The transformation of `kind` with every parameter at its default.
    pub fn of_kind(kind: TransformKind) -> Self {
        TransformConfig { kind, a_scale: 1.0, b_scale: 1.0, sigma_a2: None, sigma_b2: None, a: None, b: None }
    }
}

/// The optimiser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimConfig {
    pub method: Method,
    /// SGD only: minibatch size b, drawn uniformly without replacement at every step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,
    /// Number of steps.
    pub iters: usize,
    pub step: StepRule,
    /// Stop early once the relative excess loss (L(W_t) − L*)/(L(W_0) − L*) is at or below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_below: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Full-batch gradient descent.
    Gd,
    /// Minibatch SGD with the unbiased (n/b)-scaled gradient.
    Sgd,
}

/// The step size η. Written as `{rule: fixed, eta: …}`, `{rule: zou, scale: …}` or
/// `{rule: du_hu, scale: …}` (scale defaults to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StepInput", into = "StepInput")]
pub enum StepRule {
    /// A fixed η.
    Fixed { eta: f64 },
    /// η = scale / (L‖A‖‖B‖‖X‖(√L(W0) + ‖A‖‖B‖‖X‖)), the bracket of Zou et al. (ResNet only).
    Zou { scale: f64 },
    /// η = scale · k / (2L‖X‖²), the step of Du & Hu.
    DuHu { scale: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Fixed,
    Zou,
    DuHu,
}

/// The `step` mapping as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    pub rule: StepKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
}

impl TryFrom<StepInput> for StepRule {
    type Error = String;

    fn try_from(i: StepInput) -> Result<Self, String> {
        match (i.rule, i.eta, i.scale) {
            (StepKind::Fixed, Some(eta), None) => Ok(StepRule::Fixed { eta }),
            (StepKind::Fixed, None, _) => Err("rule fixed needs `eta`".into()),
            (StepKind::Fixed, Some(_), Some(_)) => {
                Err("field `scale` does not apply to rule fixed (it takes `eta`)".into())
            }
            (_, Some(_), _) => Err("field `eta` applies only to rule fixed (rules zou and du_hu take `scale`)".into()),
            (StepKind::Zou, None, scale) => Ok(StepRule::Zou { scale: scale.unwrap_or(1.0) }),
            (StepKind::DuHu, None, scale) => Ok(StepRule::DuHu { scale: scale.unwrap_or(1.0) }),
        }
    }
}

impl From<StepRule> for StepInput {
    fn from(r: StepRule) -> StepInput {
        match r {
            StepRule::Fixed { eta } => StepInput { rule: StepKind::Fixed, eta: Some(eta), scale: None },
            StepRule::Zou { scale } => StepInput { rule: StepKind::Zou, eta: None, scale: Some(scale) },
            StepRule::DuHu { scale } => StepInput { rule: StepKind::DuHu, eta: None, scale: Some(scale) },
        }
    }
}

/// Which exact engine trains the run (all give the same trajectory up to rounding).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineChoice {
    /// The cheapest applicable engine by the cost model of [`crate::engine::plan()`].
    #[default]
    Auto,
    /// Forward and backward over the samples.
    Dense,
    /// Full-batch steps from Σ = XXᵀ and C = YXᵀ (minibatch Gram matrices for SGD).
    Gram,
    /// Zero-initialised ResNet in the subspace col(A) + col(Bᵀ), inner kernel chosen by cost.
    Reduced,
    /// Reduced problem, dense inner kernel.
    ReducedDense,
    /// Reduced problem, Gram inner kernel.
    ReducedGram,
}

/// Which iterations are logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    #[serde(default)]
    pub schedule: Schedule,
    /// Number of logged iterations (0 and the last are always included).
    #[serde(default = "default_points")]
    pub points: usize,
    /// Also log max_l ‖W_l‖₂, ‖∇L‖²_F and the PL ratio at each logged iteration.
    #[serde(default)]
    pub diagnostics: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Iterations spaced geometrically between 1 and the last.
    #[default]
    Geometric,
    /// Iterations spaced evenly.
    Linear,
    /// Every iteration.
    All,
}

/// Constants of the theorems whose values the papers leave open (default 1) and the accuracy target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TheoryConstants {
    /// C in the Zou condition σ_min²(A)σ_min²(B)/(‖A‖‖B‖) ≥ C‖X‖√(L(W0)−L*)/σ_r².
    #[serde(default = "one")]
    pub c_zou: f64,
    /// C₁ in the Zou step bracket η ≤ C₁/(L‖A‖‖B‖‖X‖(√L(W0) + ‖A‖‖B‖‖X‖)).
    #[serde(default = "one")]
    pub c_step: f64,
    /// C in the width bounds m_Zou = C·k·r·κ² and m_DuHu = C·L·r·κ³·k.
    #[serde(default = "one")]
    pub c_width: f64,
    /// δ of the Du & Hu theorem (failure probability) in its width condition.
    #[serde(default = "default_delta")]
    pub delta: f64,
    /// Relative excess loss ε for "iterations to ε" (measured and predicted).
    #[serde(default = "default_target")]
    pub target: f64,
}

fn one() -> f64 {
    1.0
}
fn default_points() -> usize {
    200
}
fn default_delta() -> f64 {
    0.01
}
fn default_target() -> f64 {
    1e-6
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { schedule: Schedule::default(), points: default_points(), diagnostics: false }
    }
}

impl Default for TheoryConstants {
    fn default() -> Self {
        TheoryConstants { c_zou: 1.0, c_step: 1.0, c_width: 1.0, delta: default_delta(), target: default_target() }
    }
}

/// Dimensions of the data a config describes: input d, output k, samples n.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dims {
    pub d: usize,
    pub k: usize,
    pub n: usize,
}

/// A config that passed [`RunConfig::resolve`]: every default filled, every rule checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ResolvedRun {
    config: RunConfig,
    #[serde(skip)]
    dims: Dims,
}

impl ResolvedRun {
    pub fn config(&self) -> &RunConfig {
        &self.config
    }
    /// d, k, n of the data.
    pub fn dims(&self) -> Dims {
        self.dims
    }
    /// The resolved transformation (ResNet only).
    pub fn transform(&self) -> Option<&TransformConfig> {
        self.config.model.transform.as_ref()
    }
    /// Standard deviation of the hidden initialisation (0 for the linear network's own init rule).
    pub fn init_std(&self) -> f64 {
        self.config.model.init_std.unwrap_or(0.0)
    }
    /// The run id: the first 16 hex digits of blake3(`ENGINE_SALT` ‖ canonical JSON). It depends on
    /// the resolved configuration only, never on list or key order or on the rest of the grid.
    pub fn id(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        hasher.update(ENGINE_SALT.as_bytes());
        hasher.update(b"\0");
        hasher.update(crate::canonical::to_string(&self.canonical_json()).as_bytes());
        crate::canonical::hex(&hasher.finalize().as_bytes()[..8])
    }

    /// Canonical JSON of the config with file paths removed (their content digests stay), the input
    /// of the run id: two configs that compute the same thing have the same canonical form.
    pub fn canonical_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(&self.config).expect("a resolved config serialises");
        strip_paths(&mut value);
        value
    }
}

/// Removes every `path` entry of a [`MatrixFile`] so that ids do not depend on where a file lies.
fn strip_paths(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.contains_key("blake3") {
                map.remove("path");
            }
            map.values_mut().for_each(strip_paths);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_paths),
        _ => {}
    }
}

fn rule(field: &str, rule: impl Into<String>) -> ConfigError {
    ConfigError::new(field, rule)
}

fn check_finite(field: &str, v: f64) -> Result<f64, ConfigError> {
    if v.is_finite() { Ok(v) } else { Err(rule(field, format!("must be a finite number, got {v}"))) }
}

fn check_positive(field: &str, v: f64) -> Result<f64, ConfigError> {
    check_finite(field, v)?;
    if v > 0.0 { Ok(v) } else { Err(rule(field, format!("must be > 0, got {v}"))) }
}

fn check_non_negative(field: &str, v: f64) -> Result<f64, ConfigError> {
    check_finite(field, v)?;
    if v >= 0.0 { Ok(v) } else { Err(rule(field, format!("must be ≥ 0, got {v}"))) }
}

fn check_at_least(field: &str, v: usize, min: usize) -> Result<usize, ConfigError> {
    if v >= min { Ok(v) } else { Err(rule(field, format!("must be at least {min}, got {v}"))) }
}

impl RunConfig {
    /// Fills the defaults, drops inapplicable fields and checks every rule. `base` is the directory
    /// that relative file paths are taken from.
    pub fn resolve(mut self, base: &Path) -> Result<ResolvedRun, ConfigError> {
        let dims = self.data.resolve(base)?;
        self.model.resolve(dims, base)?;
        self.optim.resolve(&self.model, dims)?;
        self.log.resolve()?;
        self.theory.resolve()?;
        check_memory(&self, dims)?;
        let zero_init = self.model.arch == Arch::Resnet && self.model.init_std == Some(0.0);
        if matches!(self.engine, EngineChoice::Reduced | EngineChoice::ReducedDense | EngineChoice::ReducedGram)
            && !zero_init
        {
            return Err(rule("engine", "the reduced engines need a zero-initialised ResNet (arch resnet, init_std 0)"));
        }
        Ok(ResolvedRun { config: self, dims })
    }
}

/// Refuses a run whose arrays cannot fit in this machine's memory, naming the dimension that
/// dominates, instead of letting the allocation abort the process. The estimate is a lower bound:
/// X, Y and the best fit (8·(d + 2k)·n bytes), A and B (8·m·(d + k)), and the hidden weights
/// unless a zero-initialised ResNet may be reduced (8·L·m² for the ResNet; the linear network's
/// W_1 … W_L).
fn check_memory(c: &RunConfig, dims: Dims) -> Result<(), ConfigError> {
    let Some(available) = physical_memory() else { return Ok(()) };
    let Dims { d, k, n } = dims;
    let (m, depth) = (c.model.width as f64, c.model.depth as f64);
    let data = 8.0 * (d + 2 * k) as f64 * n as f64;
    let may_reduce = c.model.arch == Arch::Resnet
        && c.model.init_std.unwrap_or(0.0) == 0.0
        && !matches!(c.engine, EngineChoice::Dense | EngineChoice::Gram);
    let weights = match c.model.arch {
        Arch::Resnet if may_reduce => 8.0 * m * (d + k) as f64,
        Arch::Resnet => 8.0 * m * (d + k) as f64 + 8.0 * depth * m * m,
        Arch::Linear => 8.0 * (m * (d + k) as f64 + (depth - 2.0).max(0.0) * m * m),
    };
    let needed = data + weights;
    if needed <= available {
        return Ok(());
    }
    let field = if data >= weights { "data.n" } else { "model.width" };
    let gib = |b: f64| b / (1u64 << 30) as f64;
    Err(rule(
        field,
        format!(
            "the run needs at least {:.1} GiB of memory (data {:.1} GiB, weights and maps {:.1} GiB); this machine has {:.1} GiB",
            gib(needed),
            gib(data),
            gib(weights),
            gib(available)
        ),
    ))
}

/// Total physical memory in bytes (Linux), `None` where it cannot be read.
fn physical_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

impl DataConfig {
    fn resolve(&mut self, base: &Path) -> Result<Dims, ConfigError> {
        match self {
            DataConfig::Paper(p) => {
                check_at_least("data.d", p.d, 1)?;
                check_at_least("data.n", p.n, 1)?;
                check_non_negative("data.noise", p.noise)?;
                Ok(Dims { d: p.d, k: p.d, n: p.n })
            }
            DataConfig::Spectrum(s) => {
                check_at_least("data.d", s.d, 1)?;
                check_at_least("data.k", s.k, 1)?;
                check_at_least("data.n", s.n, 1)?;
                let max_rank = s.d.min(s.n);
                let r = *s.rank.get_or_insert(max_rank);
                if r == 0 || r > max_rank {
                    return Err(rule("data.rank", format!("must satisfy 1 ≤ rank ≤ min(d, n) = {max_rank}, got {r}")));
                }
                check_finite("data.kappa", s.kappa)?;
                if s.kappa < 1.0 {
                    return Err(rule("data.kappa", format!("the condition number must be ≥ 1, got {}", s.kappa)));
                }
                if r == 1 && s.kappa != 1.0 {
                    return Err(rule("data.kappa", "rank 1 data has κ = 1"));
                }
                let scale = *s.scale.get_or_insert((s.n as f64).sqrt());
                check_positive("data.scale", scale)?;
                check_non_negative("data.noise", s.noise)?;
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

impl ModelConfig {
    fn resolve(&mut self, dims: Dims, base: &Path) -> Result<(), ConfigError> {
        check_at_least("model.depth", self.depth, 1)?;
        check_at_least("model.width", self.width, 1)?;
        match self.arch {
            Arch::Linear => {
                self.transform = None;
                self.init_std = None;
            }
            Arch::Resnet => {
                let init_std = *self.init_std.get_or_insert(0.0);
                check_non_negative("model.init_std", init_std)?;
                let t = self.transform.get_or_insert_with(|| TransformConfig::of_kind(TransformKind::Gaussian));
                t.resolve(self.width, dims, base)?;
            }
        }
        Ok(())
    }
}

impl TransformConfig {
    fn resolve(&mut self, m: usize, dims: Dims, base: &Path) -> Result<(), ConfigError> {
        let Dims { d, k, .. } = dims;
        for (field, v) in [("model.transform.a_scale", self.a_scale), ("model.transform.b_scale", self.b_scale)] {
            check_finite(field, v)?;
            if v == 0.0 {
                return Err(rule(field, "must be nonzero (a zero map makes the network constant)"));
            }
        }
        if self.kind != TransformKind::Gaussian {
            self.sigma_a2 = None;
            self.sigma_b2 = None;
        }
        if self.kind != TransformKind::File {
            self.a = None;
            self.b = None;
        }
        match self.kind {
            TransformKind::Identity | TransformKind::Gaussian if m < d.max(k) => Err(rule(
                "model.width",
                format!("{} transformations need m ≥ max(d, k) = {}, got m = {m}", self.kind.name(), d.max(k)),
            )),
            TransformKind::ModifiedIdentity if m < d + k => {
                Err(rule("model.width", format!("modified_identity needs m ≥ d + k = {}, got m = {m}", d + k)))
            }
            TransformKind::Gaussian => {
                let va = *self.sigma_a2.get_or_insert(1.0 / m as f64);
                let vb = *self.sigma_b2.get_or_insert(1.0 / k as f64);
                check_positive("model.transform.sigma_a2", va)?;
                check_positive("model.transform.sigma_b2", vb)?;
                Ok(())
            }
            TransformKind::File => {
                let a = self
                    .a
                    .as_mut()
                    .ok_or_else(|| rule("model.transform.a", "transform kind file needs `a` (an m×d .npy file)"))?;
                let shape = a.resolve("model.transform.a", base)?;
                if shape != (m, d) {
                    return Err(rule(
                        "model.transform.a",
                        format!("A must be m×d = {m}×{d}, the file holds {}×{}", shape.0, shape.1),
                    ));
                }
                let b = self
                    .b
                    .as_mut()
                    .ok_or_else(|| rule("model.transform.b", "transform kind file needs `b` (a k×m .npy file)"))?;
                let shape = b.resolve("model.transform.b", base)?;
                if shape != (k, m) {
                    return Err(rule(
                        "model.transform.b",
                        format!("B must be k×m = {k}×{m}, the file holds {}×{}", shape.0, shape.1),
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

impl OptimConfig {
    fn resolve(&mut self, model: &ModelConfig, dims: Dims) -> Result<(), ConfigError> {
        check_at_least("optim.iters", self.iters, 1)?;
        match self.method {
            Method::Gd => self.batch = None,
            Method::Sgd => {
                let b = self.batch.ok_or_else(|| rule("optim.batch", "method sgd needs a batch size"))?;
                if b == 0 || b > dims.n {
                    return Err(rule("optim.batch", format!("must satisfy 1 ≤ batch ≤ n = {}, got {b}", dims.n)));
                }
            }
        }
        match self.step {
            StepRule::Fixed { eta } => {
                check_positive("optim.step.eta", eta)?;
            }
            StepRule::Zou { scale } => {
                check_positive("optim.step.scale", scale)?;
                if model.arch != Arch::Resnet {
                    return Err(rule("optim.step.rule", "rule zou uses A and B, so it needs arch resnet"));
                }
            }
            StepRule::DuHu { scale } => {
                check_positive("optim.step.scale", scale)?;
            }
        }
        if let Some(s) = self.stop_below {
            check_positive("optim.stop_below", s)?;
        }
        Ok(())
    }
}

impl LogConfig {
    fn resolve(&mut self) -> Result<(), ConfigError> {
        check_at_least("log.points", self.points, 2)?;
        Ok(())
    }
}

impl TheoryConstants {
    fn resolve(&mut self) -> Result<(), ConfigError> {
        check_positive("theory.c_zou", self.c_zou)?;
        check_positive("theory.c_step", self.c_step)?;
        check_positive("theory.c_width", self.c_width)?;
        check_positive("theory.delta", self.delta)?;
        if self.delta >= 1.0 {
            return Err(rule("theory.delta", format!("a probability must be < 1, got {}", self.delta)));
        }
        check_positive("theory.target", self.target)?;
        Ok(())
    }
}

/// A path as written in a config, relative paths taken from the spec file's directory.
pub fn join_base(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_path_buf() } else { base.join(path) }
}

impl MatrixFile {
    /// Reads the file's shape and content digest; `field` names it in errors.
    fn resolve(&mut self, field: &str, base: &Path) -> Result<(usize, usize), ConfigError> {
        let FileDigest { rows, cols, blake3 } =
            crate::data::files::digest(&join_base(base, &self.path)).map_err(|e| rule(field, e.to_string()))?;
        self.path = join_base(base, &self.path);
        self.blake3 = Some(blake3);
        Ok((rows, cols))
    }
}
