//! Where the random intrinsic functions (`States.UUID`, `States.MathRandom` without a seed)
//! draw from. A durable execution that resumes runs its states again, replaying what it
//! recorded: what a state works out must come out the same, so its draws are seeded by the
//! state's visit (the execution, the state, the id of its entry) rather than taken from the
//! operating system.

use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

/// The draws of one state visit: the same seed gives the same values, in order.
#[derive(Debug)]
pub struct Draws {
    seed: u64,
    drawn: AtomicU64,
}

impl Draws {
    /// The draws of the visit that `parts` (the execution, the state, its entry) identify.
    pub fn for_visit(parts: &[&[u8]]) -> Self {
        let mut hash = Sha256::new();
        for part in parts {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        let digest = hash.finalize();
        let mut seed = [0_u8; 8];
        seed.copy_from_slice(&digest[..8]);
        Draws {
            seed: u64::from_le_bytes(seed),
            drawn: AtomicU64::new(0),
        }
    }

    /// A generator for the next draw.
    pub(crate) fn next(&self) -> fastrand::Rng {
        let n = self.drawn.fetch_add(1, Ordering::Relaxed);
        fastrand::Rng::with_seed(self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_draws_the_same_values_again_and_another_visit_others() {
        let first = Draws::for_visit(&[b"execution", b"State", b"3"]);
        let again = Draws::for_visit(&[b"execution", b"State", b"3"]);
        let other = Draws::for_visit(&[b"execution", b"State", b"7"]);
        let values = |draws: &Draws| (draws.next().u64(..), draws.next().u64(..));
        let (a, b) = values(&first);
        assert_ne!(a, b, "two draws of one visit differ");
        assert_eq!(values(&again), (a, b));
        assert_ne!(values(&other), (a, b));
    }
}
