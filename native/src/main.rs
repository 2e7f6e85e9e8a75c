//! `lvslab`: the LVS Lab command line.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;

mod assets;
mod serve;
mod sim;

#[derive(Parser, Debug)]
#[command(
    name = "lvslab",
    version,
    about = "LVS Lab: learn and drive Linux IPVS in Direct Routing mode"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the lab (the simulator runs in your browser) over HTTP.
    Serve {
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
        listen: SocketAddr,
    },
    /// Run a lab script in the simulator and print the transcript.
    Sim {
        /// Scenario to start from (`bare`, …).
        #[arg(long, default_value = "bare")]
        scenario: String,
        /// Lab script: lines `HOST# COMMAND` and `# comments`; `-` reads stdin.
        #[arg(long, value_name = "FILE")]
        script: String,
        /// Print the packet trace as JSON instead of the transcript.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lvslab: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve { listen } => serve::run(listen),
        Command::Sim {
            scenario,
            script,
            json,
        } => sim::run(&scenario, &script, json),
    }
}
