//! Command-line glue: `psahost sim` embeds [`SimArgs`] and calls [`run`].

use std::future::Future;
use std::net::SocketAddr;

use anyhow::bail;

use crate::config::{
    AutotaskConfig, ConnectWiseCredentials, Dialect, KaseyaBmsConfig, SimConfig, demo,
};
use crate::data::Entity;
use crate::faults::FaultConfig;
use crate::simulator::Simulator;

/// Options of the simulator command.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct SimArgs {
    /// PSA API dialect to speak.
    #[arg(long, value_enum, default_value_t = Dialect::ConnectWise)]
    pub dialect: Dialect,
    /// Number of companies to generate; contacts, agreements, configurations and tickets follow from it.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub records: usize,
    /// Seed of the generated data: the same seed gives the same data.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Total number of configurations to generate instead of 0 to 10 per client company.
    #[arg(long, value_name = "N")]
    pub configurations: Option<usize>,
    /// Address to listen on (loopback only unless --allow-remote).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8700")]
    pub bind: SocketAddr,
    /// Allow a non-loopback --bind (the simulator accepts well-known demo credentials).
    #[arg(long)]
    pub allow_remote: bool,
    /// ConnectWise company id the simulator accepts.
    #[arg(long, value_name = "ID", default_value = demo::COMPANY_ID, help_heading = "ConnectWise dialect")]
    pub company_id: String,
    /// Public key of the accepted read-write API key.
    #[arg(long, value_name = "KEY", default_value = demo::PUBLIC_KEY, help_heading = "ConnectWise dialect")]
    pub public_key: String,
    /// Private key of the accepted read-write API key (a demo credential, not a secret).
    #[arg(long, value_name = "KEY", default_value = demo::PRIVATE_KEY, help_heading = "ConnectWise dialect")]
    pub private_key: String,
    /// Client id the simulator accepts in the clientId header.
    #[arg(long, value_name = "ID", default_value = demo::CLIENT_ID, help_heading = "ConnectWise dialect")]
    pub client_id: String,
    /// Public key of an API key that may read but gets 403 on writes.
    #[arg(long, value_name = "KEY", default_value = demo::READONLY_PUBLIC_KEY, help_heading = "ConnectWise dialect")]
    pub readonly_public_key: String,
    /// Private key of the read-only API key.
    #[arg(long, value_name = "KEY", default_value = demo::READONLY_PRIVATE_KEY, help_heading = "ConnectWise dialect")]
    pub readonly_private_key: String,
    /// Username of the Autotask API user (the `UserName` header; compared ignoring case).
    #[arg(long, value_name = "NAME", default_value = demo::autotask::USERNAME, help_heading = "Autotask dialect")]
    pub autotask_username: String,
    /// Secret of the Autotask API user (a demo credential, not a secret).
    #[arg(long, value_name = "SECRET", default_value = demo::autotask::SECRET, help_heading = "Autotask dialect")]
    pub autotask_secret: String,
    /// API tracking identifier accepted in the `ApiIntegrationCode` header.
    #[arg(long, value_name = "CODE", default_value = demo::autotask::INTEGRATION_CODE, help_heading = "Autotask dialect")]
    pub autotask_integration_code: String,
    /// A known Autotask user that is not an API-only user (refused with a security-level error).
    #[arg(long, value_name = "NAME", default_value = demo::autotask::NON_API_USERNAME, help_heading = "Autotask dialect")]
    pub autotask_non_api_username: String,
    /// Autotask requests allowed per rolling 60 minutes (0: no limit).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10_000,
        help_heading = "Autotask dialect"
    )]
    pub autotask_hourly_requests: u64,
    /// Autotask concurrent requests per user, tracking identifier and entity (0: no limit).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 3,
        help_heading = "Autotask dialect"
    )]
    pub autotask_threads: usize,
    /// Latency added to every Autotask request once half the hourly budget is used.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 0,
        help_heading = "Autotask dialect"
    )]
    pub autotask_latency_ms: u64,
    /// Kaseya BMS tenant (the company name on the login page; compared ignoring case).
    #[arg(long, value_name = "NAME", default_value = demo::kaseya_bms::TENANT, help_heading = "Kaseya BMS dialect")]
    pub bms_tenant: String,
    /// Kaseya BMS user that may read and write.
    #[arg(long, value_name = "NAME", default_value = demo::kaseya_bms::USERNAME, help_heading = "Kaseya BMS dialect")]
    pub bms_username: String,
    /// Password of that user (a demo credential, not a secret).
    #[arg(long, value_name = "PASSWORD", default_value = demo::kaseya_bms::PASSWORD, help_heading = "Kaseya BMS dialect")]
    pub bms_password: String,
    /// Kaseya BMS user that may only read (403 on writes).
    #[arg(long, value_name = "NAME", default_value = demo::kaseya_bms::READONLY_USERNAME, help_heading = "Kaseya BMS dialect")]
    pub bms_readonly_username: String,
    /// Password of the read-only user.
    #[arg(long, value_name = "PASSWORD", default_value = demo::kaseya_bms::READONLY_PASSWORD, help_heading = "Kaseya BMS dialect")]
    pub bms_readonly_password: String,
    /// A disabled Kaseya BMS user (every login gets UserDisabled).
    #[arg(long, value_name = "NAME", default_value = demo::kaseya_bms::DISABLED_USERNAME, help_heading = "Kaseya BMS dialect")]
    pub bms_disabled_username: String,
    /// Lifetime of Kaseya BMS access tokens in seconds (`expiresIn`).
    #[arg(long, value_name = "SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(1..), help_heading = "Kaseya BMS dialect")]
    pub bms_token_lifetime: u64,
    /// Kaseya BMS calls allowed per rolling hour per endpoint (0: no limit).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1500,
        help_heading = "Kaseya BMS dialect"
    )]
    pub bms_hourly_calls: u64,
    /// Answer every Nth API request with 429 Too Many Requests (0: never).
    #[arg(long = "fault-429-every", value_name = "N", default_value_t = 0)]
    pub fault_429_every: u64,
    /// Retry-After seconds sent with injected 429s.
    #[arg(long, value_name = "SECS", default_value_t = 1)]
    pub retry_after: u64,
    /// Answer every Nth API request with a server error (0: never).
    #[arg(long = "fault-5xx-every", value_name = "N", default_value_t = 0)]
    pub fault_5xx_every: u64,
    /// Status of injected server errors.
    #[arg(long = "fault-5xx-status", value_name = "STATUS", default_value_t = 503,
          value_parser = clap::value_parser!(u16).range(500..=599))]
    pub fault_5xx_status: u16,
    /// Delay every API response by M milliseconds.
    #[arg(long, value_name = "M", default_value_t = 0)]
    pub delay_ms: u64,
    /// Answer every Nth API request with a truncated (malformed) JSON body (0: never).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub malformed_every: u64,
}

impl SimArgs {
    /// The simulator configuration these options describe; refuses a non-loopback address
    /// without `--allow-remote`.
    pub fn to_config(&self) -> anyhow::Result<SimConfig> {
        if !self.bind.ip().is_loopback() && !self.allow_remote {
            bail!(
                "refusing to listen on '{}': it is not a loopback address and the simulator accepts demo \
                 credentials; use 127.0.0.1 or pass --allow-remote",
                self.bind
            );
        }
        Ok(SimConfig {
            dialect: self.dialect,
            seed: self.seed,
            companies: self.records,
            configurations: self.configurations,
            credentials: ConnectWiseCredentials {
                company_id: self.company_id.clone(),
                public_key: self.public_key.clone(),
                private_key: self.private_key.clone(),
                client_id: self.client_id.clone(),
                readonly_public_key: self.readonly_public_key.clone(),
                readonly_private_key: self.readonly_private_key.clone(),
            },
            autotask: AutotaskConfig {
                username: self.autotask_username.clone(),
                secret: self.autotask_secret.clone(),
                integration_code: self.autotask_integration_code.clone(),
                non_api_username: self.autotask_non_api_username.clone(),
                hourly_requests: self.autotask_hourly_requests,
                threads_per_endpoint: self.autotask_threads,
                latency_ms: self.autotask_latency_ms,
            },
            kaseya_bms: KaseyaBmsConfig {
                tenant: self.bms_tenant.clone(),
                username: self.bms_username.clone(),
                password: self.bms_password.clone(),
                readonly_username: self.bms_readonly_username.clone(),
                readonly_password: self.bms_readonly_password.clone(),
                disabled_username: self.bms_disabled_username.clone(),
                token_lifetime_secs: self.bms_token_lifetime,
                hourly_calls_per_endpoint: self.bms_hourly_calls,
            },
            faults: FaultConfig {
                too_many_requests_every: self.fault_429_every,
                retry_after_secs: self.retry_after,
                server_error_every: self.fault_5xx_every,
                server_error_status: self.fault_5xx_status,
                delay_ms: self.delay_ms,
                malformed_every: self.malformed_every,
            },
            bind: self.bind,
        })
    }
}

/// What a connector needs to reach the simulator, as printed at start.
fn banner(sim: &Simulator) -> String {
    let c = sim.config();
    let state = sim.state();
    let counts = Entity::ALL
        .iter()
        .map(|e| {
            let label = match (e, c.dialect) {
                (Entity::Company, Dialect::KaseyaBms) => "accounts",
                (Entity::Company, _) => "companies",
                (Entity::Contact, _) => "contacts",
                (Entity::Agreement, Dialect::ConnectWise) => "agreements",
                (Entity::Agreement, _) => "contracts",
                (Entity::AgreementLine, Dialect::ConnectWise) => "agreement additions",
                (Entity::AgreementLine, _) => "contract services",
                (Entity::Configuration, Dialect::Autotask) => "configuration items",
                (Entity::Configuration, Dialect::KaseyaBms) => "configurations (not served)",
                (Entity::Configuration, _) => "configurations",
                (Entity::Ticket, _) => "tickets",
                (Entity::Note, _) => "ticket notes",
            };
            format!("{} {label}", state.count(*e))
        })
        .collect::<Vec<_>>()
        .join(", ");
    // The datasets, in a line of their own: connector authors look for them by name.
    let datasets = state.read(|d| {
        let ds = &d.datasets;
        format!(
            "{} time entries, {} opportunities, {} projects with {} tasks, {} invoices, {} members, \
             {} company notes, {} sites, {} contract blocks, {} SLA results, {} survey results",
            ds.time_entries.len(),
            ds.opportunities.len(),
            ds.projects.len(),
            ds.project_tasks.len(),
            ds.invoices.len(),
            ds.members.len(),
            ds.company_notes.len(),
            ds.sites.len(),
            ds.contract_blocks.len(),
            ds.sla_results.len(),
            ds.survey_results.len()
        )
    });
    let f = &c.faults;
    let faults = if *f == FaultConfig::default() {
        "none".to_string()
    } else {
        format!(
            "429 every {} (Retry-After {}s), {} every {}, delay {} ms, malformed every {}",
            f.too_many_requests_every,
            f.retry_after_secs,
            f.server_error_status,
            f.server_error_every,
            f.delay_ms,
            f.malformed_every
        )
    };
    let origin = sim.origin();
    let listed = sim.connector_settings();
    let width = listed.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut settings = vec!["connector settings:".to_string()];
    for s in &listed {
        let note = if s.secret {
            "   (demo credential of the simulator, not a secret)"
        } else {
            ""
        };
        settings.push(format!("  {:width$}  {}{note}", s.name, s.value));
    }
    settings.extend(match c.dialect {
        Dialect::ConnectWise => {
            let creds = &c.credentials;
            vec![
                format!(
                    "read-only key pair (403 on writes): {} / {}",
                    creds.readonly_public_key, creds.readonly_private_key
                ),
                format!(
                    "codebase discovery: {origin}/login/companyinfo/{}",
                    creds.company_id
                ),
            ]
        }
        Dialect::Autotask => {
            let a = &c.autotask;
            vec![
                format!(
                    "zone discovery: {origin}/atservicesrest/v1.0/zoneInformation?user={}",
                    a.username
                ),
                format!("zone URL: {}", state.autotask_zone_url()),
                format!("user that is not an API user: {}", a.non_api_username),
                format!(
                    "limits: {} requests per 60 minutes, {} concurrent requests per entity",
                    a.hourly_requests, a.threads_per_endpoint
                ),
            ]
        }
        Dialect::KaseyaBms => {
            let b = &c.kaseya_bms;
            vec![
                format!(
                    "read-only user (403 on writes): {} / {}",
                    b.readonly_username, b.readonly_password
                ),
                format!("disabled user: {}", b.disabled_username),
                format!(
                    "limits: tokens live {} s, {} calls per hour per endpoint",
                    b.token_lifetime_secs, b.hourly_calls_per_endpoint
                ),
            ]
        }
    });
    let settings = settings.join("\n");
    format!(
        "PSA simulator ({dialect}) listening on {origin}\n\
         data: seed {seed}: {counts}\n\
         datasets: {datasets}\n\
         faults: {faults}\n\
         \n\
         {settings}\n\
         \n\
         Press Ctrl-C to stop.",
        dialect = c.dialect.product(),
        seed = c.seed,
    )
}

/// Starts the simulator, prints its origin and the connector settings, and serves until `stop`
/// completes; then shuts down gracefully.
async fn run_until(args: SimArgs, stop: impl Future<Output = ()>) -> anyhow::Result<()> {
    let config = args.to_config()?;
    let sim = Simulator::start(config).await?;
    println!("{}", banner(&sim));
    stop.await;
    println!("stopping the PSA simulator");
    sim.shutdown().await;
    Ok(())
}

/// Runs the simulator until Ctrl-C.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    run_until(args, async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot wait for Ctrl-C; stopping");
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    #[test]
    fn every_flag_is_documented() {
        let cmd = Cli::command();
        cmd.clone().debug_assert();
        for arg in cmd.get_arguments() {
            assert!(arg.get_help().is_some(), "--{} has no help", arg.get_id());
        }
    }

    #[test]
    fn defaults_and_flags_map_to_the_config() {
        let args = Cli::try_parse_from(["sim"]).unwrap().sim;
        let config = args.to_config().unwrap();
        assert_eq!(config.companies, 50);
        assert_eq!(config.seed, 1);
        assert_eq!(config.bind, "127.0.0.1:8700".parse().unwrap());
        assert_eq!(config.credentials, ConnectWiseCredentials::default());
        assert_eq!(config.autotask, AutotaskConfig::default());
        assert_eq!(config.kaseya_bms, KaseyaBmsConfig::default());
        assert_eq!(config.faults, FaultConfig::default());

        let args = Cli::try_parse_from([
            "sim",
            "--dialect",
            "connectwise",
            "--records",
            "7",
            "--seed",
            "9",
            "--configurations",
            "100",
            "--bind",
            "[::1]:0",
            "--fault-429-every",
            "3",
            "--retry-after",
            "4",
            "--fault-5xx-every",
            "5",
            "--fault-5xx-status",
            "500",
            "--delay-ms",
            "6",
            "--malformed-every",
            "7",
            "--public-key",
            "pk",
        ])
        .unwrap()
        .sim;
        let config = args.to_config().unwrap();
        assert_eq!(
            (config.companies, config.seed, config.configurations),
            (7, 9, Some(100))
        );
        assert_eq!(config.credentials.public_key, "pk");
        assert_eq!(
            config.faults,
            FaultConfig {
                too_many_requests_every: 3,
                retry_after_secs: 4,
                server_error_every: 5,
                server_error_status: 500,
                delay_ms: 6,
                malformed_every: 7,
            }
        );
        assert!(Cli::try_parse_from(["sim", "--fault-5xx-status", "404"]).is_err());
        assert!(Cli::try_parse_from(["sim", "--dialect", "halo"]).is_err());
        let args = Cli::try_parse_from([
            "sim",
            "--dialect",
            "autotask",
            "--autotask-hourly-requests",
            "5",
            "--autotask-threads",
            "1",
        ])
        .unwrap()
        .sim;
        let config = args.to_config().unwrap();
        assert_eq!(config.dialect, Dialect::Autotask);
        assert_eq!(
            (
                config.autotask.hourly_requests,
                config.autotask.threads_per_endpoint
            ),
            (5, 1)
        );
        let args = Cli::try_parse_from([
            "sim",
            "--dialect",
            "kaseya-bms",
            "--bms-token-lifetime",
            "60",
            "--bms-password",
            "pw",
        ])
        .unwrap()
        .sim;
        let config = args.to_config().unwrap();
        assert_eq!(config.dialect, Dialect::KaseyaBms);
        assert_eq!(config.kaseya_bms.token_lifetime_secs, 60);
        assert_eq!(config.kaseya_bms.password, "pw");
        assert!(Cli::try_parse_from(["sim", "--bms-token-lifetime", "0"]).is_err());
    }

    #[test]
    fn refuses_a_remote_bind_without_the_flag() {
        let args = Cli::try_parse_from(["sim", "--bind", "0.0.0.0:8700"])
            .unwrap()
            .sim;
        let err = args.to_config().unwrap_err().to_string();
        assert!(
            err.starts_with("refusing to listen on '0.0.0.0:8700'"),
            "{err}"
        );
        let args = Cli::try_parse_from(["sim", "--bind", "0.0.0.0:8700", "--allow-remote"])
            .unwrap()
            .sim;
        assert!(args.to_config().is_ok());
    }

    #[tokio::test]
    async fn the_banner_lists_the_connector_settings_of_each_dialect() {
        for (dialect, wanted) in [
            ("connectwise", &["site ", "company-id ", "client-id "][..]),
            (
                "autotask",
                &[
                    "username ",
                    "integration-code ",
                    "discovery-url ",
                    "zone URL",
                ][..],
            ),
            (
                "kaseya-bms",
                &["server ", "tenant ", "password ", "disabled user"][..],
            ),
        ] {
            let args = Cli::try_parse_from([
                "sim",
                "--dialect",
                dialect,
                "--bind",
                "127.0.0.1:0",
                "--records",
                "3",
            ])
            .unwrap()
            .sim;
            let sim = Simulator::start(args.to_config().unwrap()).await.unwrap();
            let text = banner(&sim);
            for w in wanted {
                assert!(text.contains(w), "{dialect}: {w} in {text}");
            }
            assert!(text.contains("\ndatasets: "), "{dialect}: {text}");
            assert!(text.contains(" members, "), "{dialect}: {text}");
            for s in sim.connector_settings() {
                assert!(text.contains(&s.value), "{dialect}: {} in {text}", s.name);
            }
            sim.shutdown().await;
        }
    }

    #[tokio::test]
    async fn runs_until_told_to_stop() {
        let args = Cli::try_parse_from(["sim", "--bind", "127.0.0.1:0", "--records", "3"])
            .unwrap()
            .sim;
        run_until(args, async {}).await.unwrap();
    }
}
