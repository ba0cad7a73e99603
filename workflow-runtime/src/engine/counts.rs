//! The retry counts of one visit to a state.

use std::time::Duration;

use workflow_core::retry::Retrier;

/// The retry counts of one visit to a state, one per retrier.
#[derive(Debug, Clone, Default)]
pub(crate) struct RetryCounts {
    counts: Vec<u32>,
    /// The count every retrier starts from: 0, or what a test of one state says.
    start: u32,
}

impl RetryCounts {
    /// Counts whose retriers have each used `start` retries already.
    pub(crate) fn starting_at(start: u32) -> Self {
        RetryCounts {
            counts: Vec::new(),
            start,
        }
    }

    /// If a retrier in `retriers` applies to `error` and has retries left, counts the retry and
    /// returns its delay. The first matching retrier decides, even when it is used up.
    pub(crate) fn next_delay(&mut self, retriers: &[Retrier], error: &str) -> Option<Duration> {
        let (index, retrier) = retriers
            .iter()
            .enumerate()
            .find(|(_, retrier)| retrier.matches(error))?;
        if self.counts.len() < retriers.len() {
            self.counts.resize(retriers.len(), self.start);
        }
        let count = &mut self.counts[index];
        if *count >= retrier.max_attempts {
            return None;
        }
        *count += 1;
        Some(retrier.jittered_delay(*count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retrier(errors: &[&str], interval_ms: u64, max_attempts: u32, backoff_rate: f64) -> Retrier {
        let mut retrier = Retrier::new(errors.iter().map(|e| (*e).to_owned()).collect());
        retrier.interval = Duration::from_millis(interval_ms);
        retrier.max_attempts = max_attempts;
        retrier.backoff_rate = backoff_rate;
        retrier
    }

    fn delays(retriers: &[Retrier], errors: &[&str]) -> Vec<Option<Duration>> {
        let mut counts = RetryCounts::default();
        errors
            .iter()
            .map(|error| counts.next_delay(retriers, error))
            .collect()
    }

    #[test]
    fn max_attempts_zero_never_retries() {
        assert_eq!(delays(&[retrier(&["E"], 1000, 0, 2.0)], &["E"]), [None]);
    }

    #[test]
    fn each_retrier_keeps_its_own_count() {
        // The scenario of the Step Functions guide: errors A, B, C, B against
        // [A|B: 1 s ×2, max 2] and [C: 5 s]; the second B finds its retrier used up.
        let retriers = [
            retrier(&["A", "B"], 1000, 2, 2.0),
            retrier(&["C"], 5000, 3, 2.0),
        ];
        let got = delays(&retriers, &["A", "B", "C", "B"]);
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(got, [secs(1), secs(2), secs(5), None]);
    }

    #[test]
    fn first_matching_retrier_decides_even_when_used_up() {
        let retriers = [
            retrier(&["E"], 1000, 1, 2.0),
            retrier(&["States.ALL"], 7000, 5, 2.0),
        ];
        let got = delays(&retriers, &["E", "E"]);
        assert_eq!(got, [Some(Duration::from_secs(1)), None]);
    }
}
