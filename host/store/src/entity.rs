//! The entities psahost syncs and their stable names.

use anyhow::anyhow;
use std::fmt;
use std::str::FromStr;

/// The entities psahost syncs, with stable names (used in store keys, the change feed, the CLI
/// and the API).
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
}

impl Entity {
    /// Every entity, in the order a full connection sync runs them.
    pub const ALL: [Entity; 5] = [
        Entity::Companies,
        Entity::Contacts,
        Entity::Agreements,
        Entity::Configurations,
        Entity::Tickets,
    ];

    /// The stable name (`companies`, `contacts`, `agreements`, `configurations`, `tickets`).
    pub fn name(self) -> &'static str {
        match self {
            Entity::Companies => "companies",
            Entity::Contacts => "contacts",
            Entity::Agreements => "agreements",
            Entity::Configurations => "configurations",
            Entity::Tickets => "tickets",
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

    fn from_str(s: &str) -> anyhow::Result<Entity> {
        Entity::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| {
                anyhow!(
                    "`{s}` is not an entity; entities are: {}",
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
        let err = "company".parse::<Entity>().unwrap_err().to_string();
        assert!(err.contains("companies, contacts"), "{err}");
        assert_eq!(
            serde_json::to_value(Entity::Tickets).unwrap(),
            json!("tickets")
        );
    }
}
