//! The Express concurrency limit: a count of the executions running against the limit, and a
//! [`Notify`] for the starts that wait for room.
//!
//! Not tokio's `Semaphore`, measured: an uncontended permit taken and given back cost a
//! synchronous Express execution about 45 ns of its ~180 (`express_overhead`, three
//! alternating runs: 175–181 ns per execution with it, 124–140 ns with no limit at all), most
//! of it the lock the semaphore takes to give a permit back. Here a start that finds room
//! takes it with one compare-and-swap and gives it back with one subtraction and a `Notify`
//! that only locks when a start is waiting. What the semaphore had and this has not is
//! first-come-first-served order among waiting starts: when the limit is reached, a waiting
//! start may be overtaken by a newer one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// How many Express executions may run at once, and how many do.
#[derive(Debug)]
pub(crate) struct Admission {
    limit: usize,
    running: AtomicUsize,
    room: Notify,
}

impl Admission {
    /// At most `limit` at once.
    pub(super) fn new(limit: usize) -> Self {
        Admission {
            limit,
            running: AtomicUsize::new(0),
            room: Notify::new(),
        }
    }

    /// The limit.
    pub(super) fn limit(&self) -> usize {
        self.limit
    }

    /// Takes room for one more execution, if there is some.
    fn try_enter(&self) -> bool {
        let mut running = self.running.load(Ordering::Relaxed);
        loop {
            if running >= self.limit {
                return false;
            }
            match self.running.compare_exchange_weak(
                running,
                running + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => running = now,
            }
        }
    }

    /// Room for one more execution, held until the guard drops; `None` if there is none now.
    pub(super) fn try_admit<A: AsRef<Admission>>(admission: A) -> Option<Admitted<A>> {
        // Not `then_some`: a guard made and dropped for nothing would give back room never taken.
        if admission.as_ref().try_enter() {
            Some(Admitted(admission))
        } else {
            None
        }
    }

    /// Room for one more execution, waiting for it if need be.
    pub(super) async fn admit<A: AsRef<Admission>>(admission: A) -> Admitted<A> {
        loop {
            let this = admission.as_ref();
            if this.try_enter() {
                break;
            }
            // Registered before looking again, so that room made in between wakes it.
            let room = this.room.notified();
            let mut room = std::pin::pin!(room);
            room.as_mut().enable();
            if this.try_enter() {
                break;
            }
            room.await;
        }
        Admitted(admission)
    }
}

impl AsRef<Admission> for Admission {
    fn as_ref(&self) -> &Admission {
        self
    }
}

/// Room for one Express execution, given back when dropped: borrowed (`&Admission`) by an
/// execution that runs in its caller, owned (`Arc<Admission>`) by one that runs in the
/// background.
#[derive(Debug)]
pub(crate) struct Admitted<A: AsRef<Admission> = Arc<Admission>>(A);

impl<A: AsRef<Admission>> Drop for Admitted<A> {
    fn drop(&mut self) {
        let admission = self.0.as_ref();
        admission.running.fetch_sub(1, Ordering::Release);
        // Without a waiting start this stores a wake-up for the next one to wait, which then
        // looks again and finds room or waits anew: no lock taken.
        admission.room.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_taken_up_to_the_limit_and_given_back_on_drop() {
        let admission = Admission::new(2);
        let first = Admission::try_admit(&admission).expect("room");
        let second = Admission::try_admit(&admission).expect("room");
        assert!(Admission::try_admit(&admission).is_none(), "full");
        drop(first);
        let third = Admission::try_admit(&admission).expect("room again");
        drop((second, third));
        assert_eq!(admission.running.load(Ordering::Relaxed), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiting_starts_get_in_as_room_is_made_and_never_beyond_the_limit() {
        let admission = Arc::new(Admission::new(3));
        let most = Arc::new(AtomicUsize::new(0));
        let runs = (0..200).map(|_| {
            let admission = Arc::clone(&admission);
            let most = Arc::clone(&most);
            tokio::spawn(async move {
                let admitted = Admission::admit(Arc::clone(&admission)).await;
                let running = admission.running.load(Ordering::Relaxed);
                most.fetch_max(running, Ordering::Relaxed);
                tokio::task::yield_now().await;
                drop(admitted);
            })
        });
        for run in futures_util::future::join_all(runs).await {
            run.expect("ran");
        }
        assert!(most.load(Ordering::Relaxed) <= 3);
        assert_eq!(admission.running.load(Ordering::Relaxed), 0);
    }
}
