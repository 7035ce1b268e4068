//! Simulator configuration.

use std::net::{Ipv4Addr, SocketAddr};

use crate::faults::FaultConfig;

/// The PSA API a simulator speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Dialect {
    /// ConnectWise Manage (ConnectWise PSA) REST API 3.0.
    #[value(name = "connectwise")]
    ConnectWise,
    /// Autotask PSA REST API v1.0 (zone discovery, header auth, POST queries).
    #[value(name = "autotask")]
    Autotask,
    /// Kaseya BMS REST API V2 (token login, `{"result": ...}` envelopes).
    #[value(name = "kaseya-bms")]
    KaseyaBms,
}

impl Dialect {
    /// The vendor's product name.
    pub fn product(self) -> &'static str {
        match self {
            Dialect::ConnectWise => "ConnectWise Manage",
            Dialect::Autotask => "Autotask",
            Dialect::KaseyaBms => "Kaseya BMS",
        }
    }
}

/// Demo credentials (not secrets: they only open the simulator). The constants at the top are
/// the ConnectWise dialect's; [`demo::autotask`] and [`demo::kaseya_bms`] hold the others.
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

    /// Demo credentials of the Autotask dialect.
    pub mod autotask {
        /// Username of the API user (Autotask generates one that looks like an e-mail address).
        pub const USERNAME: &str = "demoapi7x2k@psahost-demo.example";
        /// Secret of the API user.
        pub const SECRET: &str = "demo-secret";
        /// API tracking identifier (the `ApiIntegrationCode` header).
        pub const INTEGRATION_CODE: &str = "PSAHOSTDEMOTRACKINGID0001";
        /// A user that exists but is not an API-only user (security level is not API User).
        pub const NON_API_USERNAME: &str = "jsmith@psahost-demo.example";
    }

    /// Demo credentials of the Kaseya BMS dialect.
    pub mod kaseya_bms {
        /// Tenant (company name on the login page).
        pub const TENANT: &str = "Psahost Demo";
        /// User that may read and write.
        pub const USERNAME: &str = "api.psahost";
        /// Its password.
        pub const PASSWORD: &str = "demo-password";
        /// User that may only read (403 on writes).
        pub const READONLY_USERNAME: &str = "readonly";
        /// Its password.
        pub const READONLY_PASSWORD: &str = "demo-readonly";
        /// A disabled user (any password gets `UserDisabled`).
        pub const DISABLED_USERNAME: &str = "disabled.user";
    }
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

/// The Autotask dialect's API users and limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutotaskConfig {
    /// Username of the API user (compared ignoring case).
    pub username: String,
    /// Its secret.
    pub secret: String,
    /// The API tracking identifier sent as `ApiIntegrationCode`.
    pub integration_code: String,
    /// A known user whose security level is not "API User (system)" (refused with 500).
    pub non_api_username: String,
    /// Requests per rolling 60 minutes for the tenant database (Autotask: 10,000); 0: no limit.
    pub hourly_requests: u64,
    /// Concurrent requests per user, tracking identifier and entity (Autotask: 3); 0: no limit.
    pub threads_per_endpoint: usize,
    /// Latency added to every request once half of the hourly budget is used, in milliseconds.
    pub latency_ms: u64,
}

impl Default for AutotaskConfig {
    /// The [`demo::autotask`] credentials and Autotask's real limits.
    fn default() -> Self {
        AutotaskConfig {
            username: demo::autotask::USERNAME.into(),
            secret: demo::autotask::SECRET.into(),
            integration_code: demo::autotask::INTEGRATION_CODE.into(),
            non_api_username: demo::autotask::NON_API_USERNAME.into(),
            hourly_requests: 10_000,
            threads_per_endpoint: 3,
            latency_ms: 0,
        }
    }
}

/// The Kaseya BMS dialect's tenant, users and limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KaseyaBmsConfig {
    /// Tenant name (compared ignoring case).
    pub tenant: String,
    /// User that may read and write (compared ignoring case).
    pub username: String,
    /// Its password (case-sensitive).
    pub password: String,
    /// User that may only read: writes get 403.
    pub readonly_username: String,
    /// Its password.
    pub readonly_password: String,
    /// A disabled user: any login gets `UserDisabled`.
    pub disabled_username: String,
    /// Lifetime of issued access tokens in seconds (`expiresIn`; BMS: 3600).
    pub token_lifetime_secs: u64,
    /// Calls per rolling hour per endpoint (BMS: 1,500); 0: no limit.
    pub hourly_calls_per_endpoint: u64,
}

impl Default for KaseyaBmsConfig {
    /// The [`demo::kaseya_bms`] credentials and BMS's real limits.
    fn default() -> Self {
        KaseyaBmsConfig {
            tenant: demo::kaseya_bms::TENANT.into(),
            username: demo::kaseya_bms::USERNAME.into(),
            password: demo::kaseya_bms::PASSWORD.into(),
            readonly_username: demo::kaseya_bms::READONLY_USERNAME.into(),
            readonly_password: demo::kaseya_bms::READONLY_PASSWORD.into(),
            disabled_username: demo::kaseya_bms::DISABLED_USERNAME.into(),
            token_lifetime_secs: 3600,
            hourly_calls_per_endpoint: 1500,
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
    /// Credentials the ConnectWise dialect accepts.
    pub credentials: ConnectWiseCredentials,
    /// Users and limits of the Autotask dialect.
    pub autotask: AutotaskConfig,
    /// Tenant, users and limits of the Kaseya BMS dialect.
    pub kaseya_bms: KaseyaBmsConfig,
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
            autotask: AutotaskConfig::default(),
            kaseya_bms: KaseyaBmsConfig::default(),
            faults: FaultConfig::default(),
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        }
    }

    /// An Autotask simulator on `127.0.0.1:0` with `companies` companies from `seed`, the demo
    /// API user, Autotask's limits and no faults.
    pub fn autotask(companies: usize, seed: u64) -> SimConfig {
        SimConfig {
            dialect: Dialect::Autotask,
            ..SimConfig::connectwise(companies, seed)
        }
    }

    /// A Kaseya BMS simulator on `127.0.0.1:0` with `companies` companies from `seed`, the demo
    /// tenant and users, BMS's limits and no faults.
    pub fn kaseya_bms(companies: usize, seed: u64) -> SimConfig {
        SimConfig {
            dialect: Dialect::KaseyaBms,
            ..SimConfig::connectwise(companies, seed)
        }
    }
}
