//! The sandbox clock: business time is wall time plus an offset operators can move.

use super::super::output::print;
use crate::service::lifecycle::{self, ClockReading};
use crate::state::AppState;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ClockCommand {
    /// Move business time forward; a running server fires what became due within a second.
    Advance {
        #[arg(long)]
        seconds: i64,
        #[arg(long)]
        json: bool,
    },
    /// Show the offset and the current business time.
    Show {
        #[arg(long)]
        json: bool,
    },
}

impl ClockCommand {
    pub(super) async fn run(self, state: &AppState) -> anyhow::Result<()> {
        match self {
            ClockCommand::Advance { seconds, json } => {
                let reading = lifecycle::advance_clock(state, seconds).await?;
                print(&reading, json, clock_text)
            }
            ClockCommand::Show { json } => {
                let reading = lifecycle::read_clock(state).await?;
                print(&reading, json, clock_text)
            }
        }
    }
}

fn clock_text(r: &ClockReading) -> String {
    format!("business time {} (offset {} s)", r.now, r.offset_seconds)
}
