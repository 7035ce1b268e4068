//! The tool's devices as the operator sends them: a JSON array or JSON lines, validated and
//! bounded (count, line length, text length, field values).

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// The most devices one batch holds.
pub const MAX_DEVICES: usize = 100_000;

/// The longest line of JSON-lines input (one device), in bytes.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The longest text of one field, in bytes.
pub const MAX_TEXT_BYTES: usize = 1024;

/// The most field values (`values`) one device has.
pub const MAX_VALUES: usize = 64;

/// One of the tool's devices, validated.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Device {
    /// The tool's id.
    pub id: String,
    /// Its site (domain prefix).
    pub site: Option<String>,
    /// The tool's organisation (customer) id: its PSA company comes from an explicit mapping
    /// or the stored customer link.
    pub organisation: Option<String>,
    /// The device name.
    pub device_name: Option<String>,
    /// The host name.
    pub host_name: Option<String>,
    /// The serial number.
    pub serial_number: Option<String>,
    /// The MAC address.
    pub mac_address: Option<String>,
    /// The IP address.
    pub ip_address: Option<String>,
    /// The device class (`firewall`, `switch`...).
    pub device_class: Option<String>,
    /// The make (`Cisco`).
    pub make: Option<String>,
    /// The model.
    pub model: Option<String>,
    /// Whether the tool manages it.
    pub managed: bool,
    /// When it first came online (RFC 3339); none: not yet.
    pub first_online: Option<String>,
    /// Deleted in the tool.
    pub deleted: bool,
    /// Other field values (firmware, software version, warranty...).
    pub values: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDevice {
    id: Value,
    site: Option<String>,
    organisation: Option<Value>,
    device_name: Option<String>,
    host_name: Option<String>,
    serial_number: Option<String>,
    mac_address: Option<String>,
    ip_address: Option<String>,
    device_class: Option<String>,
    make: Option<String>,
    model: Option<String>,
    managed: bool,
    first_online: Option<String>,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    values: BTreeMap<String, Value>,
}

fn id_text(field: &str, v: Value) -> anyhow::Result<String> {
    let id = match v {
        Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        other => bail!("`{field}` must be a non-empty string or a number, not `{other}`"),
    };
    if id.len() > MAX_TEXT_BYTES {
        bail!("`{field}` is {} bytes, over {MAX_TEXT_BYTES}", id.len());
    }
    // Ids key stored state and appear in paths and terminals: no controls.
    if id.chars().any(char::is_control) {
        bail!(
            "`{field}` `{}` holds a control character: use printable ids",
            id.escape_debug()
        );
    }
    Ok(id)
}

fn text(field: &str, v: Option<String>) -> anyhow::Result<Option<String>> {
    match v {
        Some(s) if s.len() > MAX_TEXT_BYTES => {
            bail!("`{field}` is {} bytes, over {MAX_TEXT_BYTES}", s.len())
        }
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => Ok(Some(s.trim().to_string())),
        None => Ok(None),
    }
}

impl RawDevice {
    fn validate(self) -> anyhow::Result<Device> {
        if self.values.len() > MAX_VALUES {
            bail!(
                "`values` holds {} fields, over {MAX_VALUES}",
                self.values.len()
            );
        }
        let mut values = BTreeMap::new();
        for (k, v) in self.values {
            let v = match v {
                Value::Null => continue,
                Value::String(s) => s,
                Value::Number(_) | Value::Bool(_) => v.to_string(),
                other => bail!("`values.{k}` must be text, a number or a boolean, not `{other}`"),
            };
            if k.len() > MAX_TEXT_BYTES || k.chars().any(char::is_control) {
                bail!("`values` has a key that is too long or holds a control character");
            }
            if let Some(v) = text(&format!("values.{k}"), Some(v))? {
                values.insert(k, v);
            }
        }
        let first_online = text("first-online", self.first_online)?;
        if let Some(t) = &first_online {
            crate::inventory::parse_time(t).with_context(|| {
                format!("`first-online` `{t}` is not an RFC 3339 time such as 2026-01-31T08:00:00Z")
            })?;
        }
        Ok(Device {
            id: id_text("id", self.id)?,
            site: text("site", self.site)?,
            organisation: self
                .organisation
                .filter(|v| !v.is_null())
                .map(|v| id_text("organisation", v))
                .transpose()?,
            device_name: text("device-name", self.device_name)?,
            host_name: text("host-name", self.host_name)?,
            serial_number: text("serial-number", self.serial_number)?,
            mac_address: text("mac-address", self.mac_address)?,
            ip_address: text("ip-address", self.ip_address)?,
            device_class: text("device-class", self.device_class)?,
            make: text("make", self.make)?,
            model: text("model", self.model)?,
            managed: self.managed,
            first_online,
            deleted: self.deleted,
            values,
        })
    }
}

const FIELDS: &str = "id, site, organisation, device-name, host-name, serial-number, mac-address, ip-address, device-class, make, model, managed, first-online, deleted, values";

/// Devices from a JSON array or JSON lines (one object a line; blank lines skipped). Errors
/// name the device's position (or line) and say what is wrong; ids must be unique.
pub fn parse_devices(text: &str) -> anyhow::Result<Vec<Device>> {
    let raw: Vec<(String, RawDevice)> = crate::input::read(
        text,
        &crate::input::Records {
            noun: "device",
            plural: "devices",
            max: MAX_DEVICES,
            max_line_bytes: MAX_LINE_BYTES,
            fields: FIELDS,
        },
    )?;
    let mut seen = HashSet::new();
    raw.into_iter()
        .map(|(at, d)| {
            let d = d.validate().with_context(|| at.clone())?;
            if !seen.insert(d.id.clone()) {
                bail!(
                    "{at}: device id `{}` appears twice: ids must be unique",
                    d.id
                );
            }
            Ok(d)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_from_lines_and_arrays() {
        let lines = "{\"id\": \"d1\", \"managed\": true, \"serial-number\": \" SN1 \", \"values\": {\"firmware\": \"1.2\", \"ports\": 24}}\n\n{\"id\": 2, \"managed\": false, \"deleted\": true}\n";
        let got = parse_devices(lines).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].serial_number.as_deref(), Some("SN1"));
        assert_eq!(got[0].values["ports"], "24");
        assert!(got[1].deleted && got[1].id == "2");
        let array =
            "[{\"id\": \"d1\", \"managed\": true, \"first-online\": \"2026-01-31T08:00:00Z\"}]";
        assert!(parse_devices(array).unwrap()[0].first_online.is_some());
    }

    #[test]
    fn bad_devices_are_named() {
        let err = |t: &str| format!("{:#}", parse_devices(t).unwrap_err());
        let e = err(
            "{\"id\": \"d1\", \"managed\": true}\n{\"id\": \"d2\", \"managed\": true, \"colour\": 1}",
        );
        assert!(e.contains("line 2") && e.contains("colour"), "{e}");
        let e = err("{\"id\": \"d1\", \"managed\": true}\n{\"id\": \"d1\", \"managed\": true}");
        assert!(e.contains("`d1` appears twice"), "{e}");
        let e = err("{\"id\": \"d1\"}");
        assert!(e.contains("managed"), "{e}");
        let e = err("{\"id\": \"d1\", \"managed\": true, \"first-online\": \"yesterday\"}");
        assert!(e.contains("`yesterday`"), "{e}");
        let long = format!(
            "{{\"id\": \"d\", \"managed\": true, \"model\": \"{}\"}}",
            "x".repeat(MAX_LINE_BYTES)
        );
        assert!(err(&long).contains("over the 65536"));
    }
}
