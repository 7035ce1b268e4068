//! ConnectWise Manage connector (placeholder while the real one is written).
use psa_sdk::prelude::*;
struct Cw;
impl Connector for Cw {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "connectwise-manage".into(),
            name: "ConnectWise Manage".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "psahost".into(),
            description: String::new(),
            settings: vec![],
            outbound_hosts: vec![],
            operations: vec![],
            rate_limits: vec![],
        }
    }
}
psa_sdk::export_connector!(Cw);
