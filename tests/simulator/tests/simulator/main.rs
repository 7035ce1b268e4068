//! The simulator over loopback with plain reqwest clients, one module per dialect and concern:
//! access and authentication, reads and paging, conditions and filters, writes, limits, faults
//! and the server's lifecycle.

mod autotask_access;
mod autotask_datasets;
mod autotask_limits;
mod autotask_reads;
mod autotask_writes;
mod common;
mod configuration_fields;
mod connectwise_access;
mod connectwise_conditions;
mod connectwise_datasets;
mod connectwise_paging;
mod connectwise_writes;
mod faults;
mod kaseya_bms_auth;
mod kaseya_bms_datasets;
mod kaseya_bms_limits;
mod kaseya_bms_reads;
mod kaseya_bms_writes;
mod lifecycle;
mod schema;
