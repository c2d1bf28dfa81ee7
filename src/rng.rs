//! Named random streams. Every random draw of a run comes from one of five ChaCha8 streams
//! (`data`, `transform`, `transform_gram`, `init`, `batches`), each seeded by
//!
//! seed = blake3("linres stream v1\0" ‖ canonical JSON {master_seed, seed, stream, params})
//!
//! where `params` holds exactly the configuration that stream depends on. Runs that agree on those
//! parameters draw the same numbers (common random numbers): one seed index gives every run the same
//! data, and runs of equal width and transformation share A and B whatever their depth or optimiser.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

use crate::canonical;
use crate::config::{Arch, Method, ResolvedRun, Sampling};

/// The purposes random numbers are drawn for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Synthetic data: X, the target map, the noise.
    Data,
    /// Gaussian input/output transformations A and B.
    Transform,
    /// The Gram matrix of Gaussian transformations drawn from its Wishart law (`sampling: gram`).
    TransformGram,
    /// Initial weights (the linear network; a ResNet with `init_std` > 0).
    Init,
    /// SGD minibatches.
    Batches,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Data => "data",
            Stream::Transform => "transform",
            Stream::TransformGram => "transform_gram",
            Stream::Init => "init",
            Stream::Batches => "batches",
        }
    }
}

/// A 256-bit ChaCha8 seed, written as 64 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSeed(pub [u8; 32]);

impl StreamSeed {
    /// Derives the seed of `stream` from the experiment's master seed, the seed index and the
    /// parameters the stream depends on.
    pub fn derive(master_seed: u64, seed_index: u64, stream: Stream, params: &Value) -> Self {
        let text = canonical::to_string(
            &json!({"master_seed": master_seed, "seed": seed_index, "stream": stream.name(), "params": params}),
        );
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"linres stream v1\0");
        hasher.update(text.as_bytes());
        StreamSeed(*hasher.finalize().as_bytes())
    }

    /// A fresh generator at the start of the stream.
    pub fn rng(&self) -> ChaCha8Rng {
        ChaCha8Rng::from_seed(self.0)
    }

    pub fn to_hex(&self) -> String {
        canonical::hex(&self.0)
    }
}

impl Serialize for StreamSeed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for StreamSeed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .map(|i| text.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect::<Option<_>>()
            .ok_or_else(|| serde::de::Error::custom("a stream seed is 64 hex digits"))?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| serde::de::Error::custom("a stream seed is 64 hex digits"))?;
        Ok(StreamSeed(arr))
    }
}

/// The seeds of every stream a run uses (`None`: the run draws nothing from that stream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSeeds {
    pub data: StreamSeed,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub transform: Option<StreamSeed>,
    /// The stream of a Gram matrix drawn directly (`sampling: gram`; then `transform` is `None`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub transform_gram: Option<StreamSeed>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub init: Option<StreamSeed>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub batches: Option<StreamSeed>,
}

impl RunSeeds {
    /// The seeds of `run`, each derived from only the parameters its stream depends on:
    /// data ← the data config; transform or transform_gram ← (d, k, m, transformation); init ← (arch, d, k, L, m,
    /// init_std); batches ← (n, b).
    pub fn derive(run: &ResolvedRun) -> Self {
        let c = run.config();
        // Derived defaults written out or not, a run draws the same numbers.
        let canon = run.effective_json();
        let dims = run.dims();
        let seed = |stream, params: Value| StreamSeed::derive(c.master_seed, c.seed, stream, &params);
        let resnet = c.model.arch == Arch::Resnet;
        let gram_sampled = run.transform().is_some_and(|t| t.sampling == Sampling::Gram);
        let transform_seed = |stream| {
            seed(
                stream,
                json!({"d": dims.d, "k": dims.k, "width": c.model.width, "transform": canon["model"]["transform"]}),
            )
        };
        let transform = (resnet && !gram_sampled).then(|| transform_seed(Stream::Transform));
        let transform_gram = (resnet && gram_sampled).then(|| transform_seed(Stream::TransformGram));
        let init = (c.model.arch == Arch::Linear || run.init_std() > 0.0).then(|| {
            seed(
                Stream::Init,
                json!({"arch": canon["model"]["arch"], "d": dims.d, "k": dims.k, "depth": c.model.depth,
                       "width": c.model.width, "init_std": run.init_std()}),
            )
        });
        let batches = (c.optim.method == Method::Sgd)
            .then(|| seed(Stream::Batches, json!({"n": dims.n, "batch": c.optim.batch})));
        RunSeeds { data: seed(Stream::Data, canon["data"].clone()), transform, transform_gram, init, batches }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngExt};
    use rand_distr::StandardNormal;

    /// Golden values: the first draws of a stream seeded from fixed parameters. The seed and the
    /// three u64 words were computed independently by `tests/reference/stream_golden.py` (Python's
    /// `blake3` package and a from-scratch ChaCha8); the normals (rand_distr 0.6's ziggurat) are
    /// pinned as first produced, so that a change of generator or distribution, which would change
    /// every cached result, cannot go unnoticed.
    #[test]
    fn stream_seed_and_first_draws_are_pinned() {
        let seed = StreamSeed::derive(20200302, 0, Stream::Data, &json!({"kind": "paper", "d": 10, "n": 1000}));
        assert_eq!(seed.to_hex(), GOLDEN_SEED);
        let mut rng = seed.rng();
        let words: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(words, GOLDEN_WORDS);
        let normals: Vec<f64> = (0..3).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
        assert_eq!(normals, GOLDEN_NORMALS);
    }

    const GOLDEN_SEED: &str = "6be060aed6419fd69084cc3aa10ecf742c68d88d615e2bf23c7659a266a41d3e";
    const GOLDEN_WORDS: [u64; 3] = [6463771425657680916, 2566870841374194331, 15617406701920455889];
    const GOLDEN_NORMALS: [f64; 3] = [2.593596986165252, 1.2282659149584207, 0.7062186930153264];

    #[test]
    fn every_stream_and_parameter_changes_the_seed() {
        let p = json!({"d": 3});
        let base = StreamSeed::derive(1, 0, Stream::Data, &p);
        assert_ne!(base, StreamSeed::derive(2, 0, Stream::Data, &p));
        assert_ne!(base, StreamSeed::derive(1, 1, Stream::Data, &p));
        assert_ne!(base, StreamSeed::derive(1, 0, Stream::Init, &p));
        assert_ne!(base, StreamSeed::derive(1, 0, Stream::Data, &json!({"d": 4})));
        assert_eq!(base, StreamSeed::derive(1, 0, Stream::Data, &json!({"d": 3})));
    }

    #[test]
    fn seed_hex_round_trips() {
        let seed = StreamSeed::derive(7, 3, Stream::Batches, &json!(null));
        let text = serde_json::to_string(&seed).unwrap();
        assert_eq!(serde_json::from_str::<StreamSeed>(&text).unwrap(), seed);
        assert!(serde_json::from_str::<StreamSeed>("\"abc\"").is_err());
    }
}
