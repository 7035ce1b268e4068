//! The daemon in process: its HTTP API over the real ConnectWise connector and the simulator on
//! loopback.

mod api;
