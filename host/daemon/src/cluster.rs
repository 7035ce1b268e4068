//! Which replica should own which connection: rendezvous (highest random weight) hashing over
//! the live replicas, with bounded loads.
//!
//! Every replica computes the same assignment from the same inputs (the configured connections
//! and the live replicas, both read from the shared store), so no coordinator is needed: a
//! replica takes the leases of the connections assigned to it and releases the others.
//!
//! Each connection, in name order, goes to the replica with the highest hash of the pair that
//! still has room; room is what makes the spread exactly even: with C connections over R
//! replicas every replica gets C/R, rounded down or up (plain rendezvous hashing leaves 4
//! connections over 3 replicas as 3, 1 and 0 as readily as 2, 1 and 1). A replica joining or
//! leaving moves about the connections it gains or loses (1/R of them) and, through the room,
//! a few more; never a reshuffle of the rest.

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

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

/// The owner of each of `connections` among `replicas` (see the module documentation); empty
/// when there is no replica. Ties (equal weights) go to the smallest replica name, so every
/// replica agrees.
pub fn assignment<'a>(
    connections: impl IntoIterator<Item = &'a str>,
    replicas: &BTreeSet<String>,
) -> BTreeMap<String, String> {
    let connections: BTreeSet<&str> = connections.into_iter().collect();
    let mut out = BTreeMap::new();
    if replicas.is_empty() {
        return out;
    }
    let (floor, extra) = (
        connections.len() / replicas.len(),
        connections.len() % replicas.len(),
    );
    let mut load: BTreeMap<&str, usize> = replicas.iter().map(|r| (r.as_str(), 0)).collect();
    // Replicas that took one more than `floor`: `extra` of them may.
    let mut above = 0;
    for c in connections {
        let mut ranked: Vec<(u64, std::cmp::Reverse<&str>)> = replicas
            .iter()
            .map(|r| (weight(c, r), std::cmp::Reverse(r.as_str())))
            .collect();
        ranked.sort_unstable_by(|a, b| b.cmp(a));
        let chosen = ranked
            .into_iter()
            .map(|(_, std::cmp::Reverse(r))| r)
            .find(|r| load[r] < floor || (load[r] == floor && above < extra))
            .expect("the rooms add up to the connections");
        if load[chosen] == floor {
            above += 1;
        }
        *load.get_mut(chosen).expect("a replica") += 1;
        out.insert(c.to_string(), chosen.to_string());
    }
    out
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
    for (c, owner) in assignment(connections, replicas) {
        if owner == me {
            if !held.contains(&c) {
                plan.take.push(c.clone());
            }
            mine.insert(c);
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

    fn owners(conns: &[String], reps: &BTreeSet<String>) -> Vec<String> {
        let all = assignment(conns.iter().map(String::as_str), reps);
        conns.iter().map(|c| all[c].clone()).collect()
    }

    #[test]
    fn the_spread_is_exactly_even() {
        for (n, names) in [
            (3000, &["replica-a", "replica-b", "replica-c"][..]),
            (4, &["replica-1", "replica-2", "replica-3"][..]),
            (7, &["a", "b"][..]),
            (2, &["a", "b", "c", "d"][..]),
        ] {
            let conns = connections(n);
            let reps = replicas(names);
            let owners = owners(&conns, &reps);
            let (floor, ceil) = (n / reps.len(), n.div_ceil(reps.len()));
            for r in &reps {
                let got = owners.iter().filter(|o| *o == r).count();
                assert!(
                    (floor..=ceil).contains(&got),
                    "{r}: {got} of {n} over {}",
                    reps.len()
                );
            }
        }
    }

    #[test]
    fn a_replica_leaving_or_joining_moves_little_more_than_its_own_connections() {
        let conns = connections(3000);
        let three = replicas(&["replica-a", "replica-b", "replica-c"]);
        let two = replicas(&["replica-a", "replica-b"]);
        let before = owners(&conns, &three);
        let after = owners(&conns, &two);
        let lost = before.iter().filter(|b| *b == "replica-c").count();
        let moved = before.iter().zip(&after).filter(|(b, a)| b != a).count();
        // c's 1,000 must move; the room moves a few of the survivors' own.
        assert!(
            (lost..=lost + 150).contains(&moved),
            "{moved} moved, {lost} were c's"
        );
        // Joining again gives the same assignment as before it left.
        assert_eq!(owners(&conns, &three), before);
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
        assert!(assignment(["x"], &BTreeSet::new()).is_empty());
    }

    #[test]
    fn the_pair_is_hashed_unambiguously() {
        assert_ne!(weight("ab", "c"), weight("a", "bc"));
    }
}
