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

mod data;
mod model;
mod optim;

use crate::number::{MAGNITUDE, float_text};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

pub use data::{DIGITS_DIMS, DataConfig, DataInput, DataKind, DigitsData, FileData, PaperData, SpectrumData, Target};
pub use model::{Arch, ModelConfig, Sampling, TransformConfig, TransformKind};
pub use optim::{Method, OptimConfig, StepInput, StepKind, StepRule};

use crate::error::ConfigError;
use crate::matrix_file::{FileDigest, MatrixFile};

/// Version salt of the run ids. Change it exactly when a change to the engines, data generators or
/// random streams changes the numbers an unchanged configuration produces: every cached result
/// then becomes a miss.
pub const ENGINE_SALT: &str = "linres-engines-v3";

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
}

/// Which exact engine trains the run (all give the same trajectory up to rounding).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineChoice {
    /// The cheapest applicable engine by the cost model of the engines (`engine::plan`).
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

impl EngineChoice {
    pub fn name(self) -> &'static str {
        match self {
            EngineChoice::Auto => "auto",
            EngineChoice::Dense => "dense",
            EngineChoice::Gram => "gram",
            EngineChoice::Reduced => "reduced",
            EngineChoice::ReducedDense => "reduced_dense",
            EngineChoice::ReducedGram => "reduced_gram",
        }
    }
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
/// They belong to an experiment, not to a run: no trajectory depends on them, so they are not part
/// of run ids, and every quantity that uses them is computed when results are read.
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
    /// Relative excess loss ε for "iterations to ε" (measured and predicted): a decade 10⁻ʲ,
    /// j = 1…16, since records keep the first iteration below each decade.
    #[serde(default = "default_target")]
    pub target: f64,
}

pub(crate) fn one() -> f64 {
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
///
/// The runs of one grid point under different seed indices share everything but the seed
/// ([`ResolvedRun::with_seeds`]): one configuration is kept per point, and a run's own
/// configuration (its seed written in) is built only when [`ResolvedRun::config`] asks for it.
#[derive(Debug, Clone)]
pub struct ResolvedRun {
    /// The configuration of the run's grid point, as resolved for the point's first seed.
    point: Arc<Point>,
    /// This run's seed index.
    seed: u64,
    /// [`ResolvedRun::id`], computed once (a function of the configuration with `seed`).
    id: RunId,
    /// This run's configuration when its seed is not the point's (built on first use).
    own: OnceLock<Box<RunConfig>>,
}

/// What the runs of a grid point share.
#[derive(Debug)]
struct Point {
    config: RunConfig,
    dims: Dims,
    /// The id of `config` (the point's first seed).
    id: RunId,
}

/// A run id: 16 lower-case hex digits, kept inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId([u8; 16]);

impl RunId {
    /// The id of a finished hash: its first 8 bytes in hex.
    fn of(hash: &blake3::Hash) -> RunId {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 16];
        for (i, b) in hash.as_bytes()[..8].iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 15)];
        }
        RunId(out)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits are ASCII")
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "RunId({})", self.as_str())
    }
}

/// The hasher of run ids with the salt absorbed.
fn id_hasher() -> blake3::Hasher {
    let mut hasher = blake3::Hasher::new();
    hasher.update(ENGINE_SALT.as_bytes());
    hasher.update(b"\0");
    hasher
}

/// Two resolved runs are equal when their configurations (seed included) are.
impl PartialEq for ResolvedRun {
    fn eq(&self, other: &ResolvedRun) -> bool {
        self.config() == other.config() && self.dims() == other.dims()
    }
}

/// A resolved run serialises as its configuration.
impl Serialize for ResolvedRun {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.config().serialize(serializer)
    }
}

impl ResolvedRun {
    /// The run's configuration (its own seed included). For a run that is not the first seed
    /// of its grid point it is built on the first call and kept.
    pub fn config(&self) -> &RunConfig {
        if self.seed == self.point.config.seed {
            return &self.point.config;
        }
        self.own.get_or_init(|| Box::new(RunConfig { seed: self.seed, ..self.point.config.clone() }))
    }
    /// The configuration of the run's grid point: every field is this run's except `seed`,
    /// which is the point's first seed. For readers of fields other than the seed, without
    /// building the run's own configuration.
    pub fn point_config(&self) -> &RunConfig {
        &self.point.config
    }
    /// The run's seed index.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// d, k, n of the data.
    pub fn dims(&self) -> Dims {
        self.point.dims
    }
    /// The resolved transformation (ResNet only).
    pub fn transform(&self) -> Option<&TransformConfig> {
        self.point.config.model.transform.as_ref()
    }
    /// Standard deviation of the hidden initialisation (0 for the linear network's own init rule).
    pub fn init_std(&self) -> f64 {
        self.point.config.model.init_std.unwrap_or(0.0)
    }
    /// The run id: the first 16 hex digits of blake3(`ENGINE_SALT` ‖ canonical JSON). It depends on
    /// the resolved configuration only, never on list or key order or on the rest of the grid.
    pub fn id(&self) -> String {
        self.id.as_str().to_string()
    }

    /// [`ResolvedRun::id`] without an allocation.
    pub fn run_id(&self) -> RunId {
        self.id
    }

    /// The runs of this run's configuration under each seed index of `seeds`, in that order,
    /// sharing one copy of it. The canonical text is written once, split around the seed: each
    /// id hashes `salt ‖ before ‖ seed ‖ after`, the same bytes [`RunConfig::resolved_id`] hashes.
    pub fn with_seeds<'a>(&'a self, seeds: &'a [u64]) -> impl Iterator<Item = ResolvedRun> + 'a {
        let canonical = self.point.config.canonical_json();
        let (before, after) = crate::canonical::split_around(&canonical, "seed").expect("a configuration has a seed");
        let mut prefix = id_hasher();
        prefix.update(before.as_bytes());
        let id_of = move |seed: u64| {
            let mut hasher = prefix.clone();
            hasher.update(seed.to_string().as_bytes());
            hasher.update(after.as_bytes());
            RunId::of(&hasher.finalize())
        };
        debug_assert_eq!(id_of(self.point.config.seed), self.point.id, "ids hashed around the seed");
        seeds.iter().map(move |&seed| ResolvedRun {
            point: Arc::clone(&self.point),
            seed,
            id: if seed == self.seed { self.id } else { id_of(seed) },
            own: OnceLock::new(),
        })
    }

    /// The run of this run's grid point under the point's first seed: the same configuration but
    /// the seed, for what does not depend on the seed (costs, memory), without building this
    /// run's own configuration.
    pub fn point_run(&self) -> ResolvedRun {
        let seed = self.point.config.seed;
        ResolvedRun { point: Arc::clone(&self.point), seed, id: self.point.id, own: OnceLock::new() }
    }

    /// This run with its own copy of its configuration, sharing nothing with its grid point: for
    /// work that reads the configuration and then ends (training), so that nothing is kept.
    pub fn standalone(&self) -> ResolvedRun {
        let config = RunConfig { seed: self.seed, ..self.point.config.clone() };
        let point = Point { config, dims: self.point.dims, id: self.id };
        ResolvedRun { point: Arc::new(point), seed: self.seed, id: self.id, own: OnceLock::new() }
    }

    /// Canonical JSON of the config with file paths removed (their content digests stay), the input
    /// of the run id: two configs that compute the same thing have the same canonical form.
    pub fn canonical_json(&self) -> serde_json::Value {
        let mut value = self.point.config.canonical_json();
        value["seed"] = serde_json::Value::from(self.seed);
        value
    }

    /// The canonical JSON with every derived default written out (σ_A² = 1/m, σ_B² = 1/k, a spectrum's
    /// rank min(d, n) and scale √n): the values a run uses, whether or not they were written. The
    /// random streams are seeded from these, so writing a default out changes no draw.
    pub fn effective_json(&self) -> serde_json::Value {
        let mut c = RunConfig { seed: self.seed, ..self.point.config.clone() };
        let Dims { d, k, n } = self.dims();
        if let DataConfig::Spectrum(s) = &mut c.data {
            s.rank.get_or_insert(d.min(n));
            s.scale.get_or_insert((n as f64).sqrt());
        }
        if let Some(t) = c.model.transform.as_mut().filter(|t| t.kind == TransformKind::Gaussian) {
            t.sigma_a2.get_or_insert(1.0 / c.model.width as f64);
            t.sigma_b2.get_or_insert(1.0 / k as f64);
        }
        let mut value = serde_json::to_value(&c).expect("a resolved config serialises");
        strip_paths(&mut value);
        value
    }
}

impl RunConfig {
    /// The id of this configuration taken as resolved (every default filled in), as
    /// [`ResolvedRun::id`] computes it: the id a record holding this configuration must be stored
    /// under. Reads no file (data files are named by their digests).
    pub fn resolved_id(&self) -> String {
        self.run_id().as_str().to_string()
    }

    /// [`RunConfig::resolved_id`] without an allocation.
    pub fn run_id(&self) -> RunId {
        let mut hasher = id_hasher();
        hasher.update(crate::canonical::to_string(&self.canonical_json()).as_bytes());
        RunId::of(&hasher.finalize())
    }

    /// [`ResolvedRun::canonical_json`] of this configuration.
    fn canonical_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("a config serialises");
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

pub(crate) fn rule(field: &str, rule: impl Into<String>) -> ConfigError {
    ConfigError::new(field, rule)
}

pub(crate) fn check_finite(field: &str, v: f64) -> Result<f64, ConfigError> {
    if v.is_finite() { Ok(v) } else { Err(rule(field, format!("must be a finite number, got {}", float_text(v)))) }
}

pub(crate) fn check_positive(field: &str, v: f64) -> Result<f64, ConfigError> {
    check_finite(field, v)?;
    if v > 0.0 { Ok(v) } else { Err(rule(field, format!("must be > 0, got {}", float_text(v)))) }
}

pub(crate) fn check_non_negative(field: &str, v: f64) -> Result<f64, ConfigError> {
    check_finite(field, v)?;
    if v >= 0.0 { Ok(v) } else { Err(rule(field, format!("must be ≥ 0, got {}", float_text(v)))) }
}

/// A nonzero finite value whose magnitude lies in `range` (zero too when `zero_ok`).
pub(crate) fn check_magnitude(field: &str, v: f64, range: (f64, f64), zero_ok: bool) -> Result<f64, ConfigError> {
    check_finite(field, v)?;
    let a = v.abs();
    if (zero_ok && v == 0.0) || (range.0..=range.1).contains(&a) {
        return Ok(v);
    }
    Err(rule(
        field,
        format!(
            "|{}| is outside [{}, {}]: squares of such values under- or overflow; rescale it",
            float_text(v),
            float_text(range.0),
            float_text(range.1)
        ),
    ))
}

pub(crate) fn check_at_least(field: &str, v: usize, min: usize) -> Result<usize, ConfigError> {
    if v >= min { Ok(v) } else { Err(rule(field, format!("must be at least {min}, got {v}"))) }
}

impl RunConfig {
    /// Fills the defaults, drops inapplicable fields and checks every rule. `base` is the directory
    /// that relative file paths are taken from.
    pub fn resolve(mut self, base: &Path) -> Result<ResolvedRun, ConfigError> {
        let dims = self.data.resolve(base)?;
        self.model.resolve(dims, base)?;
        self.optim.resolve(&self.model, dims)?;
        self.log.resolve(self.optim.iters)?;
        let zero_init = self.model.arch == Arch::Resnet && self.model.init_std == Some(0.0);
        if matches!(self.engine, EngineChoice::Reduced | EngineChoice::ReducedDense | EngineChoice::ReducedGram)
            && !zero_init
        {
            return Err(rule("engine", "the reduced engines need a zero-initialised ResNet (arch resnet, init_std 0)"));
        }
        self.model.check_sampling(self.engine)?;
        let (seed, id) = (self.seed, self.run_id());
        Ok(ResolvedRun { point: Arc::new(Point { config: self, dims, id }), seed, id, own: OnceLock::new() })
    }
}

/// Most points one run may log (its record then holds about 150 MB of curve).
pub const MAX_LOGGED_POINTS: usize = 1_000_000;

impl LogConfig {
    fn resolve(&mut self, iters: usize) -> Result<(), ConfigError> {
        check_at_least("log.points", self.points, 2)?;
        let logged = self.points_for(iters);
        if logged > MAX_LOGGED_POINTS {
            let (field, why) = match self.schedule {
                Schedule::All => ("log.schedule", "schedule all logs every iteration".to_string()),
                _ => ("log.points", format!("{} points are asked for", self.points)),
            };
            return Err(rule(
                field,
                format!(
                    "at most {MAX_LOGGED_POINTS} points can be logged per run, but {why}: {logged} of the {} \
                     iterations (use schedule geometric or linear with fewer points)",
                    iters.saturating_add(1)
                ),
            ));
        }
        Ok(())
    }

    /// How many iterations a run of `iters` steps logs (at most; rounding may merge a few).
    pub fn points_for(&self, iters: usize) -> usize {
        match self.schedule {
            Schedule::All => iters.saturating_add(1),
            _ => self.points.min(iters.saturating_add(1)),
        }
    }
}

impl TheoryConstants {
    /// Checks every constant (`theory.` fields).
    pub fn check(&self) -> Result<(), ConfigError> {
        check_positive("theory.c_zou", self.c_zou)?;
        check_positive("theory.c_step", self.c_step)?;
        check_positive("theory.c_width", self.c_width)?;
        check_positive("theory.delta", self.delta)?;
        if self.delta >= 1.0 {
            return Err(rule("theory.delta", format!("a probability must be < 1, got {}", float_text(self.delta))));
        }
        decade_of(self.target).ok_or_else(|| rule("theory.target", decade_rule(self.target)))?;
        Ok(())
    }
}

/// Decades 10⁻¹ … 10⁻¹⁶ whose first crossing every record keeps.
pub const DECADES: usize = 16;

/// j when `target` is the decade 10⁻ʲ (1 ≤ j ≤ 16), else `None`.
pub fn decade_of(target: f64) -> Option<usize> {
    if !(target.is_finite() && target > 0.0) {
        return None;
    }
    let j = (-target.log10()).round();
    ((1.0..=DECADES as f64).contains(&j) && (target - 10f64.powf(-j)).abs() <= 1e-9 * target).then_some(j as usize)
}

/// The rule a target breaks when it is not a decade.
pub fn decade_rule(target: f64) -> String {
    format!(
        "a target is a decade 1e-1, 1e-2, …, 1e-16 (records keep the first iteration below each), got {}",
        float_text(target)
    )
}

/// A path as written in a config, relative paths taken from the spec file's directory.
pub fn join_base(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_path_buf() } else { base.join(path) }
}

impl MatrixFile {
    /// Reads the file's shape and content digest; `field` names it in errors.
    pub(crate) fn resolve(&mut self, field: &str, base: &Path) -> Result<(usize, usize), ConfigError> {
        let FileDigest { rows, cols, blake3 } =
            crate::matrix_file::digest(&join_base(base, &self.path)).map_err(|e| rule(field, e.to_string()))?;
        self.path = join_base(base, &self.path);
        self.blake3 = Some(blake3);
        Ok((rows, cols))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_under_other_seeds_have_the_ids_and_configurations_of_their_own_resolution() {
        let config: RunConfig = serde_norway::from_str(
            "{master_seed: 7, seed: 3, data: {kind: paper, d: 4, n: 30}, \
             model: {arch: resnet, depth: 3, width: 12, transform: gaussian}, \
             optim: {method: gd, iters: 40, step: {rule: zou, scale: 4}}}",
        )
        .unwrap();
        let run = config.clone().resolve(Path::new(".")).unwrap();
        let seeds = [0, 3, 10, 12345678901234, u64::MAX];
        let siblings: Vec<ResolvedRun> = run.with_seeds(&seeds).collect();
        for (sibling, &seed) in siblings.iter().zip(&seeds) {
            // The reference: the configuration with this seed, resolved and hashed on its own.
            let alone = RunConfig { seed, ..config.clone() }.resolve(Path::new(".")).unwrap();
            assert_eq!(sibling.id(), alone.id(), "seed {seed}");
            assert_eq!(sibling.config(), alone.config(), "seed {seed}");
            assert_eq!(sibling.canonical_json(), alone.canonical_json(), "seed {seed}");
            assert_eq!(sibling.effective_json(), alone.effective_json(), "seed {seed}");
            assert_eq!(sibling.standalone().config(), alone.config(), "seed {seed}");
            assert_eq!(sibling.config().resolved_id(), sibling.id());
            assert_eq!(sibling.point_run().id(), run.id(), "the point's run is the first seed's");
        }
        assert_eq!(siblings[1].id(), run.id(), "the run's own seed keeps its id");
    }
}
