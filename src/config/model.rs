//! The `model` section: the network and, for the ResNet, its fixed transformations.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use super::{
    Dims, EngineChoice, MAGNITUDE, check_at_least, check_magnitude, check_non_negative, check_positive, one, rule,
};
use crate::error::ConfigError;
use crate::matrix_file::MatrixFile;
use crate::number::float_text;

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
    /// `gaussian`: draw A and B (`explicit`, the default, left out of the canonical form so that
    /// run ids do not change), or only their Gram matrix (`gram`).
    #[serde(default, skip_serializing_if = "Sampling::is_explicit")]
    pub sampling: Sampling,
}

/// How Gaussian transformations are drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampling {
    /// A (m×d) and B (k×m) entry by entry: O(m(d + k)) draws, every engine applies.
    #[default]
    Explicit,
    /// Only G = MᵀM for M = [A, Bᵀ], from its Wishart law: O((d + k)²) draws at any width. Only the
    /// reduced engines, which need nothing but G, can train it.
    Gram,
}

impl Sampling {
    pub fn is_explicit(&self) -> bool {
        *self == Sampling::Explicit
    }

    pub fn name(self) -> &'static str {
        match self {
            Sampling::Explicit => "explicit",
            Sampling::Gram => "gram",
        }
    }
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
        TransformConfig {
            kind,
            a_scale: 1.0,
            b_scale: 1.0,
            sigma_a2: None,
            sigma_b2: None,
            a: None,
            b: None,
            sampling: Sampling::Explicit,
        }
    }
}

impl ModelConfig {
    /// `sampling: gram` leaves no A or B to train: only a zero-initialised ResNet on a reduced
    /// engine (or `auto`, which then reduces) can use it.
    pub(super) fn check_sampling(&self, engine: EngineChoice) -> Result<(), ConfigError> {
        const FIELD: &str = "model.transform.sampling";
        if self.transform.as_ref().is_none_or(|t| t.sampling.is_explicit()) {
            return Ok(());
        }
        let init_std = self.init_std.unwrap_or(0.0);
        if init_std > 0.0 {
            return Err(rule(
                FIELD,
                format!(
                    "sampling gram draws only the Gram matrix of A and B, which trains a zero-initialised \
                     ResNet only, but init_std = {} (use sampling explicit)",
                    float_text(init_std)
                ),
            ));
        }
        match engine {
            EngineChoice::Dense | EngineChoice::Gram => Err(rule(
                FIELD,
                format!(
                    "sampling gram draws only the Gram matrix of A and B, but engine {} trains A and B \
                     themselves (use engine auto, reduced, reduced_dense or reduced_gram, or sampling explicit)",
                    engine.name()
                ),
            )),
            _ => Ok(()),
        }
    }

    pub(super) fn resolve(&mut self, dims: Dims, base: &Path) -> Result<(), ConfigError> {
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
                check_magnitude("model.init_std", init_std, MAGNITUDE, true)?;
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
            if v == 0.0 {
                return Err(rule(field, "must be nonzero (a zero map makes the network constant)"));
            }
            // Entries of A and B enter the Gram matrix squared, and products of the two to the fourth.
            check_magnitude(field, v, (1e-50, 1e50), false)?;
        }
        if self.kind != TransformKind::Gaussian {
            self.sigma_a2 = None;
            self.sigma_b2 = None;
            self.sampling = Sampling::Explicit;
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
            // In u128: d and k come from input, and their sum may exceed usize.
            TransformKind::ModifiedIdentity if (m as u128) < d as u128 + k as u128 => Err(rule(
                "model.width",
                format!("modified_identity needs m ≥ d + k = {}, got m = {m}", d as u128 + k as u128),
            )),
            TransformKind::Gaussian => {
                // Derived defaults (1/m, 1/k) stay unset, so editing the width of a resolved run
                // changes them with it.
                let va = self.sigma_a2.unwrap_or(1.0 / m as f64);
                let vb = self.sigma_b2.unwrap_or(1.0 / k as f64);
                for (field, v) in [("model.transform.sigma_a2", va), ("model.transform.sigma_b2", vb)] {
                    check_positive(field, v)?;
                    check_magnitude(field, v, MAGNITUDE, false)?;
                }
                Ok(())
            }
            TransformKind::File => {
                resolve_matrix(&mut self.a, "model.transform.a", "A", (m, d), "m×d", base)?;
                resolve_matrix(&mut self.b, "model.transform.b", "B", (k, m), "k×m", base)
            }
            _ => Ok(()),
        }
    }
}

/// Resolves a matrix file of a `file` transformation and checks its shape (`rows`×`cols`,
/// described as `dims`, e.g. "m×d").
fn resolve_matrix(
    file: &mut Option<MatrixFile>,
    field: &str,
    name: &str,
    (rows, cols): (usize, usize),
    dims: &str,
    base: &Path,
) -> Result<(), ConfigError> {
    let key = field.rsplit('.').next().unwrap_or(field);
    let f =
        file.as_mut().ok_or_else(|| rule(field, format!("transform kind file needs `{key}` (a {dims} .npy file)")))?;
    let shape = f.resolve(field, base)?;
    if shape != (rows, cols) {
        return Err(rule(
            field,
            format!("{name} must be {dims} = {rows}×{cols}, the file holds {}×{}", shape.0, shape.1),
        ));
    }
    Ok(())
}
