//! From a network at initialisation to the chain an engine trains.
//!
//! The full engines train every weight of the network; the reduced engines train the
//! zero-initialised ResNet in the subspace col(A) + col(Bᵀ) ([`super::reduced`]), built from the
//! Gram matrix of A and B alone, so no m×m matrix is ever allocated.

use ndarray::Array2;

use super::chain::Chain;
use super::plan::EngineKind;
use super::reduced::reduce;
use crate::error::{ConfigError, RunError};
use crate::model::{Hidden, Network, linear_scales};

impl Chain {
    /// The chain that engine `kind` trains on `network`: the full network, or for the reduced
    /// engines the zero-initialised ResNet reduced to p = dim(col(A) + col(Bᵀ)) dimensions.
    pub fn for_engine(network: Network, kind: EngineKind) -> Result<Chain, RunError> {
        if !kind.is_reduced() {
            return Chain::full(network);
        }
        match network {
            Network::Resnet { gram, hidden: Hidden::Zero { depth, .. }, .. } => {
                let r = reduce(&gram)?;
                let p = r.dim();
                Ok(Chain::resnet(r.a, r.b, vec![Array2::zeros((p, p)); depth]))
            }
            _ => Err(ConfigError::new("engine", format!("{} needs a zero-initialised ResNet", kind.name())).into()),
        }
    }

    /// Every weight of `network` (allocates the hidden m×m matrices of a ResNet); a ResNet whose
    /// A and B were never drawn (`sampling: gram`, refused with these engines at configuration) has
    /// none to train.
    fn full(network: Network) -> Result<Chain, RunError> {
        match network {
            Network::Resnet { transforms, hidden, .. } => {
                let transforms = transforms.ok_or_else(|| {
                    ConfigError::new(
                        "model.transform.sampling",
                        "sampling gram draws only the Gram matrix of A and B; the full engines need A and B",
                    )
                })?;
                let layers = match hidden {
                    Hidden::Zero { depth, width } => vec![Array2::zeros((width, width)); depth],
                    Hidden::Weights(w) => w,
                };
                Ok(Chain::resnet(transforms.a, transforms.b, layers))
            }
            Network::Linear { weights, .. } => {
                let k = weights.last().expect("depth ≥ 1").nrows();
                let m = weights[0].nrows();
                let scales = linear_scales(k, m, weights.len());
                Ok(Chain::linear(weights, scales))
            }
        }
    }
}
