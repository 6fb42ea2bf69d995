//! tollgate: a secret scanner for Git repositories that knows Kubernetes.
//!
//! Data moves one way: a `source` yields blobs, the `engine` turns bytes into candidate
//! findings, and a `report` turns findings into bytes. `scan` wires one run together;
//! `cli` is the only place that knows about command-line flags.

pub mod added_lines;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod credfiles;
pub mod engine;
pub mod finding;
pub mod hook;
pub mod k8s;
pub mod report;
pub mod scan;
pub mod snippet;
pub mod source;
pub mod staged;
