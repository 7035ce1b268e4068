//! Command-line glue: `psahost sim` embeds [`SimArgs`] and calls [`run`].

use std::future::Future;
use std::net::SocketAddr;

use anyhow::bail;

use crate::config::{ConnectWiseCredentials, Dialect, SimConfig, demo};
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
    #[arg(long, value_name = "ID", default_value = demo::COMPANY_ID)]
    pub company_id: String,
    /// Public key of the accepted read-write API key.
    #[arg(long, value_name = "KEY", default_value = demo::PUBLIC_KEY)]
    pub public_key: String,
    /// Private key of the accepted read-write API key (a demo credential, not a secret).
    #[arg(long, value_name = "KEY", default_value = demo::PRIVATE_KEY)]
    pub private_key: String,
    /// Client id the simulator accepts in the clientId header.
    #[arg(long, value_name = "ID", default_value = demo::CLIENT_ID)]
    pub client_id: String,
    /// Public key of an API key that may read but gets 403 on writes.
    #[arg(long, value_name = "KEY", default_value = demo::READONLY_PUBLIC_KEY)]
    pub readonly_public_key: String,
    /// Private key of the read-only API key.
    #[arg(long, value_name = "KEY", default_value = demo::READONLY_PRIVATE_KEY)]
    pub readonly_private_key: String,
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
    let creds = &c.credentials;
    let state = sim.state();
    let counts = Entity::ALL
        .iter()
        .map(|e| {
            let label = match e {
                Entity::Company => "companies",
                Entity::Contact => "contacts",
                Entity::Agreement => "agreements",
                Entity::AgreementLine => "agreement additions",
                Entity::Configuration => "configurations",
                Entity::Ticket => "tickets",
                Entity::Note => "ticket notes",
            };
            format!("{} {label}", state.count(*e))
        })
        .collect::<Vec<_>>()
        .join(", ");
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
    format!(
        "PSA simulator ({dialect:?}) listening on {origin}\n\
         data: seed {seed}: {counts}\n\
         faults: {faults}\n\
         \n\
         connector settings:\n\
         \x20 site         {origin}\n\
         \x20 company-id   {company}\n\
         \x20 public-key   {public}\n\
         \x20 private-key  {private}   (demo credential of the simulator, not a secret)\n\
         \x20 client-id    {client}\n\
         read-only key pair (403 on writes): {ro_public} / {ro_private}\n\
         codebase discovery: {origin}/login/companyinfo/{company}\n\
         \n\
         Press Ctrl-C to stop.",
        dialect = c.dialect,
        origin = sim.origin(),
        seed = c.seed,
        company = creds.company_id,
        public = creds.public_key,
        private = creds.private_key,
        client = creds.client_id,
        ro_public = creds.readonly_public_key,
        ro_private = creds.readonly_private_key,
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
        assert!(Cli::try_parse_from(["sim", "--dialect", "autotask"]).is_err());
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
    async fn runs_until_told_to_stop() {
        let args = Cli::try_parse_from(["sim", "--bind", "127.0.0.1:0", "--records", "3"])
            .unwrap()
            .sim;
        run_until(args, async {}).await.unwrap();
    }
}
