//! A stateful loopback PSA simulator for tests, demos and plugin authors.
//!
//! It generates a deterministic data set (companies, contacts, agreements with billable lines,
//! configurations, tickets with notes, picklists) from a seed and serves it through a vendor's
//! REST dialect, faithfully enough that a real connector cannot tell the difference: ConnectWise
//! Manage, Autotask or Kaseya BMS ([`Dialect`]; see `README.md` for their exact conventions).
//! Fault knobs inject rate limiting, server errors, slow responses and malformed bodies; each
//! dialect adds its own limits (Autotask's thread limit and hourly budget, BMS's per-endpoint
//! budget and token expiry).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use psa_sim::{Entity, SimConfig, Simulator};
//!
//! let sim = Simulator::start(SimConfig::connectwise(50, 1)).await?;
//! println!("site: {}", sim.origin());
//! sim.faults().set_too_many_requests(10, 2);
//! let id = sim.state().ids(Entity::Company)[0];
//! sim.state().touch(Entity::Company, id);
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod cli;
mod config;
pub mod data;
mod dialect;
mod faults;
mod simulator;
mod state;

pub use cli::{SimArgs, run};
pub use config::{
    AutotaskConfig, ConnectWiseCredentials, Dialect, KaseyaBmsConfig, SimConfig, demo,
};
pub use data::{DataSet, Entity, Id};
pub use faults::{Fault, FaultConfig, FaultPlan, Faults};
pub use simulator::{ConnectorSetting, Simulator};
pub use state::{DEFAULT_CODEBASE, SimState};
