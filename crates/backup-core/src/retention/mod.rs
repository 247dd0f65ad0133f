//! The retention workflow: which backup sets a retention run keeps and deletes ([`plan`]), and which snapshots kept
//! by failed runs the sweeper deletes ([`sweep`]). The `retention` Lambda reads the bucket and ElastiCache, asks
//! these, and deletes ([`run`]: the steps of one run, from the request to the report). Both read the backups
//! through [`facts`].

pub mod facts;
pub mod plan;
pub mod run;
pub mod sweep;
