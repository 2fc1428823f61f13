//! How much of a run happens at once: at most so many builds, and so many probes (`--jobs`),
//! each kind with a limit of its own so that a build waiting on the network never holds back a
//! probe, and the reverse.
//!
//! A probe's slot is numbered, and the number is handed to the probe, which pins its timed
//! runs to a CPU chosen by it. Without it every probe pinned its timed runs to the lowest CPU
//! it could use, the same one for all of them, so two probes at once timed each other: the
//! controls of a seed run came out at one of two speeds, 0.17 s or 0.34 s, by whether another
//! probe's timed runs met them there.

use std::collections::BTreeSet;
use std::sync::Mutex;

use tokio::sync::{Semaphore, SemaphorePermit};

/// The run's slots.
pub(crate) struct Slots {
    pub builds: Semaphore,
    pub probes: ProbeSlots,
}

impl Slots {
    pub fn new(parallel: usize) -> Self {
        Slots { builds: Semaphore::new(parallel), probes: ProbeSlots::new(parallel) }
    }
}

/// Numbered probe slots, 0 to the limit less one; a probe is given the lowest free one.
pub(crate) struct ProbeSlots {
    permits: Semaphore,
    free: Mutex<BTreeSet<usize>>,
}

/// A probe slot held: its number, given back when it is dropped.
pub(crate) struct ProbeSlot<'a> {
    _permit: SemaphorePermit<'a>,
    number: usize,
    free: &'a Mutex<BTreeSet<usize>>,
}

impl ProbeSlots {
    fn new(n: usize) -> Self {
        ProbeSlots { permits: Semaphore::new(n), free: Mutex::new((0..n).collect()) }
    }

    pub async fn acquire(&self) -> ProbeSlot<'_> {
        let permit = self.permits.acquire().await.expect("slots are never closed");
        // A permit held means a number is free: there are as many numbers as permits.
        let number = self.free.lock().expect("slot numbers").pop_first().expect("a free slot number for every permit");
        ProbeSlot { _permit: permit, number, free: &self.free }
    }
}

impl ProbeSlot<'_> {
    pub fn number(&self) -> usize {
        self.number
    }
}

impl Drop for ProbeSlot<'_> {
    fn drop(&mut self) {
        // The number goes back before the permit (a field, dropped after this), so whoever
        // takes the permit next finds it free.
        self.free.lock().expect("slot numbers").insert(self.number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn probes_at_once_hold_different_numbers_and_a_number_given_back_is_taken_again() {
        let slots = ProbeSlots::new(3);
        let a = slots.acquire().await;
        let b = slots.acquire().await;
        let c = slots.acquire().await;
        let mut held = vec![a.number(), b.number(), c.number()];
        held.sort();
        assert_eq!(held, vec![0, 1, 2]);
        // A fourth waits while three are held, then takes the number given back.
        let given_back = b.number();
        let fourth = slots.acquire();
        tokio::pin!(fourth);
        assert!(futures_util::poll!(&mut fourth).is_pending());
        drop(b);
        let d = fourth.await;
        assert_eq!(d.number(), given_back);
        drop((a, c, d));
        // All free again: the lowest is given first.
        assert_eq!(slots.acquire().await.number(), 0);
    }
}
