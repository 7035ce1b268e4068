//! Which replica should own which connection: rendezvous (highest random weight) hashing over
//! the live replicas.
//!
//! Every replica computes the same assignment from the same inputs (the configured connections
//! and the live replicas, both read from the shared store), so no coordinator is needed: a
//! replica takes the leases of the connections assigned to it and releases the others. The
//! spread is even (each connection picks the replica with the highest hash of the pair), and a
//! replica joining or leaving moves only the connections it gains or loses: about 1/N of them,
//! never a reshuffle of the rest.

use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The weight of `replica` for `connection`: the first 8 bytes of SHA-256 over both, with a
/// separator no id contains, so `("ab", "c")` and `("a", "bc")` differ.
fn weight(connection: &str, replica: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(connection.as_bytes());
    h.update([0u8]);
    h.update(replica.as_bytes());
    let d = h.finalize();
    u64::from_be_bytes(d[..8].try_into().expect("a digest has 8 bytes"))
}

/// The replica that should own `connection` among `replicas`; none when there is none.
/// Ties (equal weights) go to the smallest replica name, so every replica agrees.
pub fn owner_of<'a>(connection: &str, replicas: &'a BTreeSet<String>) -> Option<&'a str> {
    replicas
        .iter()
        .map(|r| (weight(connection, r), std::cmp::Reverse(r.as_str())))
        .max()
        .map(|(_, std::cmp::Reverse(r))| r)
}

/// What `me` should do, given the connections, the live replicas (`me` among them) and the
/// leases `me` holds: the connections to take and the ones to give up.
pub fn plan<'a>(
    connections: impl IntoIterator<Item = &'a str>,
    replicas: &BTreeSet<String>,
    me: &str,
    held: &BTreeSet<String>,
) -> Plan {
    let mut plan = Plan::default();
    let mut mine = BTreeSet::new();
    for c in connections {
        if owner_of(c, replicas) == Some(me) {
            mine.insert(c.to_string());
            if !held.contains(c) {
                plan.take.push(c.to_string());
            }
        }
    }
    plan.give_up = held.difference(&mine).cloned().collect();
    plan
}

/// The changes of leases one replica should make.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Connections assigned to the replica whose lease it does not hold yet.
    pub take: Vec<String>,
    /// Leases it holds of connections assigned to another replica (or no longer configured).
    pub give_up: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replicas(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn connections(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("tenant-{i}")).collect()
    }

    fn assignment(conns: &[String], reps: &BTreeSet<String>) -> Vec<String> {
        conns
            .iter()
            .map(|c| owner_of(c, reps).unwrap().to_string())
            .collect()
    }

    #[test]
    fn the_spread_is_even() {
        let conns = connections(3000);
        let reps = replicas(&["replica-a", "replica-b", "replica-c"]);
        let owners = assignment(&conns, &reps);
        for r in &reps {
            let n = owners.iter().filter(|o| *o == r).count();
            // 1,000 each on average; rendezvous hashing keeps every share within a few percent.
            assert!((900..=1100).contains(&n), "{r}: {n} of 3000");
        }
    }

    #[test]
    fn a_replica_leaving_or_joining_moves_only_its_own_connections() {
        let conns = connections(3000);
        let three = replicas(&["replica-a", "replica-b", "replica-c"]);
        let two = replicas(&["replica-a", "replica-b"]);
        let before = assignment(&conns, &three);
        let after = assignment(&conns, &two);
        for (b, a) in before.iter().zip(&after) {
            if b != "replica-c" {
                assert_eq!(a, b, "a connection of a survivor stayed where it was");
            }
        }
        // Joining again: only the connections that move to the newcomer move.
        let back = assignment(&conns, &three);
        assert_eq!(back, before);
        let moved = before.iter().zip(&after).filter(|(b, a)| b != a).count();
        assert!((900..=1100).contains(&moved), "{moved} moved");
    }

    #[test]
    fn every_replica_agrees_and_plans_take_and_give_up() {
        let conns = connections(12);
        let reps = replicas(&["a", "b"]);
        let names: Vec<&str> = conns.iter().map(String::as_str).collect();
        let pa = plan(names.iter().copied(), &reps, "a", &BTreeSet::new());
        let pb = plan(names.iter().copied(), &reps, "b", &BTreeSet::new());
        let mut all: Vec<String> = pa.take.iter().chain(&pb.take).cloned().collect();
        all.sort();
        let mut expected = conns.clone();
        expected.sort();
        assert_eq!(all, expected, "each connection exactly once");
        // `a` holds everything (it was alone): it gives up exactly b's share, takes nothing.
        let held: BTreeSet<String> = conns.iter().cloned().collect();
        let pa = plan(names.iter().copied(), &reps, "a", &held);
        assert!(pa.take.is_empty());
        assert_eq!(pa.give_up, {
            let mut b = pb.take.clone();
            b.sort();
            b
        });
        // No replica at all: nobody owns anything.
        assert_eq!(owner_of("x", &BTreeSet::new()), None);
    }

    #[test]
    fn the_pair_is_hashed_unambiguously() {
        assert_ne!(weight("ab", "c"), weight("a", "bc"));
    }
}
