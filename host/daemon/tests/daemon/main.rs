//! The daemon in process: its HTTP API over the real ConnectWise connector and the simulator on
//! loopback ([`api`]), and the identity of its plugins ([`plugins`]).

mod api;
mod plugins;
