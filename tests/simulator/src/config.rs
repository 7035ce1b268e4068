//! Simulator configuration.

use std::net::{Ipv4Addr, SocketAddr};

use crate::faults::FaultConfig;

/// The PSA API a simulator speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Dialect {
    /// ConnectWise Manage (ConnectWise PSA) REST API 3.0.
    #[value(name = "connectwise")]
    ConnectWise,
}

/// Demo credentials of the ConnectWise dialect (not secrets: they only open the simulator).
pub mod demo {
    /// Company id.
    pub const COMPANY_ID: &str = "psahost-demo";
    /// Public key of the read-write API key.
    pub const PUBLIC_KEY: &str = "demo-public";
    /// Private key of the read-write API key.
    pub const PRIVATE_KEY: &str = "demo-private";
    /// Registered client id (the `clientId` header).
    pub const CLIENT_ID: &str = "psahost-demo-client";
    /// Public key of the read-only API key.
    pub const READONLY_PUBLIC_KEY: &str = "demo-readonly";
    /// Private key of the read-only API key.
    pub const READONLY_PRIVATE_KEY: &str = "demo-readonly-private";
}

/// The credentials the ConnectWise dialect accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectWiseCredentials {
    /// Company id (compared ignoring case, as ConnectWise does).
    pub company_id: String,
    /// Public key of the read-write API key.
    pub public_key: String,
    /// Private key of the read-write API key.
    pub private_key: String,
    /// The registered client id.
    pub client_id: String,
    /// Public key of an API key whose security role may read but not write (403 on writes).
    pub readonly_public_key: String,
    /// Private key of the read-only API key.
    pub readonly_private_key: String,
}

impl Default for ConnectWiseCredentials {
    /// The [`demo`] credentials.
    fn default() -> Self {
        ConnectWiseCredentials {
            company_id: demo::COMPANY_ID.into(),
            public_key: demo::PUBLIC_KEY.into(),
            private_key: demo::PRIVATE_KEY.into(),
            client_id: demo::CLIENT_ID.into(),
            readonly_public_key: demo::READONLY_PUBLIC_KEY.into(),
            readonly_private_key: demo::READONLY_PRIVATE_KEY.into(),
        }
    }
}

/// Everything needed to start a [`Simulator`](crate::Simulator).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// The API dialect served.
    pub dialect: Dialect,
    /// Seed of the generated data set.
    pub seed: u64,
    /// Number of companies generated.
    pub companies: usize,
    /// Total number of configurations (default: 0 to 10 per client company).
    pub configurations: Option<usize>,
    /// Accepted credentials.
    pub credentials: ConnectWiseCredentials,
    /// Fault injection at start (adjustable later through [`Simulator::faults`](crate::Simulator::faults)).
    pub faults: FaultConfig,
    /// Address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
}

impl SimConfig {
    /// A ConnectWise simulator on `127.0.0.1:0` with `companies` companies from `seed`, the demo
    /// credentials and no faults.
    pub fn connectwise(companies: usize, seed: u64) -> SimConfig {
        SimConfig {
            dialect: Dialect::ConnectWise,
            seed,
            companies,
            configurations: None,
            credentials: ConnectWiseCredentials::default(),
            faults: FaultConfig::default(),
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        }
    }
}
