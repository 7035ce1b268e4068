//! The entities psahost syncs and their stable names.

use anyhow::{anyhow, bail};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

/// What psahost syncs, with stable names (used in store keys, the change feed, the CLI and the
/// API): the contract's five typed entities, and the connectors' datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    /// Companies (accounts): `companies`.
    Companies,
    /// Contacts: `contacts`.
    Contacts,
    /// Agreements (contracts) with their lines: `agreements`.
    Agreements,
    /// Configuration items: `configurations`.
    Configurations,
    /// Service tickets: `tickets`.
    Tickets,
    /// A connector's dataset (`time-entries`): records as the PSA's JSON with an id and a time.
    Dataset(Dataset),
}

/// The name of a dataset (`time-entries`, `sla-results`): lowercase kebab-case, at most
/// [`Dataset::MAX_LEN`] bytes, never a typed entity's name. Names are interned (a dataset is
/// as cheap to copy as a typed entity) and their number is bounded by [`Dataset::MAX_NAMES`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dataset(&'static str);

/// Every dataset name seen by this process. Interned names live as long as the process: the
/// bound keeps that finite whatever connectors declare or clients ask for.
static DATASET_NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

impl Dataset {
    /// The longest dataset name, in bytes.
    pub const MAX_LEN: usize = 64;
    /// The most distinct dataset names one process keeps.
    pub const MAX_NAMES: usize = 65_536;

    /// The dataset called `name`, checked.
    pub fn new(name: &str) -> anyhow::Result<Dataset> {
        let kebab = !name.is_empty()
            && name.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if !kebab || name.len() > Dataset::MAX_LEN {
            let shown: String = name.chars().take(Dataset::MAX_LEN + 1).collect();
            bail!(
                "`{}` is not a dataset name: names are lowercase kebab-case of at most {} bytes (like `time-entries`)",
                shown.escape_debug(),
                Dataset::MAX_LEN
            );
        }
        if Entity::ALL.iter().any(|e| e.name() == name) {
            bail!("`{name}` is a typed entity's name, not a dataset's");
        }
        let mut names = DATASET_NAMES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(interned) = names.get(name) {
            return Ok(Dataset(interned));
        }
        if names.len() >= Dataset::MAX_NAMES {
            bail!(
                "too many distinct dataset names in this process (at most {}): `{name}` is refused",
                Dataset::MAX_NAMES
            );
        }
        let interned: &'static str = Box::leak(name.to_string().into_boxed_str());
        names.insert(interned);
        Ok(Dataset(interned))
    }

    /// The name.
    pub fn name(self) -> &'static str {
        self.0
    }
}

impl fmt::Debug for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dataset({})", self.0)
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Entity {
    /// Every typed entity, in the order a full connection sync runs them.
    pub const ALL: [Entity; 5] = [
        Entity::Companies,
        Entity::Contacts,
        Entity::Agreements,
        Entity::Configurations,
        Entity::Tickets,
    ];

    /// The stable name (`companies`, `contacts`, `agreements`, `configurations`, `tickets`,
    /// or the dataset's).
    pub fn name(self) -> &'static str {
        match self {
            Entity::Companies => "companies",
            Entity::Contacts => "contacts",
            Entity::Agreements => "agreements",
            Entity::Configurations => "configurations",
            Entity::Tickets => "tickets",
            Entity::Dataset(d) => d.name(),
        }
    }

    /// The dataset, if this is one.
    pub fn dataset(self) -> Option<Dataset> {
        match self {
            Entity::Dataset(d) => Some(d),
            _ => None,
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Entity {
    type Err = anyhow::Error;

    /// A typed entity's name, or a dataset's.
    fn from_str(s: &str) -> anyhow::Result<Entity> {
        if let Some(e) = Entity::ALL.into_iter().find(|e| e.name() == s) {
            return Ok(e);
        }
        Dataset::new(s).map(Entity::Dataset).map_err(|e| {
            anyhow!(
                "`{}` is neither an entity ({}) nor a dataset name: {e}",
                s.chars()
                    .take(Dataset::MAX_LEN + 1)
                    .collect::<String>()
                    .escape_debug(),
                Entity::ALL.map(Entity::name).join(", ")
            )
        })
    }
}

impl serde::Serialize for Entity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Entity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Entity, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entity_names_are_stable() {
        for e in Entity::ALL {
            assert_eq!(e.name().parse::<Entity>().unwrap(), e);
        }
        assert_eq!(Entity::Configurations.to_string(), "configurations");
        let err = "Company".parse::<Entity>().unwrap_err().to_string();
        assert!(err.contains("companies, contacts"), "{err}");
        let time = "time-entries".parse::<Entity>().unwrap();
        assert_eq!(time, Entity::Dataset(Dataset::new("time-entries").unwrap()));
        assert_eq!(time.name(), "time-entries");
        assert_eq!(serde_json::to_value(time).unwrap(), json!("time-entries"));
        for bad in ["", "Time", "time_entries", "-x", "x--y", &"a".repeat(65)] {
            assert!(Dataset::new(bad).is_err(), "{bad:?}");
        }
        assert!(Dataset::new("tickets").is_err());
        assert_eq!(
            serde_json::to_value(Entity::Tickets).unwrap(),
            json!("tickets")
        );
    }
}
