//! The emulator's shared application state: the emulated account behind a lock, the S3 client for exports, the
//! processes of groups created at run time. Every action handler ([`crate::api`], [`crate::events`],
//! [`crate::restore`]) takes it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::nodes::NodeProcess;
use crate::state::State;

/// Shared application state.
pub struct App {
    /// The emulated account.
    pub state: Mutex<State>,
    /// Client of the S3 stand-in, for exports.
    pub s3: aws_sdk_s3::Client,
    /// The processes of groups created at run time (CreateReplicationGroup), by group id.
    processes: Mutex<HashMap<String, Vec<NodeProcess>>>,
    request_ids: AtomicU64,
}

impl App {
    /// Wraps the state and the S3 client.
    pub fn new(state: State, s3: aws_sdk_s3::Client) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(state),
            s3,
            processes: Mutex::new(HashMap::new()),
            request_ids: AtomicU64::new(1),
        })
    }

    /// The processes of groups created at run time.
    pub fn processes(&self) -> MutexGuard<'_, HashMap<String, Vec<NodeProcess>>> {
        self.processes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The state, locked.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new `RequestId` for an answer.
    pub fn request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        format!("00000000-0000-4000-8000-{n:012x}")
    }
}
