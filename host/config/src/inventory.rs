//! `[connections.ID.inventory]`: inventory sync settings, raw then validated into
//! [`InventorySettings`]. What the operator must decide has no default: the identifiers (and
//! where the host name is looked for), creating configurations, and each matching and status
//! option.
//!
//! ```toml
//! [connections.acme.inventory]
//! identifiers = ["serial-number", "host-name"]  # priority order; host-name and device-name
//! host-name-in = "notes"          # (not both); host-name-in: "notes" or "name"
//! create-missing = true           # create a configuration when nothing matches
//! use-type-when-matching = false  # a match must have the type the device's class maps to
//! only-active = true              # only active configurations match
//! only-managed = true             # unmanaged devices are not synced
//! mark-active = "Active"          # false, true (the active flag only), or a status name/id
//! inactivate-on-delete = "Inactive"  # the same, for a deleted device's configuration
//! auto-makes = true               # optional: map new makes to equal-named vendors/manufacturers
//! create-extra = { productID = 7 }   # optional: PSA fields of every created configuration
//!
//! [connections.acme.inventory.classes]      # device class -> configuration type (name or id)
//! firewall = "Firewall"
//!
//! [connections.acme.inventory.makes]        # make -> vendor and/or manufacturer
//! Cisco = { manufacturer = "Cisco" }
//!
//! [connections.acme.inventory.companies]    # organisation -> PSA company id (else the
//! "org-7" = "19"                            # stored customer link)
//!
//! [[connections.acme.inventory.fields]]     # field sync, to every type ...
//! device = "ip-address"
//! configuration = "ip-address"
//! [[connections.acme.inventory.fields]]     # ... or to a question of one type
//! device = "value:firmware"
//! type = "Firewall"
//! question = "Firmware version"
//! question-id = "40"                        # ConnectWise needs the question's id
//! ```

use super::Validator;
use psahost_matching::normalize::fold;
use psahost_workflows::inventory::settings::{
    ConfigurationField, DeviceField, FieldMapping, HostNameField, Identifier, InventorySettings,
    MakeMapping, StatusChange, Target,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The most field mappings, class mappings, make mappings or company mappings of one
/// connection.
pub const MAX_MAPPINGS: usize = 10_000;

/// `[connections.ID.inventory]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawInventory {
    identifiers: Spanned<Vec<Spanned<String>>>,
    host_name_in: Option<Spanned<String>>,
    create_missing: bool,
    use_type_when_matching: bool,
    only_active: bool,
    only_managed: bool,
    mark_active: Spanned<RawStatusOption>,
    inactivate_on_delete: Spanned<RawStatusOption>,
    #[serde(default)]
    auto_makes: bool,
    create_extra: Option<toml::Table>,
    #[serde(default)]
    classes: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    makes: BTreeMap<String, Spanned<RawMake>>,
    #[serde(default)]
    companies: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    fields: Vec<Spanned<RawField>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawStatusOption {
    Flag(bool),
    Status(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawMake {
    vendor: Option<String>,
    manufacturer: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawField {
    device: String,
    configuration: Option<String>,
    #[serde(rename = "type")]
    configuration_type: Option<String>,
    question: Option<String>,
    question_id: Option<String>,
}

fn status_option(raw: &RawStatusOption) -> Option<StatusChange> {
    match raw {
        RawStatusOption::Flag(false) => None,
        RawStatusOption::Flag(true) => Some(StatusChange { status: None }),
        RawStatusOption::Status(s) => Some(StatusChange {
            status: Some(s.trim().to_string()),
        }),
    }
}

impl Validator<'_> {
    /// Validates `[connections.ID.inventory]` (`field` names it in errors).
    pub(crate) fn inventory(
        &self,
        raw: &RawInventory,
        field: &str,
    ) -> anyhow::Result<InventorySettings> {
        let f = |name: &str| format!("{field}.{name}");
        let host_in = match &raw.host_name_in {
            None => None,
            Some(v) => {
                match v.get_ref().as_str() {
                    "notes" => Some(HostNameField::Notes),
                    "name" => Some(HostNameField::Name),
                    other => {
                        return self.error(
                        v.span(),
                        &f("host-name-in"),
                        format!("`{other}` is not a place for the host name: use \"notes\" or \"name\""),
                    );
                    }
                }
            }
        };
        let mut identifiers = Vec::new();
        for v in raw.identifiers.get_ref() {
            let id = match v.get_ref().as_str() {
                "serial-number" => Identifier::SerialNumber,
                "device-name" => Identifier::DeviceName,
                "host-name" => match host_in {
                    Some(h) => Identifier::HostName(h),
                    None => {
                        return self.error(
                            v.span(),
                            &f("identifiers"),
                            "`host-name` needs `host-name-in`: say whether the PSA holds the host name in the configuration's \"notes\" or its \"name\"",
                        );
                    }
                },
                other => {
                    return self.error(
                        v.span(),
                        &f("identifiers"),
                        format!("`{other}` is not an identifier: use serial-number, host-name or device-name"),
                    );
                }
            };
            if identifiers
                .iter()
                .any(|i: &Identifier| i.name() == id.name())
            {
                return self.error(
                    v.span(),
                    &f("identifiers"),
                    format!(
                        "`{}` is listed twice: list each identifier once, in priority order",
                        id.name()
                    ),
                );
            }
            identifiers.push(id);
        }
        if identifiers.is_empty() {
            return self.error(
                raw.identifiers.span(),
                &f("identifiers"),
                "no identifier: list serial-number, host-name and/or device-name in priority order",
            );
        }
        let has = |n: &str| identifiers.iter().any(|i| i.name() == n);
        if has("host-name") && has("device-name") {
            return self.error(
                raw.identifiers.span(),
                &f("identifiers"),
                "`host-name` and `device-name` cannot both be identifiers (both compare names): keep one of them",
            );
        }
        if let (Some(v), false) = (&raw.host_name_in, has("host-name")) {
            return self.error(
                v.span(),
                &f("host-name-in"),
                "`host-name` is not an identifier: remove `host-name-in` or add `host-name` to `identifiers`",
            );
        }

        let too_many = |n: usize, name: &str| -> anyhow::Result<()> {
            if n > MAX_MAPPINGS {
                return self.error(0..0, &f(name), format!("{n} entries, over {MAX_MAPPINGS}"));
            }
            Ok(())
        };
        too_many(raw.classes.len(), "classes")?;
        too_many(raw.makes.len(), "makes")?;
        too_many(raw.companies.len(), "companies")?;
        too_many(raw.fields.len(), "fields")?;

        let mut class_types = BTreeMap::new();
        for (class, t) in &raw.classes {
            let key = fold(class);
            if key.is_empty() || t.get_ref().trim().is_empty() {
                return self.error(
                    t.span(),
                    &f(&format!("classes.{class}")),
                    "a device class and its configuration type (name or id) cannot be empty",
                );
            }
            if class_types
                .insert(key, t.get_ref().trim().to_string())
                .is_some()
            {
                return self.error(
                    t.span(),
                    &f(&format!("classes.{class}")),
                    format!("device class `{class}` is mapped twice (classes compare ignoring case and punctuation)"),
                );
            }
        }
        let mut makes = BTreeMap::new();
        for (make, m) in &raw.makes {
            let key = fold(make);
            let text = |v: &Option<String>| {
                v.as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
            };
            let mapping = MakeMapping {
                vendor: text(&m.get_ref().vendor),
                manufacturer: text(&m.get_ref().manufacturer),
            };
            if key.is_empty() || (mapping.vendor.is_none() && mapping.manufacturer.is_none()) {
                return self.error(
                    m.span(),
                    &f(&format!("makes.{make}")),
                    "a make mapping needs a make and a `vendor` or a `manufacturer` (name or id)",
                );
            }
            if makes.insert(key, mapping).is_some() {
                return self.error(
                    m.span(),
                    &f(&format!("makes.{make}")),
                    format!("make `{make}` is mapped twice (makes compare ignoring case and punctuation)"),
                );
            }
        }
        let mut companies = BTreeMap::new();
        for (org, company) in &raw.companies {
            if org.trim().is_empty() || company.get_ref().trim().is_empty() {
                return self.error(
                    company.span(),
                    &f(&format!("companies.{org}")),
                    "an organisation and its PSA company id cannot be empty",
                );
            }
            companies.insert(org.trim().to_string(), company.get_ref().trim().to_string());
        }
        let mut fields = Vec::new();
        for (n, m) in raw.fields.iter().enumerate() {
            let at = f(&format!("fields[{n}]"));
            let r = m.get_ref();
            let bad = |msg: String| self.error::<()>(m.span(), &at, msg).unwrap_err();
            let Some(device) = DeviceField::parse(r.device.trim()) else {
                return Err(bad(format!(
                    "`{}` is not a device field: use one of {}",
                    r.device,
                    DeviceField::NAMES
                )));
            };
            let mapping = match (&r.configuration, &r.question) {
                (Some(_), Some(_)) | (None, None) => return Err(bad(
                    "give either `configuration` (a field of every type) or `type` and `question` (a question of one type)".into(),
                )),
                (Some(c), None) => {
                    if r.configuration_type.is_some() || r.question_id.is_some() {
                        return Err(bad("`type` and `question-id` go with `question`: a configuration field applies to every type".into()));
                    }
                    let Some(target) = ConfigurationField::parse(c.trim()) else {
                        return Err(bad(format!(
                            "`{c}` is not a configuration field: use one of {}",
                            ConfigurationField::NAMES
                        )));
                    };
                    let fits = match (&device, target) {
                        (DeviceField::DeviceClass, t) => t == ConfigurationField::ConfigurationType,
                        (_, ConfigurationField::ConfigurationType) => false,
                        (DeviceField::Make, t) => {
                            matches!(t, ConfigurationField::Vendor | ConfigurationField::Manufacturer)
                        }
                        (_, ConfigurationField::Vendor | ConfigurationField::Manufacturer) => false,
                        (DeviceField::Value(_), _) => false,
                        _ => true,
                    };
                    if !fits {
                        return Err(bad(format!(
                            "`{}` cannot go to `{c}`: device-class maps to configuration-type, make to vendor or manufacturer, and value:NAME fields only to a question of one type",
                            r.device
                        )));
                    }
                    FieldMapping {
                        device,
                        target: Target::Field(target),
                    }
                }
                (None, Some(q)) => {
                    let Some(t) = r.configuration_type.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
                        return Err(bad("a question belongs to one configuration type: set `type` (name or id)".into()));
                    };
                    if matches!(device, DeviceField::DeviceClass | DeviceField::Make) || q.trim().is_empty() {
                        return Err(bad("a question takes a text field of the device (not device-class or make) and needs its text".into()));
                    }
                    FieldMapping {
                        device,
                        target: Target::Question {
                            configuration_type: t.to_string(),
                            question: q.trim().to_string(),
                            question_id: r.question_id.as_deref().map(str::trim).map(str::to_string),
                        },
                    }
                }
            };
            fields.push(mapping);
        }
        let create_extra = match &raw.create_extra {
            None => None,
            Some(t) => match serde_json::to_value(t) {
                Ok(serde_json::Value::Object(m)) => Some(m),
                _ => {
                    return self.error(
                        0..0,
                        &f("create-extra"),
                        "not a table of PSA field names to values",
                    );
                }
            },
        };
        Ok(InventorySettings {
            identifiers,
            create_missing: raw.create_missing,
            use_type_when_matching: raw.use_type_when_matching,
            only_active: raw.only_active,
            mark_active: status_option(raw.mark_active.get_ref()),
            inactivate_on_delete: status_option(raw.inactivate_on_delete.get_ref()),
            only_managed: raw.only_managed,
            class_types,
            makes,
            auto_makes: raw.auto_makes,
            fields,
            companies,
            create_extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;
    use psahost_workflows::inventory::settings::*;
    use std::path::Path;

    const BASE: &str = r#"
[runtime]
data-dir = "data"

[plugins.cw]
builtin = "connectwise-manage"

[connections.acme]
plugin = "cw"
grant = { hosts = ["https://cw.example"] }
"#;

    const GOOD: &str = r#"
[connections.acme.inventory]
identifiers = ["serial-number", "host-name"]
host-name-in = "notes"
create-missing = true
use-type-when-matching = false
only-active = true
only-managed = true
mark-active = "Active"
inactivate-on-delete = false
auto-makes = true
create-extra = { productID = 7 }

[connections.acme.inventory.classes]
Firewall = "Firewall"

[connections.acme.inventory.makes]
Cisco = { manufacturer = "Cisco" }

[[connections.acme.inventory.fields]]
device = "ip-address"
configuration = "ip-address"

[[connections.acme.inventory.fields]]
device = "value:firmware"
type = "Firewall"
question = "Firmware version"
question-id = "40"
"#;

    fn parse(inventory: &str) -> anyhow::Result<Config> {
        Config::parse(
            &format!("{BASE}{inventory}"),
            Path::new("/etc/psahost.toml"),
        )
    }

    #[test]
    fn inventory_settings_validate() {
        let c = parse(GOOD).unwrap();
        let s = c.connection("acme").unwrap().inventory.clone().unwrap();
        assert_eq!(
            s.identifiers,
            [
                Identifier::SerialNumber,
                Identifier::HostName(HostNameField::Notes)
            ]
        );
        assert_eq!(
            s.mark_active,
            Some(StatusChange {
                status: Some("Active".into())
            })
        );
        assert_eq!(s.inactivate_on_delete, None);
        assert_eq!(s.class_types["firewall"], "Firewall");
        assert_eq!(s.makes["cisco"].manufacturer.as_deref(), Some("Cisco"));
        assert_eq!(s.fields.len(), 2);
        assert_eq!(s.create_extra.unwrap()["productID"], 7);
        assert!(
            parse("")
                .unwrap()
                .connection("acme")
                .unwrap()
                .inventory
                .is_none()
        );
    }

    #[test]
    fn inventory_errors_name_the_field_and_value() {
        let err = |from: &str, to: &str| {
            let text = GOOD.replacen(from, to, 1);
            assert_ne!(text, GOOD, "{from}");
            format!("{:#}", parse(&text).unwrap_err())
        };
        let e = err(
            r#"["serial-number", "host-name"]"#,
            r#"["host-name", "device-name"]"#,
        );
        assert!(
            e.contains("connections.acme.inventory.identifiers")
                && e.contains("`host-name` and `device-name`"),
            "{e}"
        );
        let e = err(r#""serial-number", "host"#, r#""serial", "host"#);
        assert!(e.contains("`serial` is not an identifier"), "{e}");
        let e = err("host-name-in = \"notes\"\n", "");
        assert!(e.contains("needs `host-name-in`"), "{e}");
        let e = err("only-active = true\n", "");
        assert!(e.contains("only-active"), "{e}");
        let e = err("device = \"ip-address\"", "device = \"colour\"");
        assert!(e.contains("fields[0]") && e.contains("`colour`"), "{e}");
        let e = err("device = \"ip-address\"", "device = \"value:x\"");
        assert!(e.contains("only to a question"), "{e}");
        let e = err("type = \"Firewall\"\n", "");
        assert!(e.contains("fields[1]") && e.contains("set `type`"), "{e}");
        let e = err("host-name-in = \"notes\"", "host-name-in = \"memo\"");
        assert!(e.contains("`memo`"), "{e}");
    }
}
