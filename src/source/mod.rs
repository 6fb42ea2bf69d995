//! Sources yield blobs: bytes plus where they came from. Every job (directory, history,
//! push, index) is a source feeding the same engine.

pub mod dir;
pub mod git;
pub mod index;
pub mod messages;
pub mod ref_content;
pub mod sniff;

use crate::finding::GitContext;

/// Where a blob's bytes came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The path as shown to the user.
    pub path: String,
    /// The path relative to the scan root, `/`-separated: part of the fingerprint.
    pub rel_path: String,
    /// Commit provenance, when the blob came from history.
    pub git: Option<GitContext>,
}

#[derive(Debug, Clone)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub provenance: Provenance,
}
