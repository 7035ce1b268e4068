//! The planner, pure: one device, the configurations it may match (indexed by the matching
//! engine), its stored mapping and the resolved mappings -> what to do (create, change,
//! activate, inactivate, nothing, or why it is not synced). No I/O: the runner
//! ([`super::run`]) reads and writes around it.

use super::settings::{
    ConfigurationField, DeviceField, HostNameField, Identifier, InventorySettings, Target,
};
use super::state::{DeviceRecord, NotSynced};
use super::{Device, MAX_SHOWN_CANDIDATES};
use anyhow::bail;
use psahost_matching::Comparator;
use psahost_matching::normalize;
use psahost_matching::rules::{
    self, Candidate, Conditions, Fields, Index, Outcome, RuleSet, Subject,
};
use psahost_sandbox::bindings::psa::connector::types::{
    Configuration, ConfigurationAnswer, ConfigurationChanges, NewConfiguration,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One picklist entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The PSA's id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// The PSA's picklists a run needs (empty where the run needs none or the PSA has none).
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// Configuration types.
    pub types: Vec<Entry>,
    /// Configuration statuses.
    pub statuses: Vec<Entry>,
    /// Manufacturers.
    pub manufacturers: Vec<Entry>,
    /// Vendors.
    pub vendors: Vec<Entry>,
    /// Names of the types the PSA refuses to update (the connector's
    /// `read-only-configuration-types`).
    pub read_only_types: Vec<String>,
}

/// A question mapping resolved to its configuration type's id.
#[derive(Clone, Debug, PartialEq)]
pub struct QuestionMapping {
    /// The configuration type's id.
    pub type_id: String,
    /// The question's text.
    pub question: String,
    /// The question's id, if known.
    pub question_id: Option<String>,
    /// What it reads of the device.
    pub device: DeviceField,
}

/// The settings' picklist names resolved to the PSA's ids.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    /// Folded class -> configuration type.
    pub class_types: HashMap<String, Entry>,
    /// Folded make -> (vendor id, manufacturer id): the operator's mappings, then the
    /// automatic ones.
    pub makes: HashMap<String, (Option<String>, Option<String>)>,
    /// The status `mark-active` sets.
    pub active_status: Option<String>,
    /// The status `inactivate-on-delete` sets.
    pub inactive_status: Option<String>,
    /// The question mappings.
    pub questions: Vec<QuestionMapping>,
}

/// The entry of `list` named `value` (by id, else by name ignoring case); errors name the
/// setting and list some names.
pub fn find_entry<'l>(list: &'l [Entry], value: &str, what: &str) -> anyhow::Result<&'l Entry> {
    if let Some(e) = list.iter().find(|e| e.id == value) {
        return Ok(e);
    }
    let folded = normalize::fold(value);
    if let Some(e) = list.iter().find(|e| normalize::fold(&e.name) == folded) {
        return Ok(e);
    }
    let names: Vec<&str> = list.iter().take(20).map(|e| e.name.as_str()).collect();
    bail!(
        "the PSA has no {what} `{value}` (by id or name): use one of {}{}",
        if names.is_empty() {
            "none (its list is empty)".to_string()
        } else {
            names.join(", ")
        },
        if list.len() > names.len() {
            ", ..."
        } else {
            ""
        }
    )
}

/// Resolves the names of `settings` against `catalog`; `auto` are the stored automatic make
/// mappings (the operator's own win).
pub fn resolve(
    settings: &InventorySettings,
    catalog: &Catalog,
    auto: &BTreeMap<String, (Option<String>, Option<String>)>,
) -> anyhow::Result<Resolved> {
    let mut resolved = Resolved::default();
    for (class, t) in &settings.class_types {
        let entry = find_entry(&catalog.types, t, "configuration type")?;
        resolved.class_types.insert(class.clone(), entry.clone());
    }
    for (make, auto) in auto {
        resolved.makes.insert(make.clone(), auto.clone());
    }
    for (make, m) in &settings.makes {
        let vendor = m
            .vendor
            .as_deref()
            .map(|v| find_entry(&catalog.vendors, v, "vendor").map(|e| e.id.clone()))
            .transpose()?;
        let manufacturer = m
            .manufacturer
            .as_deref()
            .map(|v| find_entry(&catalog.manufacturers, v, "manufacturer").map(|e| e.id.clone()))
            .transpose()?;
        resolved.makes.insert(make.clone(), (vendor, manufacturer));
    }
    let status = |s: &Option<super::settings::StatusChange>| -> anyhow::Result<Option<String>> {
        match s.as_ref().and_then(|s| s.status.as_deref()) {
            Some(name) => Ok(Some(
                find_entry(&catalog.statuses, name, "configuration status")?
                    .id
                    .clone(),
            )),
            None => Ok(None),
        }
    };
    resolved.active_status = status(&settings.mark_active)?;
    resolved.inactive_status = status(&settings.inactivate_on_delete)?;
    for m in &settings.fields {
        if let Target::Question {
            configuration_type,
            question,
            question_id,
        } = &m.target
        {
            let t = find_entry(&catalog.types, configuration_type, "configuration type")?;
            resolved.questions.push(QuestionMapping {
                type_id: t.id.clone(),
                question: question.clone(),
                question_id: question_id.clone(),
                device: m.device.clone(),
            });
        }
    }
    Ok(resolved)
}

/// The automatic make mappings to add for `makes` (as the tool names them): each make mapped
/// neither by the operator nor before gets the vendor and the manufacturer whose names equal
/// it once normalised (legal forms aside), when there is one; a make matching neither gets
/// none. Existing mappings are never changed.
pub fn auto_makes<'m>(
    makes: impl IntoIterator<Item = &'m str>,
    settings: &InventorySettings,
    stored: &BTreeMap<String, (Option<String>, Option<String>)>,
    catalog: &Catalog,
) -> Vec<(String, String, Option<String>, Option<String>)> {
    let key = |name: &str| normalize::company_name(name).unwrap_or_else(|| normalize::fold(name));
    let by_name = |list: &[Entry], make: &str| -> Option<String> {
        let want = key(make);
        let mut found = list.iter().filter(|e| key(&e.name) == want);
        let first = found.next()?;
        // Two entries of one name: the operator decides.
        found.next().is_none().then(|| first.id.clone())
    };
    let mut out: Vec<(String, String, Option<String>, Option<String>)> = Vec::new();
    for make in makes {
        let folded = normalize::fold(make);
        if folded.is_empty()
            || settings.makes.contains_key(&folded)
            || stored.contains_key(&folded)
            || out.iter().any(|(f, ..)| *f == folded)
        {
            continue;
        }
        let vendor = by_name(&catalog.vendors, make);
        let manufacturer = by_name(&catalog.manufacturers, make);
        if vendor.is_some() || manufacturer.is_some() {
            out.push((folded, make.to_string(), vendor, manufacturer));
        }
    }
    out
}

/// The subject's field names for the identifiers.
const SERIAL: &str = "serial-number";
const HOST: &str = "host-name";
const NAME: &str = "device-name";

/// The rule set of `settings`' identifiers, in their order, with the options' conditions.
pub fn rule_set(settings: &InventorySettings) -> RuleSet {
    let identifiers = settings
        .identifiers
        .iter()
        .map(|i| match i {
            Identifier::SerialNumber => rules::Identifier {
                name: SERIAL.into(),
                subject_field: SERIAL.into(),
                candidate_field: "serial-number".into(),
                comparator: Comparator::Serial,
            },
            Identifier::HostName(_) => rules::Identifier {
                name: HOST.into(),
                subject_field: HOST.into(),
                candidate_field: "host-name".into(),
                comparator: Comparator::HostName,
            },
            Identifier::DeviceName => rules::Identifier {
                name: NAME.into(),
                subject_field: NAME.into(),
                candidate_field: "name".into(),
                comparator: Comparator::Folded,
            },
        })
        .collect();
    RuleSet {
        identifiers,
        custom: Vec::new(),
        conditions: Conditions {
            active_only: settings.only_active,
            same_company: true,
            same_kind: settings.use_type_when_matching,
        },
    }
}

/// A configuration as the engine's candidate: its serial number, its host name (from the
/// notes or the name, as the settings say) and its name.
pub fn candidate(c: &Configuration, settings: &InventorySettings) -> Candidate {
    let mut fields = Fields::new();
    let mut add = |k: &str, v: &Option<String>| {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            fields.entry(k.to_string()).or_default().push(v.to_string());
        }
    };
    add("serial-number", &c.serial_number);
    add("name", &Some(c.name.clone()));
    let host_in = settings.identifiers.iter().find_map(|i| match i {
        Identifier::HostName(f) => Some(*f),
        _ => None,
    });
    match host_in {
        Some(HostNameField::Notes) => add("host-name", &c.notes),
        Some(HostNameField::Name) => add("host-name", &Some(c.name.clone())),
        None => {}
    }
    Candidate {
        id: c.id.clone(),
        fields,
        active: c.active,
        company: c.company_id.clone(),
        kind: c.configuration_type.as_ref().map(|t| t.id.clone()),
    }
}

/// Whether a name is a placeholder (`Unknown`, `N/A`...), which identifies nothing.
pub fn placeholder_name(value: &str) -> bool {
    let key: String = normalize::fold(value)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    matches!(
        key.as_str(),
        "" | "unknown" | "na" | "none" | "null" | "undefined" | "notavailable"
    )
}

/// The device's identifier values that identify something, by the settings' identifiers.
pub fn identifiers(device: &Device, settings: &InventorySettings) -> Fields {
    let mut fields = Fields::new();
    for i in &settings.identifiers {
        let (field, value) = match i {
            Identifier::SerialNumber => (
                SERIAL,
                device
                    .serial_number
                    .as_ref()
                    .filter(|s| normalize::serial(s).is_some()),
            ),
            Identifier::HostName(_) => (
                HOST,
                device.host_name.as_ref().filter(|s| !placeholder_name(s)),
            ),
            Identifier::DeviceName => (
                NAME,
                device.device_name.as_ref().filter(|s| !placeholder_name(s)),
            ),
        };
        if let Some(v) = value {
            fields.entry(field.into()).or_default().push(v.clone());
        }
    }
    fields
}

/// One field a plan changes, for the report and the dry run.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FieldChange {
    /// The configuration's field (`ip-address`, `question:Firmware version`).
    pub field: String,
    /// Its value now (none on a create).
    pub from: Option<String>,
    /// Its value after.
    pub to: Option<String>,
}

/// What the plan does to the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Create it.
    Create,
    /// Change fields.
    Update,
    /// Mark it active (and change fields).
    Activate,
    /// Mark it inactive.
    Inactivate,
    /// Nothing: it holds the values already, or its type is read-only.
    None,
}

/// The plan for one device.
#[derive(Clone, Debug)]
pub enum Plan {
    /// No first online time yet.
    Waiting,
    /// Not synced; the mapped configuration (if any) is kept.
    NotSynced(NotSynced),
    /// Create a configuration.
    Create {
        /// What to create.
        new: NewConfiguration,
        /// The identifier values it is created with (for the intent).
        identifiers: Fields,
        /// The fields, for the report.
        changes: Vec<FieldChange>,
    },
    /// Keep the mapped (or matched) configuration in sync.
    Sync {
        /// The configuration.
        configuration_id: String,
        /// What decided the mapping (`stored mapping` or an identifier).
        decided_by: String,
        /// What to do.
        action: Action,
        /// The changes to send (none for [`Action::None`]).
        changes: Option<ConfigurationChanges>,
        /// The fields, for the report.
        fields: Vec<FieldChange>,
        /// Why nothing is sent although something differs (a read-only type).
        note: Option<String>,
        /// The configuration's status before an inactivation.
        previous_status_id: Option<String>,
    },
}

/// Everything the planner reads besides the device.
pub struct Planner<'a> {
    /// The settings.
    pub settings: &'a InventorySettings,
    /// Their names resolved.
    pub resolved: &'a Resolved,
    /// The types the PSA refuses to update.
    pub read_only_types: &'a [String],
    /// Today (`yyyy-mm-dd`, UTC): the `last-mapped` value.
    pub today: &'a str,
}

fn blank_changes() -> ConfigurationChanges {
    ConfigurationChanges {
        name: None,
        configuration_type_id: None,
        status_id: None,
        active: None,
        serial_number: None,
        model_number: None,
        mac_address: None,
        ip_address: None,
        device_identifier: None,
        manufacturer_id: None,
        vendor_id: None,
        notes: None,
        questions: Vec::new(),
        extra: None,
    }
}

/// Whether two values of a field are the same (MACs and IPs in any notation).
fn same(field: ConfigurationField, a: Option<&str>, b: &str) -> bool {
    let Some(a) = a else { return false };
    match field {
        ConfigurationField::MacAddress => match (normalize::mac(a), normalize::mac(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a.trim() == b.trim(),
        },
        ConfigurationField::IpAddress => match (normalize::ip(a), normalize::ip(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a.trim() == b.trim(),
        },
        _ => a.trim() == b.trim(),
    }
}

impl Planner<'_> {
    fn is_read_only(&self, type_name: &str) -> bool {
        self.read_only_types
            .iter()
            .any(|t| t.trim().eq_ignore_ascii_case(type_name.trim()))
    }

    /// The configuration type the device's class maps to now.
    pub fn class_type(&self, device: &Device) -> Option<&Entry> {
        let class = normalize::fold(device.device_class.as_deref()?);
        self.resolved.class_types.get(&class)
    }

    fn make(&self, device: &Device) -> Option<&(Option<String>, Option<String>)> {
        let make = normalize::fold(device.make.as_deref()?);
        self.resolved.makes.get(&make)
    }

    /// The device's value of `field`.
    fn value(&self, device: &Device, field: &DeviceField) -> Option<String> {
        match field {
            DeviceField::DeviceId => Some(device.id.clone()),
            DeviceField::HostName => device.host_name.clone(),
            DeviceField::DeviceName => device.device_name.clone(),
            DeviceField::IpAddress => device.ip_address.clone(),
            DeviceField::MacAddress => device.mac_address.clone(),
            DeviceField::Model => device.model.clone(),
            DeviceField::SerialNumber => device.serial_number.clone(),
            DeviceField::Site => device.site.clone(),
            DeviceField::DeviceClass => self.class_type(device).map(|t| t.id.clone()),
            DeviceField::Make => device.make.clone(),
            DeviceField::LastMapped => Some(self.today.to_string()),
            DeviceField::Value(name) => device.values.get(name).cloned(),
        }
    }

    /// The values the field mappings give a configuration of type `type_id`: plain fields
    /// (the last mapping of a field wins) and question answers. `class_follows` and
    /// `make_follows` say whether the class and make mappings apply (on a create, or when the
    /// device's class or make changed since it was mapped).
    fn desired(
        &self,
        device: &Device,
        type_id: Option<&str>,
        class_follows: bool,
        make_follows: bool,
    ) -> (
        BTreeMap<&'static str, (ConfigurationField, String)>,
        Vec<ConfigurationAnswer>,
    ) {
        let mut fields = BTreeMap::new();
        for m in &self.settings.fields {
            let Target::Field(target) = m.target else {
                continue;
            };
            let value = match (&m.device, target) {
                (DeviceField::DeviceClass, _) if !class_follows => continue,
                (DeviceField::Make, ConfigurationField::Vendor) if make_follows => {
                    self.make(device).and_then(|(v, _)| v.clone())
                }
                (DeviceField::Make, ConfigurationField::Manufacturer) if make_follows => {
                    self.make(device).and_then(|(_, m)| m.clone())
                }
                (
                    DeviceField::Make,
                    ConfigurationField::Vendor | ConfigurationField::Manufacturer,
                ) => {
                    continue;
                }
                (source, _) => self.value(device, source),
            };
            if let Some(v) = value {
                fields.insert(target.name(), (target, v));
            }
        }
        let mut questions = Vec::new();
        for q in &self.resolved.questions {
            if Some(q.type_id.as_str()) != type_id {
                continue;
            }
            if let Some(answer) = self.value(device, &q.device) {
                questions.retain(|a: &ConfigurationAnswer| a.question != q.question);
                questions.push(ConfigurationAnswer {
                    question_id: q.question_id.clone(),
                    question: q.question.clone(),
                    answer: Some(answer),
                });
            }
        }
        (fields, questions)
    }

    /// Plans `device` of PSA company `company` (none: not linked), with its stored mapping
    /// `record` and the configuration that mapping names (`mapped`, when still there);
    /// `index` holds the candidates, `configuration` finds one by id.
    pub fn plan<'c>(
        &self,
        device: &Device,
        company: Option<&str>,
        record: Option<&DeviceRecord>,
        mapped: Option<&Configuration>,
        index: &Index<'_>,
        configuration: impl Fn(&str) -> Option<&'c Configuration>,
    ) -> Plan {
        let s = self.settings;
        if device.deleted {
            return match (mapped, &s.inactivate_on_delete) {
                (Some(c), Some(_)) => self.inactivate(c),
                _ => Plan::NotSynced(NotSynced::Deleted),
            };
        }
        if s.only_managed && !device.managed {
            return Plan::NotSynced(NotSynced::Unmanaged);
        }
        if device.first_online.is_none() {
            return Plan::Waiting;
        }
        // The pitfall of "only active" + "inactive on delete": a re-discovered device finds its
        // (inactivated) configuration by its stored mapping, never by matching.
        if let Some(c) = mapped {
            return self.sync(device, record, c, "stored mapping".into());
        }
        let Some(company) = company else {
            return Plan::NotSynced(NotSynced::CompanyNotLinked {
                organisation: device.organisation.clone(),
            });
        };
        let fields = identifiers(device, s);
        if fields.is_empty() {
            return Plan::NotSynced(NotSynced::OnlyIdentifierUnknown);
        }
        let class_type = self.class_type(device);
        if s.use_type_when_matching && class_type.is_none() {
            return Plan::NotSynced(NotSynced::ClassNotMapped {
                class: device.device_class.clone(),
            });
        }
        let subject = Subject {
            id: device.id.clone(),
            fields: fields.clone(),
            company: Some(company.to_string()),
            kind: class_type
                .filter(|_| s.use_type_when_matching)
                .map(|t| t.id.clone()),
        };
        match index.decide(&subject) {
            Outcome::Matched { identifier, found } => match configuration(&found.candidate) {
                Some(c) => self.sync(device, record, c, identifier),
                None => Plan::NotSynced(NotSynced::NoMatch),
            },
            Outcome::Ambiguous { identifier, found } => Plan::NotSynced(NotSynced::Ambiguous {
                identifier,
                total: found.len(),
                candidates: found
                    .into_iter()
                    .take(MAX_SHOWN_CANDIDATES)
                    .map(|f| f.candidate)
                    .collect(),
            }),
            Outcome::None if !s.create_missing => Plan::NotSynced(NotSynced::NoMatch),
            Outcome::None => match class_type {
                None => Plan::NotSynced(NotSynced::ClassNotMapped {
                    class: device.device_class.clone(),
                }),
                Some(t) => self.create(device, company, t, fields),
            },
        }
    }

    fn create(&self, device: &Device, company: &str, t: &Entry, identifiers: Fields) -> Plan {
        let s = self.settings;
        let first = |k: &str| identifiers.get(k).and_then(|v| v.first()).cloned();
        let name = first(NAME)
            .or_else(|| device.device_name.clone().filter(|n| !placeholder_name(n)))
            .or_else(|| device.host_name.clone().filter(|n| !placeholder_name(n)))
            .or_else(|| first(SERIAL))
            .unwrap_or_else(|| format!("device {}", device.id));
        let (fields, questions) = self.desired(device, Some(&t.id), true, true);
        let field = |f: ConfigurationField| fields.get(f.name()).map(|(_, v)| v.clone());
        let (vendor, manufacturer) = self.make(device).cloned().unwrap_or_default();
        let host_in_notes = s
            .identifiers
            .contains(&Identifier::HostName(HostNameField::Notes));
        let host_in_name = s
            .identifiers
            .contains(&Identifier::HostName(HostNameField::Name));
        let name = if host_in_name {
            first(HOST).unwrap_or(name)
        } else {
            field(ConfigurationField::Name).unwrap_or(name)
        };
        let new = NewConfiguration {
            company_id: company.to_string(),
            name,
            configuration_type_id: t.id.clone(),
            status_id: self.resolved.active_status.clone(),
            // The identifiers are always written: they find the configuration again.
            serial_number: first(SERIAL).or_else(|| field(ConfigurationField::SerialNumber)),
            model_number: field(ConfigurationField::ModelNumber),
            mac_address: field(ConfigurationField::MacAddress),
            ip_address: field(ConfigurationField::IpAddress),
            device_identifier: field(ConfigurationField::DeviceIdentifier),
            manufacturer_id: field(ConfigurationField::Manufacturer).or(manufacturer),
            vendor_id: field(ConfigurationField::Vendor).or(vendor),
            notes: if host_in_notes {
                first(HOST)
            } else {
                field(ConfigurationField::Notes)
            },
            questions,
            extra: s
                .create_extra
                .as_ref()
                .map(|e| serde_json::Value::Object(e.clone()).to_string()),
        };
        let mut changes = vec![
            FieldChange {
                field: "name".into(),
                from: None,
                to: Some(new.name.clone()),
            },
            FieldChange {
                field: "configuration-type".into(),
                from: None,
                to: Some(t.name.clone()),
            },
        ];
        for (k, v) in [
            ("serial-number", &new.serial_number),
            ("model-number", &new.model_number),
            ("mac-address", &new.mac_address),
            ("ip-address", &new.ip_address),
            ("device-identifier", &new.device_identifier),
            ("manufacturer", &new.manufacturer_id),
            ("vendor", &new.vendor_id),
            ("notes", &new.notes),
            ("status", &new.status_id),
        ] {
            if v.is_some() {
                changes.push(FieldChange {
                    field: k.into(),
                    from: None,
                    to: v.clone(),
                });
            }
        }
        for q in &new.questions {
            changes.push(FieldChange {
                field: format!("question:{}", q.question),
                from: None,
                to: q.answer.clone(),
            });
        }
        Plan::Create {
            new,
            identifiers,
            changes,
        }
    }

    fn inactivate(&self, c: &Configuration) -> Plan {
        let status = self.resolved.inactive_status.clone();
        let type_name = c.configuration_type.as_ref().and_then(|t| t.name.clone());
        let already =
            !c.active && (status.is_none() || c.status.as_ref().map(|s| &s.id) == status.as_ref());
        let mut fields = Vec::new();
        if c.active {
            fields.push(FieldChange {
                field: "active".into(),
                from: Some("true".into()),
                to: Some("false".into()),
            });
        }
        if let Some(st) = &status
            && c.status.as_ref().map(|s| &s.id) != Some(st)
        {
            fields.push(FieldChange {
                field: "status".into(),
                from: c.status.as_ref().map(|s| s.id.clone()),
                to: Some(st.clone()),
            });
        }
        if already {
            return Plan::Sync {
                configuration_id: c.id.clone(),
                decided_by: "stored mapping".into(),
                action: Action::None,
                changes: None,
                fields: Vec::new(),
                note: None,
                previous_status_id: None,
            };
        }
        if let Some(name) = type_name.filter(|n| self.is_read_only(n)) {
            return Plan::Sync {
                configuration_id: c.id.clone(),
                decided_by: "stored mapping".into(),
                action: Action::None,
                changes: None,
                fields,
                note: Some(read_only_note(&name)),
                previous_status_id: None,
            };
        }
        let mut changes = blank_changes();
        changes.active = Some(false);
        changes.status_id = status;
        Plan::Sync {
            configuration_id: c.id.clone(),
            decided_by: "stored mapping".into(),
            action: Action::Inactivate,
            changes: Some(changes),
            fields,
            note: None,
            previous_status_id: c.status.as_ref().map(|s| s.id.clone()),
        }
    }

    fn sync(
        &self,
        device: &Device,
        record: Option<&DeviceRecord>,
        c: &Configuration,
        decided_by: String,
    ) -> Plan {
        // Mapped before: the class and make mappings apply again only when the device's class
        // or make changed since (an edited mapping changes only configurations created later).
        let mapped_before = record.filter(|r| r.configuration_id.as_deref() == Some(&c.id));
        let fold = |v: &Option<String>| v.as_deref().map(normalize::fold);
        let class_follows =
            mapped_before.is_none_or(|r| r.mapped_class != fold(&device.device_class));
        let make_follows = mapped_before.is_none_or(|r| r.mapped_make != fold(&device.make));
        let type_id = c.configuration_type.as_ref().map(|t| t.id.as_str());
        let (desired, questions) = self.desired(device, type_id, class_follows, make_follows);
        let mut changes = blank_changes();
        let mut fields = Vec::new();
        let mut change = |field: ConfigurationField, now: Option<&str>, to: &str| -> bool {
            if same(field, now, to) {
                return false;
            }
            fields.push(FieldChange {
                field: field.name().into(),
                from: now.map(str::to_string),
                to: Some(to.to_string()),
            });
            true
        };
        let mut type_note = None;
        for (field, to) in desired.values() {
            let to = to.as_str();
            let set = |o: &mut Option<String>| *o = Some(to.to_string());
            match field {
                ConfigurationField::Name => {
                    if change(*field, Some(&c.name), to) {
                        set(&mut changes.name)
                    }
                }
                ConfigurationField::Notes => {
                    if change(*field, c.notes.as_deref(), to) {
                        set(&mut changes.notes)
                    }
                }
                ConfigurationField::SerialNumber => {
                    if change(*field, c.serial_number.as_deref(), to) {
                        set(&mut changes.serial_number)
                    }
                }
                ConfigurationField::ModelNumber => {
                    if change(*field, c.model_number.as_deref(), to) {
                        set(&mut changes.model_number)
                    }
                }
                ConfigurationField::MacAddress => {
                    if change(*field, c.mac_address.as_deref(), to) {
                        set(&mut changes.mac_address)
                    }
                }
                ConfigurationField::IpAddress => {
                    if change(*field, c.ip_address.as_deref(), to) {
                        set(&mut changes.ip_address)
                    }
                }
                ConfigurationField::DeviceIdentifier => {
                    if change(*field, c.device_identifier.as_deref(), to) {
                        set(&mut changes.device_identifier)
                    }
                }
                ConfigurationField::ConfigurationType => {
                    let target = self
                        .resolved
                        .class_types
                        .values()
                        .find(|t| t.id == to)
                        .map(|t| t.name.clone());
                    if target.as_deref().is_some_and(|n| self.is_read_only(n)) {
                        // Never moved to a type the PSA refuses to update.
                        type_note = target.map(|n| read_only_note(&n));
                    } else if change(*field, type_id, to) {
                        set(&mut changes.configuration_type_id)
                    }
                }
                ConfigurationField::Vendor => {
                    if change(*field, c.vendor.as_ref().map(|r| r.id.as_str()), to) {
                        set(&mut changes.vendor_id)
                    }
                }
                ConfigurationField::Manufacturer => {
                    if change(*field, c.manufacturer.as_ref().map(|r| r.id.as_str()), to) {
                        set(&mut changes.manufacturer_id)
                    }
                }
            }
        }
        for q in questions {
            let now = c
                .questions
                .iter()
                .find(|a| match (&q.question_id, &a.question_id) {
                    (Some(x), Some(y)) => x == y,
                    _ => normalize::fold(&a.question) == normalize::fold(&q.question),
                });
            let now = now.and_then(|a| a.answer.clone());
            if now.as_deref().map(str::trim) != q.answer.as_deref().map(str::trim) {
                fields.push(FieldChange {
                    field: format!("question:{}", q.question),
                    from: now,
                    to: q.answer.clone(),
                });
                changes.questions.push(q);
            }
        }
        // Activation: `mark-active`, or a configuration psahost inactivated itself when the
        // device was deleted, now that it is back (to the status it had).
        let mut action = Action::Update;
        let reactivate = record
            .filter(|r| r.configuration_id.as_deref() == Some(&c.id))
            .and_then(|r| r.inactivated.as_ref());
        let active_status = match (&self.settings.mark_active, reactivate) {
            (Some(_), _) => Some(self.resolved.active_status.clone()),
            (None, Some(i)) => Some(i.previous_status_id.clone()),
            (None, None) => None,
        };
        if let Some(status) = active_status {
            let status_differs =
                status.is_some() && c.status.as_ref().map(|s| &s.id) != status.as_ref();
            if !c.active || status_differs {
                action = Action::Activate;
                if !c.active {
                    changes.active = Some(true);
                    fields.push(FieldChange {
                        field: "active".into(),
                        from: Some("false".into()),
                        to: Some("true".into()),
                    });
                }
                if status_differs {
                    fields.push(FieldChange {
                        field: "status".into(),
                        from: c.status.as_ref().map(|s| s.id.clone()),
                        to: status.clone(),
                    });
                    changes.status_id = status;
                }
            }
        }
        let type_name = c.configuration_type.as_ref().and_then(|t| t.name.clone());
        let read_only = type_name.filter(|n| self.is_read_only(n));
        let plan = |action, changes, note| Plan::Sync {
            configuration_id: c.id.clone(),
            decided_by: decided_by.clone(),
            action,
            changes,
            fields: fields.clone(),
            note,
            previous_status_id: None,
        };
        if let Some(name) = read_only {
            return plan(Action::None, None, Some(read_only_note(&name)));
        }
        if fields.is_empty() {
            return plan(Action::None, None, type_note);
        }
        plan(action, Some(changes), type_note)
    }
}

/// The note on a device whose configuration's type the PSA refuses to update.
pub fn read_only_note(type_name: &str) -> String {
    format!("configuration type `{type_name}` cannot be updated through the PSA's API: not patched")
}

#[cfg(test)]
mod tests {
    use super::*;
    use psahost_matching::rules::OwnedIndex;
    use psahost_sandbox::bindings::psa::connector::types::EntityRef;

    fn configuration(
        id: &str,
        name: &str,
        serial: Option<&str>,
        notes: Option<&str>,
    ) -> Configuration {
        Configuration {
            id: id.into(),
            company_id: Some("c1".into()),
            name: name.into(),
            configuration_type: Some(EntityRef {
                id: "4".into(),
                name: Some("Firewall".into()),
            }),
            status: None,
            active: true,
            serial_number: serial.map(str::to_string),
            model_number: None,
            mac_address: None,
            ip_address: None,
            device_identifier: None,
            manufacturer: None,
            vendor: None,
            notes: notes.map(str::to_string),
            questions: Vec::new(),
            updated_at: None,
            raw: "{}".into(),
        }
    }

    fn settings(identifiers: Vec<Identifier>) -> InventorySettings {
        InventorySettings {
            identifiers,
            create_missing: true,
            use_type_when_matching: false,
            only_active: false,
            mark_active: None,
            inactivate_on_delete: None,
            only_managed: false,
            class_types: Default::default(),
            makes: Default::default(),
            auto_makes: false,
            fields: Vec::new(),
            companies: Default::default(),
            create_extra: None,
        }
    }

    /// The configuration the device is mapped to (or why not), by `identifiers`.
    fn decide(identifiers: Vec<Identifier>, configs: &[Configuration], device: &Device) -> String {
        let s = settings(identifiers);
        let resolved = Resolved::default();
        let planner = Planner {
            settings: &s,
            resolved: &resolved,
            read_only_types: &[],
            today: "2026-01-05",
        };
        let mut index = OwnedIndex::new(rule_set(&s));
        for c in configs {
            index.insert(candidate(c, &s));
        }
        let view = index.view();
        match planner.plan(device, Some("c1"), None, None, &view, |id| {
            configs.iter().find(|c| c.id == id)
        }) {
            Plan::Sync {
                configuration_id,
                decided_by,
                ..
            } => format!("{configuration_id} by {decided_by}"),
            Plan::NotSynced(why) => why.describe(),
            Plan::Create { .. } => "create".into(),
            Plan::Waiting => "waiting".into(),
        }
    }

    fn device(name: Option<&str>, host: Option<&str>, serial: Option<&str>) -> Device {
        Device {
            id: "d".into(),
            device_name: name.map(str::to_string),
            host_name: host.map(str::to_string),
            serial_number: serial.map(str::to_string),
            managed: true,
            first_online: Some("2026-01-05T08:00:00Z".into()),
            ..Device::default()
        }
    }

    #[test]
    fn identifiers_in_priority_order_or_combined() {
        let configs = [
            configuration("x", "Other name", Some("SN-0001"), None),
            configuration("y", "CORE SWITCH", Some("SN-0002"), Some("pc-01")),
        ];
        let d = device(
            Some("Core switch"),
            Some("PC-01.corp.example"),
            Some("SN-0001"),
        );
        use Identifier::*;
        assert_eq!(
            decide(vec![SerialNumber, DeviceName], &configs, &d),
            "x by serial-number"
        );
        assert_eq!(
            decide(vec![DeviceName, SerialNumber], &configs, &d),
            "y by device-name"
        );
        // OR: the serial matches nothing, the next identifier decides.
        let d2 = device(Some("Core switch"), None, Some("SN-9999"));
        assert_eq!(
            decide(vec![SerialNumber, DeviceName], &configs, &d2),
            "y by device-name"
        );
        // The host name in the notes (with or without its domain), or in the name.
        assert_eq!(
            decide(vec![HostName(HostNameField::Notes)], &configs, &d),
            "y by host-name"
        );
        let named = [configuration("z", "pc-01", None, None)];
        assert_eq!(
            decide(vec![HostName(HostNameField::Name)], &named, &d),
            "z by host-name"
        );
        // Placeholders identify nothing.
        let unknown = device(Some("Unknown"), None, Some("To be filled by O.E.M."));
        assert_eq!(
            decide(vec![SerialNumber, DeviceName], &configs, &unknown),
            "only identifier unknown"
        );
        // Nothing matches and no class maps: not created.
        let new = device(Some("New"), None, Some("SN-7777"));
        assert_eq!(
            decide(vec![SerialNumber], &configs, &new),
            "class not mapped (no class)"
        );
    }

    #[test]
    fn automatic_makes_add_only_new_ones() {
        let catalog = Catalog {
            manufacturers: vec![
                Entry {
                    id: "1".into(),
                    name: "Cisco".into(),
                },
                Entry {
                    id: "2".into(),
                    name: "HP".into(),
                },
            ],
            vendors: vec![Entry {
                id: "9".into(),
                name: "Cisco Systems, Inc.".into(),
            }],
            ..Catalog::default()
        };
        let mut s = settings(vec![Identifier::SerialNumber]);
        s.makes
            .insert("hp".into(), super::super::settings::MakeMapping::default());
        let stored = [("dell".to_string(), (None, Some("3".to_string())))].into();
        let added = auto_makes(
            ["Cisco", "cisco", "HP", "Dell", "Acme"],
            &s,
            &stored,
            &catalog,
        );
        assert_eq!(
            added,
            [(
                "cisco".to_string(),
                "Cisco".to_string(),
                None,
                Some("1".to_string())
            )],
            "Cisco once (its vendor's name has more than the make); HP is the operator's, Dell mapped before, Acme unknown"
        );
    }
}
