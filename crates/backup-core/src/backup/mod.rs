//! The backup workflow: the run document every state of the backup state machine passes on ([`run`]), the execution
//! input ([`input`]), starting a backup ([`start`]), target resolution ([`target`]), deciding an export is complete
//! ([`export`]), the manifest a verified backup leaves ([`manifest`]), verifying an export ([`verify`]), deleting the
//! source snapshot ([`cleanup`]), the previous backup's phase durations ([`history`]) and the ownership tag of what a
//! run created ([`ownership`]).

pub mod cleanup;
pub mod export;
pub mod history;
pub mod input;
pub mod manifest;
pub mod ownership;
pub mod run;
pub mod start;
pub mod target;
pub mod verify;
